"""The single-case path plans each statement once (jiancha.quality.rules.prepared): plans are
reused, stay right when the data changes under them, and the single-case path agrees with a
bulk run on varied generated cases."""

import datetime
import random
import threading
from itertools import islice
from typing import Any

import duckdb
import pytest

from jiancha.cases.demo import generate_cases_with_defects
from jiancha.cases.importer import import_records
from jiancha.cases.models import Case
from jiancha.quality import services
from jiancha.quality.models import CaseEvaluation, Finding
from jiancha.quality.rules.engine import Engine
from jiancha.quality.rules.prepared import PreparedConnection

TODAY = datetime.date(2025, 12, 31)


def connection() -> PreparedConnection:
    con = duckdb.connect()
    con.execute("SET threads TO 1")
    return PreparedConnection(con)


def recorded(
    con: PreparedConnection, method: str = "execute", *, normalise: bool = False
) -> list[str]:
    """The statements ``con.<method>`` is called with from now on (whitespace collapsed
    with ``normalise``), in a list that fills as they come."""
    statements: list[str] = []
    original = getattr(con, method)

    def recording(sql: str, *args: Any) -> Any:
        statements.append(" ".join(sql.split()) if normalise else sql)
        return original(sql, *args)

    setattr(con, method, recording)
    return statements


def test_create_table_as_replaces_the_rows_and_reuses_its_plan() -> None:
    con = connection()
    con.execute("CREATE TABLE source (k INTEGER, v INTEGER)")
    statement = "CREATE OR REPLACE TEMP TABLE total AS SELECT k, sum(v) AS s FROM source GROUP BY k"
    con.execute("INSERT INTO source VALUES (1, 1), (2, 2)")
    con.execute(statement)
    con.execute(statement)  # now DELETE FROM total + INSERT INTO total, both planned
    plans = con.plans
    con.execute("DELETE FROM source")
    con.execute("INSERT INTO source SELECT i, i FROM range(5000, 5010) t(i)")
    con.execute(statement)
    assert con.plans == plans + 2  # the two statements on source; total's are reused
    rows = con.execute("SELECT k, s FROM total ORDER BY k").fetchall()
    # Replaced, not appended; and right although the plan was made on keys 1 and 2 (a
    # perfect-hash aggregate sized from those statistics would fail or be wrong here).
    assert rows == [(value, value) for value in range(5000, 5010)]


def test_a_plan_made_on_an_empty_table_sees_rows_added_later() -> None:
    con = connection()
    con.execute("CREATE TABLE source (k INTEGER)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hits AS SELECT k FROM source WHERE k > 100"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hits AS SELECT k FROM source WHERE k > 100"
    )
    assert con.execute("SELECT count(*) FROM hits").fetchone() == (0,)
    con.execute("INSERT INTO source VALUES (5), (500)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hits AS SELECT k FROM source WHERE k > 100"
    )
    assert con.execute("SELECT k FROM hits").fetchall() == [(500,)]


def test_a_new_variable_value_or_a_catalog_change_plans_again() -> None:
    con = connection()
    con.execute("SET VARIABLE today = ?", [datetime.date(2025, 1, 1)])
    query = "SELECT getvariable('today')"
    assert con.execute(query).fetchone() == (datetime.date(2025, 1, 1),)
    plans = con.plans
    con.execute("SET VARIABLE today = ?", [datetime.date(2025, 1, 1)])
    assert con.execute(query).fetchone() == (datetime.date(2025, 1, 1),)
    assert con.plans == plans  # the same value: the plan stays
    # DuckDB folds getvariable() into the plan: a new value needs a new plan.
    con.execute("SET VARIABLE today = ?", [datetime.date(2026, 2, 3)])
    assert con.execute(query).fetchone() == (datetime.date(2026, 2, 3),)
    assert con.plans == plans + 1
    con.execute("CREATE OR REPLACE TEMP VIEW v AS SELECT 1 AS one")
    assert con.execute(query).fetchone() == (datetime.date(2026, 2, 3),)
    assert con.plans == plans + 2


def test_plan_prepares_the_statements_of_another_connection() -> None:
    # What a new single-case connection does with the statements of the one it replaces:
    # plans them without running them, so that running them later plans nothing.
    old, new = connection(), connection()
    for con in (old, new):
        con.execute("CREATE TABLE source (k INTEGER, v INTEGER)")
        con.raw.execute("INSERT INTO source VALUES (1, 10), (1, 5), (2, 7)")
    total = "CREATE OR REPLACE TEMP TABLE total AS SELECT k, sum(v) AS s FROM source GROUP BY k"
    query = "SELECT max(s) FROM total"
    for _ in range(2):
        old.execute(total)
        old.execute(query)
    assert old.statements() == [
        query,
        "DELETE FROM total",
        "INSERT INTO total SELECT k, sum(v) AS s FROM source GROUP BY k",
    ]
    # ``total`` does not exist on the new connection yet: nothing on it binds.
    assert new.plan(old.statements()) == 0
    new.execute(total)  # creates it (a catalog change: plans are made again after it)
    missing = "SELECT count(*) FROM not_a_table"
    assert new.plan([total, *old.statements(), missing]) == 3
    plans = new.plans
    new.execute(total)
    assert new.execute(query).fetchone() == (15,)
    assert new.plans == plans  # both from the plans made by plan()
    assert new.execute("SELECT count(*) FROM total").fetchone() == (2,)  # replaced


def test_replace_rows_keeps_one_table_of_fixed_name() -> None:
    con = connection()
    columns = "id BIGINT, name VARCHAR"
    assert con.replace_rows("raw", columns, [(1, "a"), (2, "b")]) == "raw"
    assert con.replace_rows("raw", columns, [(3, "c")]) == "raw"
    assert con.execute("SELECT * FROM raw").fetchall() == [(3, "c")]
    con.replace_rows("raw", columns, [])
    assert con.execute("SELECT count(*) FROM raw").fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_single_case_path_agrees_with_a_bulk_run_on_generated_cases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One connection throughout (the plans counted at the end are this connection's).
    monkeypatch.setattr(services, "SMALL_CONNECTION_USES", 10**6)
    records = [
        record
        for record, _defects in islice(generate_cases_with_defects(400, seed=9), 400)
    ]
    import_records(records, notify=False)
    services.evaluation_run(today=TODAY)
    findings = set(
        Finding.objects.filter(current=True).values_list("case_id", "fingerprint")
    )
    grades = dict(CaseEvaluation.objects.values_list("case_id", "grade"))
    assert len(findings) > 10
    assert len(set(grades.values())) > 1
    cases = list(Case.objects.all())
    random.Random(2).shuffle(cases)
    # One case after another on the thread's prepared connection: every plan made on one
    # case's data must hold for the next. Nothing may change: the bulk run stored the same.
    changed = []
    for case in cases[:150]:
        result = services.case_evaluate(case, today=TODAY)
        if result.raised or result.retired:
            changed.append((case.case_id, result.raised, result.retired))
    assert not changed
    assert (
        set(Finding.objects.filter(current=True).values_list("case_id", "fingerprint"))
        == findings
    )
    assert {
        case_id: grade
        for case_id, grade in CaseEvaluation.objects.values_list("case_id", "grade")
        if case_id in grades
    } == grades
    con = services._local.connections[id(services.default_engine())][0]
    for case in cases[:20]:
        # A table met for the first time was created above; its statements are planned now.
        services.case_evaluate(case, today=TODAY)
    plans = con.plans
    for case in cases[:20]:
        services.case_evaluate(case, today=TODAY)
    assert con.plans == plans  # the same cases again: every statement from its plan


@pytest.mark.django_db(transaction=True)
def test_a_new_small_connection_plans_before_its_first_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``Engine.warm``: a new single-case connection has every table the single-case path
    writes (prosecution reviews with one or two returns included) and the statements of
    each single procedure, line and rule-set version planned. Evaluating cases of every
    kind then plans nothing for a case evaluated on its own, and never plans a statement
    twice (a table created later would change the catalog and make every plan again)."""
    from jiancha.quality.tests.test_rules import _random_prosecution

    records = [
        record
        for record, _defects in islice(generate_cases_with_defects(300, seed=11), 300)
    ]
    rng = random.Random(3)
    reviews = []
    while len(reviews) < 40:
        review = _random_prosecution(rng, len(reviews))
        returns = [
            e for e in review["events"] if e["type"] == "returned_for_investigation"
        ]
        if len(returns) <= 2:  # the law allows two; a third makes its tables when met
            reviews.append((review, len(returns)))
    assert {returns for _review, returns in reviews} == {0, 1, 2}
    import_records(records + [review for review, _returns in reviews], notify=False)
    monkeypatch.setattr(services, "_local", threading.local())
    monkeypatch.setattr(services, "SMALL_CONNECTION_USES", 10**6)
    engine = services.default_engine()
    cases = list(Case.objects.order_by("pk"))
    assert len({case.procedure for case in cases}) >= 5
    services.case_evaluate(cases[0], today=TODAY)  # makes the connection
    con = services._local.connections[id(engine)][0]
    plans, names = con.plans, len(con.names)
    alone = 0
    for case in cases:
        before = con.plans
        services.case_evaluate(case, today=TODAY)
        if services.with_matters([case.pk]) == [case.pk]:
            alone += 1
            assert con.plans == before, (case.procedure, case.business_line)
    assert alone > 200
    assert services._local.connections[id(engine)][0] is con
    # Plans made for cases evaluated with the other records of their matter (scopes of two
    # procedures) are of statements met for the first time, each planned once.
    assert con.plans - plans == len(con.names) - names


def test_simple_prosecution_reviews_get_the_deadlines_of_the_review_clock() -> None:
    """On the single-case path, a prosecution review without return, resubmission or
    extension and without a decision dated before receipt gets its deadline row from one
    statement (``SIMPLE_REVIEW_ROWS``) instead of the review clock's. On random reviews
    (returns, extensions, decisions before receipt, fast track, open ones, several
    persons) the deadlines, findings and grades are a fresh connection's, which follows
    the clock; and the shortcut is taken exactly when that connection's clock calls the
    review simple."""
    from jiancha.quality.rules.base import SIMPLE_REVIEW_ROWS
    from jiancha.quality.rules.source import load_from_rows
    from jiancha.quality.tests.test_rules import _random_prosecution
    from jiancha.quality.tests.test_rules_cases import exchange_rows

    engine = Engine(models=False)
    con = PreparedConnection(engine.connect(threads=1))
    engine.warm(con, today=TODAY)
    fresh = engine.connect(threads=1)
    execute = con.execute
    statements = recorded(con)
    deadline_sql = (
        "SELECT key, subject, start, due, ended_on, status FROM dl ORDER BY ALL"
    )
    rng = random.Random(17)
    taken = 0
    for number in range(120):
        rows = exchange_rows([_random_prosecution(rng, number)])
        statements.clear()
        load_from_rows(con, **rows, existing=False)
        findings, grades, _skipped = engine.evaluate_rows(
            con, today=TODAY, cases=rows["cases"], events=rows["events"]
        )
        load_from_rows(fresh, **rows, existing=False)
        expected, expected_grades, _skipped = engine.evaluate_rows(fresh, today=TODAY)
        assert (
            execute(deadline_sql).fetchall() == fresh.execute(deadline_sql).fetchall()
        )
        assert sorted(findings) == sorted(expected)
        assert grades == expected_grades
        (simple,) = fresh.execute("SELECT bool_and(simple) FROM pr_period_0").fetchone()
        assert (SIMPLE_REVIEW_ROWS in statements) == simple, rows
        taken += simple
    assert 20 < taken < 100


@pytest.mark.django_db(transaction=True)
def test_a_new_day_plans_the_statements_again_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``today`` is folded into every plan: on a new day the thread's connection plans its
    statements again in the call that meets it (``Engine.new_day``), and the evaluation
    counts the open review against the new day."""
    from jiancha.quality.tests.test_rules_cases import prosecution

    # Received Mon 4 Mar 2024, not decided, still open: the one-month review is running on
    # 20 Mar and overdue at the end of 2025 (CR-T05).
    record = prosecution(decided=None, closed=None, judgment=False)
    import_records([record], notify=False)
    case = Case.objects.get(case_id=record["case_id"])
    monkeypatch.setattr(services, "_local", threading.local())
    monkeypatch.setattr(services, "SMALL_CONNECTION_USES", 10**6)
    planned = {}
    new_day = Engine.new_day

    def counting_new_day(self: Engine, con: PreparedConnection, **options: Any) -> None:
        new_day(self, con, **options)
        planned[options["today"]] = con.plans

    monkeypatch.setattr(Engine, "new_day", counting_new_day)
    early = datetime.date(2024, 3, 20)
    assert services.case_evaluate(case, today=early).findings == 0
    services.case_evaluate(case, today=early)
    con = services._local.connections[id(services.default_engine())][0]
    assert not planned  # the same day: nothing planned again
    plans = con.plans
    result = services.case_evaluate(case, today=TODAY)
    assert (
        planned[TODAY] > plans
    )  # planned again for the new day, before the evaluation
    assert con.plans == planned[TODAY]  # ... which then planned nothing
    assert services._local.connections[id(services.default_engine())][0] is con
    assert result.findings >= 1
    assert Finding.objects.filter(case=case, rule_id="CR-T05", current=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_small_connection_is_replaced_after_its_evaluations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After ``SMALL_CONNECTION_USES`` evaluations the thread gets a new connection, made
    ready before its first case, which finds the same. (Each evaluation is rolled back,
    so that the connection's tables keep no rows, deleted or not.)"""
    records = [
        record
        for record, _defects in islice(generate_cases_with_defects(40, seed=4), 40)
    ]
    import_records(records, notify=False)
    engine = services.default_engine()
    monkeypatch.setattr(services, "_local", threading.local())
    monkeypatch.setattr(services, "SMALL_CONNECTION_USES", 3)
    cases = list(Case.objects.order_by("pk"))[:3]
    results = [services.case_evaluate(case, today=TODAY) for case in cases]
    first = services._local.connections[id(engine)][0]
    # Rolled back: no table holds a row, nor the deleted rows DuckDB would keep.
    assert first.raw.execute(
        "SELECT sum(estimated_size) FROM duckdb_tables() WHERE temporary"
    ).fetchone() == (0,)
    findings = set(
        Finding.objects.filter(current=True).values_list("case_id", "fingerprint")
    )
    warmed = {}
    warm = Engine.warm

    def counting_warm(self: Engine, con: PreparedConnection, **options: Any) -> None:
        warm(self, con, **options)
        warmed[id(con)] = con.plans

    monkeypatch.setattr(Engine, "warm", counting_warm)
    again = [services.case_evaluate(case, today=TODAY) for case in cases]
    second = services._local.connections[id(engine)][0]
    assert second is not first
    # The new connection planned what the old one had planned, before its first case:
    # the evaluations on it planned nothing.
    assert set(first.statements()) <= set(second.statements())
    assert second.plans == warmed[id(second)]
    with pytest.raises(duckdb.ConnectionException):
        first.raw.execute("SELECT 1")  # closed
    assert [result.findings for result in again] == [
        result.findings for result in results
    ]
    assert not any(result.raised or result.retired for result in again)
    assert (
        set(Finding.objects.filter(current=True).values_list("case_id", "fingerprint"))
        == findings
    )


# Queries of the shapes the engine runs (DISTINCT, UNION ALL, GROUP BY with FILTER, arg_min
# over structs, anti and left joins, list aggregates), as CREATE OR REPLACE ... AS so that
# the prepared connection turns them into DELETE + a prepared INSERT.
SHAPES = [
    "SELECT DISTINCT k, p FROM a WHERE v > 50 UNION ALL SELECT DISTINCT k, '' FROM b WHERE w IS NULL",
    "SELECT k, count(*) FILTER (WHERE v > 10) AS n, min(d) FILTER (WHERE p = 'x') AS first, max(v) AS top FROM a GROUP BY k",
    "SELECT k, arg_min({'d': d, 'v': v}, v).d AS d FROM a GROUP BY k",
    "SELECT a.k, a.p FROM a ANTI JOIN b ON b.k = a.k AND b.p = a.p WHERE a.p <> ''",
    "SELECT a.k, b.w, coalesce(b.w, 0) + a.v AS s FROM a LEFT JOIN b ON b.k = a.k AND b.p = a.p",
    "SELECT k, list(v ORDER BY v) AS vs FROM a GROUP BY k HAVING count(*) > 1",
    "SELECT DISTINCT ON (k) k, p, v FROM a ORDER BY k, v DESC",
    "SELECT hit.k, hit.r FROM (SELECT k, unnest([CASE WHEN v > 90 THEN {'k': k, 'r': 1} END, CASE WHEN d > DATE '2025-06-01' THEN {'k': k, 'r': 2} END]) AS hit FROM a) WHERE hit IS NOT NULL",
]


def _random_rows(rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    base = rng.choice([0, 7, 5000, 2**40])
    size = rng.choice([0, 1, 2, 5, 30])
    persons = ["", "A", "B", "x"]
    a = [
        (
            base + rng.randrange(0, rng.choice([1, 3, 50])),
            rng.choice(persons),
            rng.choice([None, rng.randrange(-5, 120)]),
            rng.choice(
                [
                    None,
                    datetime.date(2025, 1, 1) + datetime.timedelta(rng.randrange(365)),
                ]
            ),
        )
        for _ in range(size)
    ]
    b = [
        (
            base + rng.randrange(0, 3),
            rng.choice(persons),
            rng.choice([None, rng.randrange(0, 9)]),
        )
        for _ in range(rng.choice([0, 1, 4]))
    ]
    return a, b


def test_prepared_plans_give_what_fresh_plans_give_as_the_data_changes() -> None:
    """Plans made on one data set and executed on hundreds of others (empty tables, single
    rows, other key ranges, NULL-only columns) return exactly what a fresh connection with
    every optimizer on returns."""
    prepared = connection()
    fresh = duckdb.connect()
    for con in (prepared, fresh):
        con.execute("CREATE TABLE a (k BIGINT, p VARCHAR, v INTEGER, d DATE)")
        con.execute("CREATE TABLE b (k BIGINT, p VARCHAR, w INTEGER)")
    rng = random.Random(20261123)
    compared = 0
    plans_after_warm_up = 0
    for round_number in range(150):
        if round_number == 3:
            plans_after_warm_up = prepared.plans
        a, b = _random_rows(rng)
        for con in (prepared, fresh):
            con.execute("DELETE FROM a")
            con.execute("DELETE FROM b")
            if a:
                con.executemany("INSERT INTO a VALUES (?, ?, ?, ?)", a)
            if b:
                con.executemany("INSERT INTO b VALUES (?, ?, ?)", b)
        for index, shape in enumerate(SHAPES):
            statement = f"CREATE OR REPLACE TEMP TABLE out_{index} AS {shape}"
            prepared.execute(statement)
            fresh.execute(statement)
            got = sorted(
                map(repr, prepared.execute(f"SELECT * FROM out_{index}").fetchall())
            )
            expected = sorted(
                map(repr, fresh.execute(f"SELECT * FROM out_{index}").fetchall())
            )
            assert got == expected, (shape, a, b)
            compared += 1
    assert compared == 150 * len(SHAPES)
    # Every statement planned in the first rounds (tables are created in the first), then
    # executed from its plan.
    assert prepared.plans == plans_after_warm_up


def test_the_scope_read_from_case_rows_is_the_scope_of_the_loaded_table() -> None:
    # The single-case path reads the procedures, lines and rule-set versions from the rows
    # it loads instead of querying them; both must agree, or rules would be left out.
    from jiancha.quality.rules.engine import Engine
    from jiancha.quality.rules.source import load_from_rows

    engine = services.default_engine()
    assert isinstance(engine, Engine)
    today = datetime.date(2025, 12, 31)
    effective = sorted(item.effective for item in engine.sets)
    days: list = [None, today]
    for day in effective:
        days += [day - datetime.timedelta(days=1), day]
    rng = random.Random(11)
    procedures = ["prosecution_review", "arrest_review", "civil_supervision", "no_such"]
    lines = ["ordinary_crime", "public_interest", "civil", "nonsense"]
    seen = set()
    for trial in range(40):
        # Closing days as dates (PostgreSQL) or as text (SQLite), one kind per load.
        as_text = trial % 2 == 1

        def closed(day, as_text=as_text):
            return day.isoformat() if as_text and day is not None else day

        cases = [
            (
                trial * 10 + number,
                1,
                f"C{trial}-{number}",
                "",
                rng.choice(lines),
                rng.choice(procedures),
                "p1",
                datetime.date(2020, 1, 1),
                closed(rng.choice(days)),
                False,
                False,
                False,
            )
            for number in range(rng.choice([1, 1, 2, 3]))
        ]
        con = engine.connect(threads=1)
        try:
            load_from_rows(con, cases=cases, persons=[], events=[], existing=False)
            from_table = engine.table_scope(con, today)
        finally:
            con.close()
        from_rows = engine.rows_scope(cases, today)
        assert from_rows == from_table, cases
        seen.add(from_rows[2])
    # The draws covered more than one rule-set version, and cases under two at once.
    assert len(set().union(*seen)) >= 2
    assert any(len(versions) >= 2 for versions in seen)


def test_a_case_without_rare_events_empties_the_rare_tables_of_the_case_before() -> (
    None
):
    # The single-case path skips the rare events' aggregation when the loaded events have
    # none, and only empties those tables: what an earlier evaluation left there must go.
    from jiancha.quality.rules.base import RARE_TABLES
    from jiancha.quality.rules.engine import Engine
    from jiancha.quality.rules.source import load_from_rows
    from jiancha.quality.tests.test_rules_cases import (
        BASE,
        event,
        exchange_rows,
        with_events,
    )

    engine = Engine(models=False)
    con = PreparedConnection(engine.connect(threads=1))
    today = datetime.date(2025, 12, 31)

    def evaluate(record) -> set[str]:
        rows = exchange_rows([record])
        load_from_rows(con, **rows, existing=False)
        findings, _grades, _skipped = engine.evaluate_rows(
            con, today=today, cases=rows["cases"], events=rows["events"]
        )
        return {row[4] for row in findings}

    # An appeal (a rare event type) by a person the case does not list: GN-O06, found
    # through the rare events' table.
    appealed = with_events(BASE, event("appeal", "2024-06-01", "Z"))
    assert "GN-O06" in evaluate(appealed)
    # The same case again without the appeal (an edit): the stale rows are gone, and the
    # rare events' tables were emptied, not computed.
    execute = con.execute
    statements = recorded(con, normalise=True)
    assert "GN-O06" not in evaluate(BASE)
    con.execute = execute  # type: ignore[method-assign]
    assert "DELETE FROM f_rare" in statements
    assert not any(
        sql.startswith("CREATE OR REPLACE TEMP TABLE f_rare") for sql in statements
    )
    for table in RARE_TABLES:
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    # And the result is what a fresh connection gives.
    fresh = Engine(models=False)
    fresh_con = fresh.connect(threads=1)
    rows = exchange_rows([BASE])
    load_from_rows(fresh_con, **rows, existing=False)
    expected, _grades, _skipped = fresh.evaluate_rows(fresh_con, today=today)
    assert evaluate(BASE) == {row[4] for row in expected}


def test_marked_rules_get_the_hits_and_values_of_the_bulk_statement() -> None:
    """The single-case hits statement only marks the select and deadline rules a case
    breaks (their conditions); the hits of those rules, with their values, come from a
    statement per rule. On every rule's breaking and passing example case sets, one after
    another on one prepared connection: the finding rows (values and fingerprints
    included) and grades are those of the bulk statement, which builds every rule's
    values in its scan; no marker is left in ``hit_raw``; and a rule's own statement runs
    only when the case set breaks that rule."""
    from jiancha.quality.rules.compiler import CLEAR_MARKERS
    from jiancha.quality.rules.engine import FINDING_COLUMNS, GRADE_COLUMNS
    from jiancha.quality.rules.source import load_from_rows
    from jiancha.quality.tests.test_rules_cases import RULE_CASES, exchange_rows

    engine = Engine(models=False)
    con = PreparedConnection(engine.connect(threads=1))
    engine.warm(con, today=TODAY)
    own_statement = {
        engine.part_hits(part.index): part.rule.id
        for part in engine.parts
        if part.rule.kind in {"select", "deadline"}
    }
    execute = con.execute
    statements = recorded(con)
    marked = 0
    for breaking, passing in RULE_CASES.values():
        for case_set in (*breaking, *passing):
            rows = exchange_rows(case_set)
            statements.clear()
            load_from_rows(con, **rows, existing=False)
            findings, grades, _skipped = engine.evaluate_rows(
                con, today=TODAY, cases=rows["cases"], events=rows["events"]
            )
            fresh = engine.connect(threads=1)
            load_from_rows(fresh, **rows)
            engine.evaluate(fresh, today=TODAY, every_case=True)
            expected = fresh.execute(
                f"SELECT {', '.join(FINDING_COLUMNS)} FROM finding_new"
            ).fetchall()
            expected_grades = fresh.execute(
                f"SELECT {', '.join(GRADE_COLUMNS)} FROM grade_new"
            ).fetchall()
            fresh.close()
            assert sorted(findings) == sorted(expected), case_set[0]["case_id"]
            assert sorted(grades) == sorted(expected_grades)
            assert execute(
                "SELECT count(*) FROM hit_raw WHERE rule_id IS NULL"
            ).fetchone() == (0,)
            ran = {own_statement[sql] for sql in statements if sql in own_statement}
            broken = {row[FINDING_COLUMNS.index("rule_id")] for row in expected} & set(
                own_statement.values()
            )
            # A rule's statement runs when the rule is broken, and only when some case
            # of the set breaks it (a hit that the rule's procedure or line then drops).
            hit = {row[0] for row in execute("SELECT rule_id FROM hit_raw").fetchall()}
            assert broken <= ran <= hit, case_set[0]["case_id"]
            assert (CLEAR_MARKERS in statements) == bool(ran)
            marked += bool(ran)
    assert marked > 30


def _rows(con: PreparedConnection, table: str) -> list[tuple]:
    return con.raw.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_a_rolled_back_evaluation_fills_its_tables_without_emptying_them_first() -> (
    None
):
    con = connection()
    con.execute("CREATE TABLE source (k INTEGER)")  # committed: stays
    con.execute("INSERT INTO source VALUES (1), (2), (3)")
    con.raw.execute("CREATE TABLE small (k INTEGER)")
    refill = "CREATE OR REPLACE TEMP TABLE big AS SELECT k FROM source WHERE k > 1"
    con.execute(refill)  # made outside: committed, then emptied
    con.execute("DELETE FROM big")
    statements = recorded(con, "_query")
    with con.rolled_back():
        con.execute(refill)
        assert statements == ["INSERT INTO big SELECT k FROM source WHERE k > 1"]
        assert _rows(con, "big") == [(2,), (3,)]
        con.execute("DELETE FROM big")  # rows of this transaction: really deleted
        assert _rows(con, "big") == []
        con.execute("INSERT INTO big VALUES (7)")
        con.execute(refill)  # appended to since: emptied first
        assert _rows(con, "big") == [(2,), (3,)]
        statements.clear()
        con.execute("DELETE FROM small")  # not a table of this connection: runs
        con.execute("INSERT INTO source VALUES (4)")
        assert _rows(con, "source") == [(1,), (2,), (3,), (4,)]
    assert _rows(con, "big") == []
    assert _rows(con, "source") == [(1,), (2,), (3,)]  # rolled back too
    statements.clear()
    with con.rolled_back():
        con.execute("DELETE FROM big")  # empty since the transaction began: skipped
        assert statements == []
        con.execute(refill)
        assert statements == ["INSERT INTO big SELECT k FROM source WHERE k > 1"]
    # Outside a transaction, as before: emptied, then filled.
    statements.clear()
    con.execute(refill)
    assert statements == [
        "DELETE FROM big",
        "INSERT INTO big SELECT k FROM source WHERE k > 1",
    ]


def test_tables_and_views_made_inside_a_rolled_back_evaluation_are_kept_empty() -> None:
    con = connection()
    con.execute("CREATE TABLE source (k INTEGER, v VARCHAR)")
    con.execute("INSERT INTO source VALUES (1, 'a'), (2, 'b')")
    with con.rolled_back():
        con.execute("CREATE OR REPLACE TEMP TABLE made AS SELECT k, v FROM source")
        con.execute("CREATE OR REPLACE TEMP VIEW seen AS SELECT k FROM made")
        con.replace_rows("given", "k INTEGER", [(5,)])
        assert _rows(con, "seen") == [(1,), (2,)]
        assert _rows(con, "given") == [(5,)]
    # Made again after the rollback, with the same columns and no rows.
    assert con.raw.execute("DESCRIBE made").fetchall()[0][:2] == ("k", "INTEGER")
    assert [row[:2] for row in con.raw.execute("DESCRIBE made").fetchall()] == [
        ("k", "INTEGER"),
        ("v", "VARCHAR"),
    ]
    assert _rows(con, "made") == []
    assert _rows(con, "given") == []
    assert _rows(con, "seen") == []
    assert {"made", "given"} <= con.tables
    # And used as tables of this connection from then on: filled without a DELETE.
    with con.rolled_back():
        con.execute("CREATE OR REPLACE TEMP TABLE made AS SELECT k, v FROM source")
        assert _rows(con, "seen") == [(1,), (2,)]
    assert _rows(con, "made") == []


def test_a_failed_rolled_back_evaluation_leaves_the_tables_empty() -> None:
    con = connection()
    con.execute("CREATE TABLE source (k INTEGER)")
    con.execute("INSERT INTO source VALUES (1)")
    refill = "CREATE OR REPLACE TEMP TABLE copy AS SELECT k FROM source"
    con.execute(refill)
    con.execute("DELETE FROM copy")

    def failing() -> None:
        with con.rolled_back():
            con.execute(refill)
            con.execute("SELECT * FROM missing")

    def nested() -> None:
        with con.rolled_back(), con.rolled_back():
            pass

    with pytest.raises(duckdb.Error):
        failing()
    assert con.filled is None
    assert _rows(con, "copy") == []
    with pytest.raises(RuntimeError, match="nest"):
        nested()
    assert con.filled is None
    with con.rolled_back():
        con.execute(refill)
        assert _rows(con, "copy") == [(1,)]


def test_rolled_back_evaluations_of_reviews_with_more_returns_than_warmed() -> None:
    """The single-case path evaluates inside :meth:`PreparedConnection.rolled_back`. On
    random prosecution reviews (up to three returns: review-period tables that the warm-up
    did not make are made inside the transaction and kept, empty), one after another:
    the findings, grades and deadlines of a fresh connection, every table empty after each
    evaluation, and once every table is made, nothing planned again. The findings'
    statement runs only for a review that breaks a rule (``finding_new`` is empty
    otherwise)."""
    from jiancha.quality.rules.compiler import FINDINGS
    from jiancha.quality.rules.source import load_from_rows
    from jiancha.quality.tests.test_rules import _random_prosecution
    from jiancha.quality.tests.test_rules_cases import exchange_rows

    engine = Engine(models=False)
    con = PreparedConnection(engine.connect(threads=1))
    engine.warm(con, today=TODAY)
    fresh = engine.connect(threads=1)
    deadline_sql = (
        "SELECT key, subject, start, due, ended_on, status FROM dl ORDER BY ALL"
    )
    rng = random.Random(23)
    warmed = set(con.tables)
    plans: list[int] = []
    statements = recorded(con)
    clean = 0
    for number in range(80):
        rows = exchange_rows([_random_prosecution(rng, number)])
        statements.clear()
        with con.rolled_back():
            load_from_rows(con, **rows, existing=False)
            findings, grades, _skipped = engine.evaluate_rows(
                con, today=TODAY, cases=rows["cases"], events=rows["events"]
            )
            deadlines = con.raw.execute(deadline_sql).fetchall()
        load_from_rows(fresh, **rows, existing=False)
        expected, expected_grades, _skipped = engine.evaluate_rows(fresh, today=TODAY)
        assert deadlines == fresh.execute(deadline_sql).fetchall()
        assert sorted(findings) == sorted(expected)
        assert grades == expected_grades
        assert (FINDINGS in statements) == bool(findings)
        clean += not findings
        assert con.raw.execute(
            "SELECT sum(estimated_size) FROM duckdb_tables() WHERE temporary"
        ).fetchone() == (0,)
        plans.append(con.plans)
    assert 0 < clean < 80  # both kinds met
    assert any(table.startswith("pr_period_3") for table in con.tables)
    assert con.tables > warmed  # and the tables made inside were kept
    # Once every table is made, evaluations plan nothing (the second half here).
    assert len(set(plans[40:])) == 1
