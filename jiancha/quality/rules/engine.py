"""The rule engine: from the input tables to the findings and grades to write.

>>> engine = Engine()
>>> con = engine.connect()
>>> load_from_rows(con, cases=..., persons=..., events=...)   # or load_from_database(con)
>>> result = engine.evaluate(con, today=datetime.date.today())

After :meth:`Engine.evaluate` the connection holds ``finding_new`` (every current finding
of the evaluated cases), ``grade_new``, and the difference with what is stored:
``to_insert``, ``to_retire``, ``eval_write`` and ``changed_case``.
:mod:`jiancha.quality.services` writes that difference. For a few cases,
:meth:`Engine.evaluate_rows` returns the findings and grades as rows instead, and the
caller compares them with the stored ones.
"""

import datetime
import json
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from jiancha.cases.choices import BusinessLine, Procedure
from jiancha.quality.rules import base
from jiancha.quality.rules.compiler import (
    CLEAR_MARKERS,
    DIFF,
    EVAL_WRITE_ALL,
    FINDINGS,
    HIT_PARTS,
    grade_statement,
    hits_statement,
    load_rule_tables,
    part_hits_statement,
    rule_parts,
)
from jiancha.quality.rules.learned import missing_model, model_hits
from jiancha.quality.rules.prepared import PreparedConnection
from jiancha.quality.rules.registry import RuleSet, ruleset_in_force, rulesets
from jiancha.quality.rules.source import CASE_COLUMNS, EVENT_COLUMNS, load_from_rows

# The columns of finding_new and grade_new that are written (in this order).
FINDING_COLUMNS = (
    "case_pk",
    "unit_id",
    "procurator_id",
    "period",
    "rule_id",
    "ruleset",
    "severity",
    "subject",
    "vals",
    "legal_basis",
    "fingerprint",
)
GRADE_COLUMNS = (
    "case_pk",
    "unit_id",
    "procurator_id",
    "period",
    "ruleset",
    "grade",
    "failures",
    "defects",
    "notices",
)

# What :meth:`Engine.evaluate_rows` returns.
SELECT_FINDINGS = f"SELECT {', '.join(FINDING_COLUMNS)} FROM finding_new"
SELECT_GRADES = f"SELECT {', '.join(GRADE_COLUMNS)} FROM grade_new"

# Where the procedure, business line and closing day are in case rows (CASE_COLUMNS order).
_PROCEDURE_AT = CASE_COLUMNS.index("procedure")
_LINE_AT = CASE_COLUMNS.index("business_line")
_CLOSED_AT = CASE_COLUMNS.index("closed_on")
_EVENT_CASE_AT = EVENT_COLUMNS.index("case_id")
_TYPE_AT = EVENT_COLUMNS.index("type")
_ON_AT = EVENT_COLUMNS.index('"on"')
_CASE_ID_AT = CASE_COLUMNS.index("id")
_RECEIVED_AT = CASE_COLUMNS.index("received_on")
_PROCEDURES = frozenset(Procedure.values)
_LINES = frozenset(BusinessLine.values)

# (procedures, business lines, rule-set versions) of the evaluated cases.
Scope = tuple[frozenset[str], frozenset[str], frozenset[str]]

# The review periods whose tables a new single-case connection makes at once (up to two
# returns for supplementary investigation, as the law allows; more make theirs when met).
WARM_REVIEW_PERIODS = 3
# Optimizers that cost more planning time than they save on a few cases.
SMALL_DISABLED_OPTIMIZERS = "join_order,common_subplan,compressed_materialization"


@dataclass
class EngineResult:
    cases: int
    findings: int
    to_insert: int
    to_retire: int
    grades_to_write: int
    changed_cases: int
    skipped_rules: list[str]
    seconds: dict[str, float] = field(default_factory=dict)


def simple_reviews(
    cases: Sequence[Sequence[Any]], events: Sequence[Sequence[Any]]
) -> bool:
    """Whether every prosecution review among these case rows (``CASE_COLUMNS`` order) is
    simple, by their event rows (``EVENT_COLUMNS`` order): no return, resubmission or
    extension, and no decision dated before receipt. ``simple`` in the review clock's
    first statement says the same per case (:func:`base.review_period_statements`);
    their deadline rows then need one statement (``base.SIMPLE_REVIEW_ROWS``)."""
    received = {
        row[_CASE_ID_AT]: row[_RECEIVED_AT]
        for row in cases
        if row[_PROCEDURE_AT] == "prosecution_review"
    }
    for row in events:
        if row[_EVENT_CASE_AT] not in received:
            continue
        if row[_TYPE_AT] in base.CLOCK_TYPE_NAMES:
            return False
        if row[_TYPE_AT] == "prosecution_decided":
            start = received[row[_EVENT_CASE_AT]]
            if start is None or _day(row[_ON_AT]) < _day(start):
                return False
    return True


def _day(value: Any) -> str:
    """A date or a date's text as ``YYYY-MM-DD`` (the rows' dates are either)."""
    return str(value)[:10]


def _still_empty(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` is a table of this prepared connection that the rolled-back
    evaluation under way has not written yet, hence empty
    (:meth:`PreparedConnection.rolled_back`)."""
    return (
        isinstance(con, PreparedConnection)
        and con.filled is not None
        and table in con.tables
        and table not in con.filled
    )


class Engine:
    """Compiled rule sets, ready to evaluate input tables in a DuckDB connection."""

    def __init__(
        self, sets: tuple[RuleSet, ...] | None = None, *, models: bool = True
    ) -> None:
        self.sets = sets or rulesets()
        self.parts = rule_parts(self.sets)
        self.hits_sql = hits_statement(self.parts)
        self._hits_by_procedures: dict[
            tuple[frozenset[str], frozenset[str] | None, frozenset[str] | None], str
        ] = {}
        self._part_hits: dict[int, str] = {}
        # Connections whose views (c, cf, pf, pe) this engine has created already.
        self._views_ready: weakref.WeakSet[duckdb.DuckDBPyConnection] = (
            weakref.WeakSet()
        )
        self.grade_sql = grade_statement(self.sets)
        self.grade_all_sql = grade_statement(self.sets, every_case=True)
        self.models = models

    def setup(self, con: duckdb.DuckDBPyConnection) -> None:
        base.load_reference(con, self.sets)
        load_rule_tables(con, self.sets, self.parts)

    def connect(self, *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        if threads:
            con.execute(f"SET threads TO {int(threads)}")
        self.setup(con)
        return con

    def hits_for(
        self,
        procedures: frozenset[str],
        lines: frozenset[str] | None = None,
        versions: frozenset[str] | None = None,
    ) -> str:
        """The hits statement with only the rules that apply to these procedures, business
        lines and rule-set versions (small evaluations plan and run faster without the
        others; the applicability join of ``FINDINGS`` still decides), leaving out a rule
        that reads another record of the matter when no case of its
        ``matter_procedures`` is among them (a prosecution review evaluated alone: 1.2 ms
        of CR-C03). Its select and deadline rules leave markers, whose hits
        :meth:`add_marked_hits` adds."""
        key = (procedures, lines, versions)
        sql = self._hits_by_procedures.get(key)
        if sql is None:
            sql = hits_statement(
                [
                    part
                    for part in self.parts
                    if procedures & set(part.rule.procedures)
                    and (
                        not part.rule.matter_procedures
                        or procedures & set(part.rule.matter_procedures)
                    )
                    and (lines is None or lines & set(part.rule.business_lines))
                    and (versions is None or versions & set(part.versions))
                ],
                markers=True,
            )
            self._hits_by_procedures[key] = sql
        return sql

    def add_marked_hits(self, con: duckdb.DuckDBPyConnection) -> bool:
        """After :meth:`hits_for`: the hits of the select and deadline rules it marked as
        broken, each from a statement of its own, in place of their markers (most
        evaluations have none: one query then). Returns whether ``hit_raw`` holds a hit."""
        rows = con.execute(HIT_PARTS).fetchall()
        marked = sorted({part for part, rule_id in rows if rule_id is None})
        if marked:
            for index in marked:
                con.execute(self.part_hits(index))
            con.execute(CLEAR_MARKERS)
        return bool(rows)

    def part_hits(self, index: int) -> str:
        """:func:`part_hits_statement` of the part numbered ``index``."""
        sql = self._part_hits.get(index)
        if sql is None:
            sql = self._part_hits[index] = part_hits_statement(self.parts[index])
        return sql

    @property
    def has_models(self) -> bool:
        return self.models and any(part.rule.kind == "model" for part in self.parts)

    def models_available(self) -> bool:
        """Whether any model rule may run here (its trained file is there): then the facts
        are worth loading. The model itself is loaded when there are facts to check
        (:func:`~jiancha.quality.rules.learned.model_hits`): a file that does not load
        skips its rule then."""
        return self.has_models and any(
            not missing_model(part.rule.model)
            for part in self.parts
            if part.rule.kind == "model"
        )

    def evaluate(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        today: datetime.date,
        facts_loaded: bool = False,
        every_case: bool = False,
        event_facts: bool = False,
    ) -> EngineResult:
        """Run every rule over the input tables; the results stay in ``con``.

        ``every_case`` writes the grade of every evaluated case, clean or not (a single
        case evaluated on import or change), rather than only the grades that changed.
        ``event_facts``: the tables derived from the events are loaded already
        (:func:`jiancha.quality.rules.source.load_with_event_facts`).
        """
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        skipped = self._findings(
            con,
            today=today,
            facts_loaded=facts_loaded,
            every_case=every_case,
            seconds=seconds,
            event_facts=event_facts,
        )
        mark = time.perf_counter()
        # DIFF is to_insert, to_retire, eval_write (grades that changed), changed_case;
        # evaluating a few cases writes every grade instead.
        for statement in [*DIFF[:2], EVAL_WRITE_ALL, DIFF[3]] if every_case else DIFF:
            con.execute(statement)
        seconds["diff"] = time.perf_counter() - mark
        counts = con.execute(
            """SELECT (SELECT count(*) FROM "case"), (SELECT count(*) FROM finding_new), (SELECT count(*) FROM to_insert),
                      (SELECT count(*) FROM to_retire), (SELECT count(*) FROM eval_write), (SELECT count(*) FROM changed_case)"""
        ).fetchone()
        assert counts is not None
        seconds["total"] = time.perf_counter() - started
        return EngineResult(
            *[int(value) for value in counts],
            skipped_rules=skipped,
            seconds=seconds,
        )

    def evaluate_rows(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        today: datetime.date,
        facts_loaded: bool = False,
        cases: Sequence[Sequence[Any]] | None = None,
        events: Sequence[Sequence[Any]] | None = None,
        facts: Sequence[Sequence[Any]] | None = None,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]:
        """Evaluate a few cases (every one gets its grade) and return the rows rather than
        the difference with what is stored: the findings (``FINDING_COLUMNS``), the grades
        (``GRADE_COLUMNS``) and the rules skipped. The caller compares them with the stored
        rows it has read anyway, which costs less than comparing in DuckDB. ``cases``: the
        case rows loaded (``CASE_COLUMNS`` order), when the caller has them: their scope is
        then read from them rather than from the loaded table. ``events``: likewise the
        event rows loaded (``EVENT_COLUMNS`` order): without a rare event among them the
        tables of rare events are only emptied, and when every prosecution review is
        simple (:func:`simple_reviews`) its deadline row takes one statement
        (:func:`base.prepare`). ``facts``: likewise the facts rows loaded (whether any
        case has facts is then not queried)."""
        skipped = self._findings(
            con,
            today=today,
            facts_loaded=facts_loaded,
            every_case=True,
            seconds={},
            scope=None if cases is None else self.rows_scope(cases, today),
            rare_events=events is None
            or any(row[_TYPE_AT] in base.RARE_TYPE_NAMES for row in events),
            simple_reviews=cases is not None
            and events is not None
            and simple_reviews(cases, events),
            facts_present=None if facts is None else bool(facts),
        )
        findings = (
            []
            if _still_empty(con, "finding_new")
            else con.execute(SELECT_FINDINGS).fetchall()
        )
        grades = con.execute(SELECT_GRADES).fetchall()
        return findings, grades, skipped

    def warm(
        self,
        con: PreparedConnection,
        *,
        today: datetime.date,
        facts_loaded: bool = False,
        statements: Sequence[str] = (),
    ) -> None:
        """Make a new single-case connection ready for :meth:`evaluate_rows`: every table
        it writes is created and its statements are planned, by evaluating no case twice
        (the prosecution-review clock followed through ``WARM_REVIEW_PERIODS`` periods);
        then the statements that differ with the case (:meth:`single_scope_statements`)
        and ``statements`` (:meth:`PreparedConnection.statements` of the connection this
        one replaces) are planned.

        A table created later would change the catalog, after which DuckDB plans every
        prepared statement again; and each statement met for the first time is planned
        then. Without this, the first case with a return or two and every new connection
        made a dozen evaluations in a row pay for planning, and so did the first case of
        each procedure (5M demo cases, 400 evaluations: p95 67 ms against a median of 39).
        """
        for _ in range(2):
            # The first pass creates the tables, the second plans what refills them.
            load_from_rows(
                con,
                cases=[],
                persons=[],
                events=[],
                existing=False,
                facts=[] if facts_loaded else None,
            )
            self._findings(
                con,
                today=today,
                facts_loaded=facts_loaded,
                every_case=True,
                seconds={},
                scope=(frozenset(), frozenset(), frozenset()),
                review_periods=WARM_REVIEW_PERIODS,
            )
        con.plan([*self.single_scope_statements(), *statements])

    def new_day(self, con: PreparedConnection, *, today: datetime.date) -> None:
        """A single-case connection made ready for another day: ``today`` is folded into
        every plan (``getvariable``), so all of them are made again now, in one call,
        rather than one by one over the evaluations that follow (as :meth:`warm` does for
        a new connection)."""
        base.set_today(con, today)
        con.plan(con.statements())

    def single_scope_statements(self) -> list[str]:
        """The statements of :meth:`evaluate_rows` that differ with the procedures,
        business lines and rule-set versions of the cases, for each single procedure, line
        and version (what one case needs): the hits and the deadline count; the deadline
        rows of simple prosecution reviews; the hits of each select and deadline rule
        with the clearing of the markers (:meth:`add_marked_hits`), met only by cases that
        break a rule; and the queries of the rows :meth:`evaluate_rows` returns. About
        ninety distinct statements."""
        texts: dict[str, None] = {
            base.SIMPLE_REVIEW_ROWS: None,
            CLEAR_MARKERS: None,
            SELECT_FINDINGS: None,
            SELECT_GRADES: None,
        }
        for part in self.parts:
            if part.rule.kind in {"select", "deadline"}:
                texts[self.part_hits(part.index)] = None
        for procedure in sorted(_PROCEDURES):
            for line in sorted(_LINES):
                texts[base.count_deadlines(frozenset({procedure, line}))] = None
                for item in self.sets:
                    texts[
                        self.hits_for(
                            frozenset({procedure}),
                            frozenset({line}),
                            frozenset({item.version}),
                        )
                    ] = None
        return list(texts)

    def table_scope(
        self, con: duckdb.DuckDBPyConnection, today: datetime.date
    ) -> Scope:
        """The procedures, business lines and rule-set versions in force of the cases loaded
        in ``con`` (values outside the ENUMs are not counted, as the loading turned them
        into NULL)."""
        in_force = base.ruleset_expression(
            self.sets, f"coalesce(k.closed_on, DATE '{today.isoformat()}')"
        )
        row = con.execute(
            "SELECT list(DISTINCT CAST(procedure AS VARCHAR)), list(DISTINCT CAST(business_line AS VARCHAR)), "
            f'list(DISTINCT {in_force}) FROM "case" k'
        ).fetchone()
        procedures, lines, versions = (
            frozenset(value for value in values or () if value is not None)
            for values in (row or ((), (), ()))
        )
        return procedures, lines, versions

    def rows_scope(self, cases: Sequence[Sequence[Any]], today: datetime.date) -> Scope:
        """:meth:`table_scope` of case rows in ``CASE_COLUMNS`` order, without a statement
        (the query cost 2 ms of a single case's 65 ms)."""

        def closed(value: Any) -> datetime.date:
            if value is None or value == "":
                return today
            if isinstance(value, datetime.date):
                return value
            return datetime.date.fromisoformat(str(value)[:10])

        return (
            frozenset(row[_PROCEDURE_AT] for row in cases) & _PROCEDURES,
            frozenset(row[_LINE_AT] for row in cases) & _LINES,
            frozenset(
                ruleset_in_force(closed(row[_CLOSED_AT]), self.sets).version
                for row in cases
            ),
        )

    def _findings(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        today: datetime.date,
        facts_loaded: bool,
        every_case: bool,
        seconds: dict[str, float],
        scope: Scope | None = None,
        rare_events: bool = True,
        review_periods: int = 0,
        simple_reviews: bool = False,
        facts_present: bool | None = None,
        event_facts: bool = False,
    ) -> list[str]:
        """Fill ``finding_new`` and ``grade_new``; returns the rules skipped. ``scope``: the
        cases' procedures, lines and versions when known (else read from ``"case"``)."""
        started = time.perf_counter()
        present = None
        if every_case:
            # A few cases: planning dominates, so the statements leave out what cannot
            # apply to them, and DuckDB skips the optimizers that only pay off on big
            # tables (join order, common subplans, compressed materialisation).
            con.execute(f"SET disabled_optimizers = '{SMALL_DISABLED_OPTIMIZERS}'")
            procedures, lines, versions = scope or self.table_scope(con, today)
            present = procedures | lines
        base.prepare(
            con,
            today=today,
            sets=self.sets,
            present=present,
            views=not every_case or con not in self._views_ready,
            rare_events=rare_events,
            review_periods=review_periods,
            simple_reviews=simple_reviews,
            event_facts=event_facts,
        )
        if every_case:
            self._views_ready.add(con)
        seconds["prepare"] = time.perf_counter() - started
        mark = time.perf_counter()
        hits = True
        if every_case:
            con.execute(self.hits_for(procedures, lines, versions))
            hits = self.add_marked_hits(con)
        else:
            con.execute(self.hits_sql)
        skipped: list[str] = []
        if self.models:
            learned, skipped = model_hits(
                con,
                self.parts,
                facts_loaded=facts_loaded,
                facts_present=facts_present,
            )
            if learned:
                hits = True
                con.executemany(
                    "INSERT INTO hit_raw VALUES (?, ?, ?, ?, ?)",
                    [
                        [
                            part,
                            rule_id,
                            case_pk,
                            subject,
                            json.dumps(values, ensure_ascii=False, default=str),
                        ]
                        for part, rule_id, case_pk, subject, values in learned
                    ],
                )
        else:
            skipped = [
                f"{part.rule.id}: models disabled"
                for part in self.parts
                if part.rule.kind == "model"
            ]
        seconds["rules"] = time.perf_counter() - mark
        mark = time.perf_counter()
        # No hit, and finding_new still empty in this rolled-back evaluation: it stays empty
        # without its statement (most single cases; about 2 ms).
        if hits or not _still_empty(con, "finding_new"):
            con.execute(FINDINGS)
        con.execute(self.grade_all_sql if every_case else self.grade_sql)
        seconds["findings"] = time.perf_counter() - mark
        return sorted(set(skipped))
