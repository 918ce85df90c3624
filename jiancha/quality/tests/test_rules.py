"""The rule data, its legal basis, the SQL deadlines against jiancha.cases.deadlines, rule-set
versions, grades and the model rules (no database needed)."""

import datetime
import json
import random
from itertools import islice
from types import SimpleNamespace
from typing import Any

import pytest

from jiancha.cases.deadlines import LIMITS, case_deadlines
from jiancha.cases.demo import generate_cases_with_defects
from jiancha.cases.exchange import validate_case
from jiancha.core.calendar import period_end
from jiancha.law.reference import article_numbers, laws
from jiancha.quality.rules import learned
from jiancha.quality.rules.compiler import rule_select
from jiancha.quality.rules.engine import Engine
from jiancha.quality.rules.registry import (
    RuleSetError,
    latest_rules,
    load_rulesets,
    ruleset_in_force,
    rulesets,
)
from jiancha.quality.rules.render import legal_basis_text, render_message
from jiancha.quality.rules.source import load_from_rows
from jiancha.quality.tests.test_rules_cases import (
    BASE,
    PLEA,
    changed,
    event,
    exchange_rows,
    person,
    supervision,
    with_events,
)

TODAY = datetime.date(2025, 12, 31)

DERIVED_PLACEHOLDERS = {"subject", "limit", "ended", "days_late"}
MODEL_VALUES = {
    "charge": {"suggested", "confidence", "charges"},
    "sentencing": {"months", "expected", "ratio"},
}


def test_rule_sets_hold_at_least_forty_rules_in_both_languages() -> None:
    current = rulesets()[-1]
    assert len(current.rules) >= 40
    assert len({rule.id for rule in current.rules}) == len(current.rules)
    for rule in current.rules:
        assert rule.name_zh
        assert rule.name_en
        assert rule.severity in {"notice", "defect", "failure"}
        assert rule.business_lines
        assert rule.procedures


def test_rule_sets_have_versions_and_effective_dates() -> None:
    sets = rulesets()
    assert [item.version for item in sets] == sorted(item.version for item in sets)
    assert [item.effective for item in sets] == sorted(item.effective for item in sets)
    assert (
        ruleset_in_force(datetime.date(2020, 1, 1)).version == sets[0].version
    )  # older cases: the first set
    assert ruleset_in_force(datetime.date(2024, 6, 1)).version == "2024.1"
    assert ruleset_in_force(datetime.date(2025, 3, 1)).version == "2025.1"


@pytest.mark.parametrize("ruleset", rulesets(), ids=lambda item: item.version)
def test_every_cited_article_exists_in_the_law_reference(ruleset: Any) -> None:
    cited = set()
    for rule in ruleset.rules:
        for basis in rule.legal_basis:
            numbers = article_numbers(basis["law"])
            assert numbers, f"{rule.id}: {basis['law']} is not in the law reference"
            assert basis["article"] in numbers, f"{rule.id}: {basis}"
            cited.add(basis["law"])
    assert cited <= {law.name for law in laws()}


def test_explanations_use_only_values_their_rule_gives() -> None:
    engine = Engine(models=False)
    con = engine.connect(threads=1)
    load_from_rows(con, **exchange_rows([BASE]))
    engine.evaluate(con, today=TODAY)
    for rule_id, rule in latest_rules().items():
        if rule.kind == "model":
            given = MODEL_VALUES[rule.model]
        else:
            given = set(_struct_fields(con, rule))
        assert rule.placeholders() <= given | DERIVED_PLACEHOLDERS, (
            f"{rule_id}: {rule.placeholders() - given - DERIVED_PLACEHOLDERS}"
        )


def _struct_fields(con: Any, rule: Any) -> list[str]:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE rule_shape AS SELECT vals FROM ({rule_select(rule)}) LIMIT 0"
    )
    type_name = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE table_name = 'rule_shape'"
    ).fetchone()[0]
    inner = type_name[len("STRUCT(") : -1]
    fields, depth, current = [], 0, ""
    for char in inner:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            fields.append(current.strip())
            current = ""
        else:
            current += char
    fields.append(current.strip())
    return [field.split(" ", 1)[0].strip('"') for field in fields if field]


def test_limits_agree_with_case_deadlines() -> None:
    for ruleset in rulesets():
        for key, limit in LIMITS.items():
            assert (ruleset.limits[key].days, ruleset.limits[key].months) == (
                limit.days,
                limit.months,
            ), key


def test_period_end_in_sql_counts_like_the_legal_calendar() -> None:
    con = Engine(models=False).connect(threads=1)
    rng = random.Random(7)
    rows = []
    for _index in range(2000):
        start = datetime.date(2019, 1, 1) + datetime.timedelta(days=rng.randrange(3650))
        rows.append(
            (
                start,
                rng.choice([0, 3, 7, 10, 15, 20, 30]),
                rng.choice([0, 0, 1, 2, 3]),
                rng.random() < 0.3,
            )
        )
    for start, days, months, custody in rows:
        got = con.execute(
            "SELECT period_end(?::DATE, ?, ?, ?)", [start, days, months, custody]
        ).fetchone()[0]
        assert got == period_end(start, days=days, months=months, in_custody=custody), (
            start,
            days,
            months,
            custody,
        )


# --- SQL deadlines against jiancha.cases.deadlines -----------------------------------------


def _random_prosecution(rng: random.Random, number: int) -> dict[str, Any]:
    """A prosecution review with an irregular history: returns without resubmission,
    extensions before and after returns, several decisions (one before receipt, now and
    then), notices before receipt ..."""
    received = datetime.date(2023, 1, 1) + datetime.timedelta(days=rng.randrange(900))

    def day(offset: int) -> str:
        return (received + datetime.timedelta(days=offset)).isoformat()

    persons = [
        person(chr(ord("A") + index)) for index in range(rng.choice([1, 1, 2, 3]))
    ]
    events = [event("received", day(0))]
    clock = 0
    for _return in range(rng.choice([0, 0, 1, 2, 3])):
        clock += rng.randrange(3, 40)
        if rng.random() < 0.3:
            events.append(
                event("review_extended", day(clock - 1), days=rng.choice([15, 10, 0]))
            )
        events.append(event("returned_for_investigation", day(clock)))
        if rng.random() < 0.9:
            clock += rng.randrange(5, 45)
            events.append(event("resubmitted", day(clock)))
        else:
            break
    if rng.random() < 0.2:
        events.append(event("review_extended", day(clock + 5)))
    decided = clock + rng.randrange(1, 50)
    for item in persons:
        if rng.random() < 0.8:
            events.append(
                event(
                    "rights_notified",
                    day(rng.choice([-1, 0, 1, 2, 3, 4, 6])),
                    item["person_id"],
                )
            )
        if rng.random() < 0.9:
            events.append(
                event(
                    "prosecution_decided",
                    day(decided + rng.choice([0, 0, 1])),
                    item["person_id"],
                    decision="prosecute",
                )
            )
    if rng.random() < 0.1:
        events.append(event("rights_notified", day(2)))
    if rng.random() < 0.1:
        # A decision recorded before receipt: the review period ends at the first one on
        # or after receipt, not at this one.
        events.append(
            event(
                "prosecution_decided",
                day(-rng.randrange(1, 10)),
                persons[0]["person_id"],
                decision="prosecute",
            )
        )
    if rng.random() < 0.3:
        events.append(
            event(
                "sentencing_recommended",
                day(decided),
                persons[0]["person_id"],
                kind="fixed",
                months=rng.choice([6, 12, 13, 30]),
            )
        )
    rng.shuffle(events)
    closed = day(decided) if rng.random() < 0.85 else None
    return {
        "case_id": f"RND-{number}",
        "unit_code": "330106",
        "business_line": "ordinary_crime",
        "procedure": "prosecution_review",
        "procurator_id": "P1",
        "received_on": day(0),
        "closed_on": closed,
        "detained": rng.random() < 0.3,
        "fast_track": rng.random() < 0.2,
        "complex": rng.random() < 0.2,
        "persons": persons,
        "events": events,
    }


def _python_deadlines(record: dict[str, Any]) -> list[tuple[Any, ...]]:
    row = validate_case(
        json.loads(json.dumps(record)), {"330106": 1, **{record["unit_code"]: 1}}
    )
    case = SimpleNamespace(
        procedure=row.procedure,
        business_line=row.business_line,
        detained=row.detained,
        complex=row.complex,
        fast_track=row.fast_track,
        received_on=datetime.date.fromisoformat(row.received_on),
        closed_on=datetime.date.fromisoformat(row.closed_on) if row.closed_on else None,
    )
    events = [
        SimpleNamespace(
            position=position,
            type=kind,
            on=datetime.date.fromisoformat(on),
            person=person_id,
            details=json.loads(details),
            pk=None,
        )
        for position, kind, on, person_id, details in row.events
    ]
    persons = [SimpleNamespace(person_id=item[1]) for item in row.persons]
    return sorted(
        _comparable((item.key, item.start, item.due, item.ended_on, item.status))
        for item in case_deadlines(case, events, persons, today=TODAY)
    )


def _comparable(deadline: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if value is None else str(value) for value in deadline)


def test_sql_deadlines_equal_case_deadlines_on_generated_cases() -> None:
    demo = [
        record
        for record, _defects in islice(generate_cases_with_defects(2000, seed=3), 2000)
    ]
    rng = random.Random(11)
    records = demo + [_random_prosecution(rng, number) for number in range(1200)]
    units = {record["unit_code"] for record in records}
    engine = Engine(models=False)
    con = engine.connect(threads=1)
    rows = _rows_for_units(records, units)
    load_from_rows(con, **rows)
    engine.evaluate(con, today=TODAY)
    sql: dict[str, list[tuple[Any, ...]]] = {
        record["case_id"] + "|" + record["unit_code"]: [] for record in records
    }
    for number, unit_code, *deadline in con.execute(
        'SELECT k.case_id, CAST(k.unit_id AS VARCHAR), d.key, d.start, d.due, d.ended_on, d.status FROM dl d JOIN "case" k ON k.id = d.case_pk'
    ).fetchall():
        sql[number + "|" + _unit_codes[int(unit_code)]].append(
            _comparable(tuple(deadline))
        )
    mismatches = []
    for record in records:
        expected = _python_deadlines(record)
        got = sorted(sql[record["case_id"] + "|" + record["unit_code"]])
        if got != expected:
            mismatches.append((record["case_id"], expected, got))
    assert not mismatches, mismatches[:3]
    assert sum(len(value) for value in sql.values()) > 3000


_unit_codes: dict[int, str] = {}


def _rows_for_units(records: list[dict[str, Any]], units: set[str]) -> dict[str, Any]:
    from jiancha.quality.tests import test_rules_cases

    mapping = {code: index for index, code in enumerate(sorted(units), start=1)}
    _unit_codes.clear()
    _unit_codes.update({index: code for code, index in mapping.items()})
    saved = test_rules_cases.UNITS
    test_rules_cases.UNITS = mapping
    try:
        return exchange_rows(records)
    finally:
        test_rules_cases.UNITS = saved


# --- versions, grades, messages --------------------------------------------------------------


def _findings(
    records: list[dict[str, Any]], engine: Engine | None = None
) -> list[dict[str, Any]]:
    engine = engine or Engine(models=False)
    con = engine.connect(threads=1)
    load_from_rows(con, **exchange_rows(records))
    engine.evaluate(con, today=TODAY, every_case=True)
    cursor = con.execute(
        'SELECT k.case_id AS number, f.rule_id, f.ruleset, f.severity, f.legal_basis, f.vals FROM finding_new f JOIN "case" k ON k.id = f.case_pk'
    )
    columns = [item[0] for item in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_a_case_is_evaluated_with_the_rule_set_in_force_when_it_closed() -> None:
    closed_2023 = supervision(received="2023-03-06", closed="2023-07-20")
    closed_2024 = supervision(received="2024-03-04", closed="2024-07-20")
    found = {
        row["number"]: row
        for row in _findings([closed_2023, closed_2024])
        if row["rule_id"] == "CV-T01"
    }
    assert found[closed_2023["case_id"]]["ruleset"] == "2021.1"
    assert json.loads(found[closed_2023["case_id"]]["legal_basis"]) == [
        {"law": "民事诉讼法", "article": "216"}
    ]
    assert found[closed_2024["case_id"]]["ruleset"] == "2024.1"
    assert json.loads(found[closed_2024["case_id"]]["legal_basis"]) == [
        {"law": "民事诉讼法", "article": "220"}
    ]


def test_grades_follow_the_mapping_data() -> None:
    notice_only = with_events(
        BASE, event("rights_notified", "2024-03-05", "Z")
    )  # GN-O06
    one_defect = changed(BASE, persons=[person(articles=["266"])])  # CR-L03
    three_defects = changed(
        BASE, persons=[person(charges=["盗窃罪", "诈骗罪", "抢劫罪"], articles=["999"])]
    )  # L03 x3 + L04
    failure = with_events(BASE, drop=("rights_notified",))  # CR-T10
    engine = Engine(models=False)
    con = engine.connect(threads=1)
    load_from_rows(
        con, **exchange_rows([PLEA, notice_only, one_defect, three_defects, failure])
    )
    engine.evaluate(con, today=TODAY, every_case=True)
    grades = dict(
        con.execute(
            'SELECT k.case_id, g.grade FROM grade_new g JOIN "case" k ON k.id = g.case_pk'
        ).fetchall()
    )
    assert grades == {
        PLEA["case_id"]: "excellent",
        notice_only["case_id"]: "acceptable",
        one_defect["case_id"]: "flawed",
        three_defects["case_id"]: "failed",
        failure["case_id"]: "failed",
    }
    current = rulesets()[-1]
    assert current.grade_for(0, 0, 0) == "excellent"
    assert current.grade_for(0, 2, 5) == "flawed"


def test_messages_name_the_dates_and_the_limit_in_both_languages() -> None:
    late = changed(BASE, detained=True, closed_on="2024-04-07")
    late["events"] = [
        item if item["type"] != "prosecution_decided" else {**item, "on": "2024-04-07"}
        for item in late["events"]
    ]
    row = next(item for item in _findings([late]) if item["rule_id"] == "CR-T04")
    rule = rulesets()[-1].rule("CR-T04")
    english = render_message(rule, row["vals"], "review 1", language="en")
    chinese = render_message(rule, row["vals"], "review 1", language="zh-hans")
    assert "2024-03-04" in english
    assert "2024-04-04" in english
    assert "2024-04-07" in english
    assert "1 month" in english
    assert "3 days late" in english
    assert "1个月" in chinese
    assert "超期3日" in chinese
    assert legal_basis_text(json.loads(row["legal_basis"]), "zh-hans").startswith(
        "《刑事诉讼法》第172条"
    )


def test_rule_data_errors_name_the_file_and_rule(tmp_path: Any) -> None:
    (tmp_path / "ruleset-2099.toml").write_text(
        'version = "x"\neffective = 2099-01-01\n[[grade]]\ngrade = "excellent"\n[[rule]]\nid = "CR-T99"\nseverity = "fatal"\n',
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError, match="ruleset-2099.toml rule CR-T99"):
        load_rulesets(tmp_path)


def test_rules_that_read_the_matter_declare_it_and_are_not_broken_without_it() -> None:
    """A rule that reads another record of the case's matter names that record's
    procedures (``matter_procedures``); the single-case path leaves it out when no such
    case is evaluated with it. The declaration is checked: a rule reading the matter
    (``matter_hash``) declares it and names the procedures in its SQL; each of its breaking
    example sets holds a case of them; and the case the rule is about, evaluated without
    the others, does not break it."""
    from jiancha.quality.tests.test_rules_cases import RULE_CASES, findings_of

    rules = latest_rules()
    declared = {
        rule_id: rule for rule_id, rule in rules.items() if rule.matter_procedures
    }
    assert declared, "CR-C03 reads the arrest review of its matter"
    for rule_id, rule in rules.items():
        assert ("matter_hash" in rule.sql) == bool(rule.matter_procedures), rule_id
    for rule_id, rule in declared.items():
        for procedure in rule.matter_procedures:
            assert f"'{procedure}'" in rule.sql, (rule_id, procedure)
        breaking, _passing = RULE_CASES[rule_id]
        for case_set in breaking:
            assert any(
                record["procedure"] in rule.matter_procedures for record in case_set
            ), rule_id
            first = case_set[0]
            assert rule_id in findings_of(case_set)[first["case_id"]]
            assert rule_id not in findings_of([first])[first["case_id"]]
    engine = Engine(models=False)
    alone = engine.hits_for(frozenset({"prosecution_review"}))
    together = engine.hits_for(frozenset({"prosecution_review", "arrest_review"}))
    for rule_id in declared:
        assert f"'{rule_id}' AS rule_id" not in alone
        assert f"'{rule_id}' AS rule_id" in together


def test_a_matter_procedure_must_be_known_and_only_sql_rules_read_the_matter(
    tmp_path: Any,
) -> None:
    rule = (
        '[[rule]]\nid = "CR-X01"\nname = { zh = "甲", en = "A" }\nseverity = "notice"\n'
        'legal_basis = [{ law = "刑事诉讼法", article = "1" }]\n'
        'explanation = { zh = "甲", en = "A" }\n'
    )
    head = 'version = "x"\neffective = 2099-01-01\n[[grade]]\ngrade = "excellent"\n'
    (tmp_path / "ruleset-2099.toml").write_text(
        head + rule + 'sql = "SELECT 1"\nmatter_procedures = ["arrest"]\n',
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError, match="unknown matter procedure 'arrest'"):
        load_rulesets(tmp_path)
    (tmp_path / "ruleset-2099.toml").write_text(
        head
        + rule
        + 'from = "pf"\nwhere = "true"\nvalues = "{}"\nmatter_procedures = ["arrest_review"]\n',
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError, match="only an sql rule"):
        load_rulesets(tmp_path)


# --- model rules -------------------------------------------------------------------------------


class StubChecker:
    def check_many(
        self, items: list[tuple[str, list[str]]]
    ) -> list[tuple[bool, list[str], float]]:
        return [("诈骗" in facts, ["诈骗罪"], 0.93) for facts, _charges in items]


class StubSentencing:
    def deviation(
        self, facts: str, charges: list[str], months: float
    ) -> tuple[bool, float, float]:
        return (months > 24, 8.0, round(months / 8.0, 3))


def test_model_rules_are_skipped_without_a_trained_model(monkeypatch: Any) -> None:
    monkeypatch.setattr(
        learned, "load_model", lambda name: (None, "ModelMissingError: no file")
    )
    engine = Engine()
    con = engine.connect(threads=1)
    load_from_rows(con, **exchange_rows([PLEA]), facts=[(1, "被告人诈骗他人财物")])
    result = engine.evaluate(con, today=TODAY, facts_loaded=True)
    assert result.skipped_rules == [
        "ML-01: ModelMissingError: no file",
        "ML-02: ModelMissingError: no file",
    ]


def test_model_rules_load_nothing_when_no_case_has_facts(
    monkeypatch: Any, tmp_path: Any, settings: Any
) -> None:
    """Facts loaded but none there (demo data): no model is loaded (the charge model takes
    about 0.8 s to unpickle) and nothing is skipped; a missing file still is."""
    settings.MODEL_DIR = tmp_path
    (tmp_path / learned.MODEL_FILES["charge"]).write_bytes(b"not loaded")

    def refuse(name: str) -> tuple[Any, str]:
        raise AssertionError(f"model {name} loaded with no facts to check")

    monkeypatch.setattr(learned, "load_model", refuse)
    engine = Engine()
    assert engine.models_available()  # the charge model's file is there
    con = engine.connect(threads=1)
    load_from_rows(con, **exchange_rows([PLEA]), facts=[])
    result = engine.evaluate(con, today=TODAY, facts_loaded=True)
    missing = tmp_path / learned.MODEL_FILES["sentencing"]
    assert result.skipped_rules == [f"ML-02: ModelMissingError: {missing}"]
    assert not con.execute(
        "SELECT count(*) FROM finding_new WHERE rule_id LIKE 'ML-%'"
    ).fetchone()[0]


def test_model_rules_raise_findings_when_a_model_is_present(monkeypatch: Any) -> None:
    models = {"charge": (StubChecker(), ""), "sentencing": (StubSentencing(), "")}
    monkeypatch.setattr(learned, "load_model", lambda name: models[name])
    high = with_events(
        PLEA,
        event("sentencing_recommended", "2024-03-20", "A", kind="fixed", months=30),
        drop=("sentencing_recommended", "judgment"),
    )
    engine = Engine()
    con = engine.connect(threads=1)
    load_from_rows(
        con,
        **exchange_rows([PLEA, high]),
        facts=[(1, "被告人诈骗他人财物"), (2, "被告人盗窃")],
    )
    result = engine.evaluate(con, today=TODAY, facts_loaded=True)
    assert result.skipped_rules == []
    found = sorted(
        con.execute(
            "SELECT k.case_id, f.rule_id, f.vals FROM finding_new f JOIN \"case\" k ON k.id = f.case_pk WHERE f.rule_id LIKE 'ML-%'"
        ).fetchall()
    )
    assert [(number, rule_id) for number, rule_id, _vals in found] == [
        (PLEA["case_id"], "ML-01"),
        (high["case_id"], "ML-02"),
    ]
    assert json.loads(found[0][2]) == {
        "suggested": ["诈骗罪"],
        "confidence": 0.93,
        "charges": ["盗窃罪"],
    }
    assert "30" in render_message(
        latest_rules()["ML-02"], found[1][2], "A", language="en"
    )
