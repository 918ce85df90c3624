"""The engine's tables: what every rule's SQL can read (DuckDB).

The input is three tables, ``"case"``, ``person`` and ``event`` (see
:mod:`jiancha.quality.rules.source`), plus reference tables loaded by
:func:`load_reference`. :func:`prepare` derives, set-based and in a fixed number of
statements whatever the size of the data:

``c`` (view)
    one row per case: ``case_pk``, ``unit_id``, ``matter_hash``, ``business_line``,
    ``procedure``, ``procurator_id``, dates and flags, ``ruleset`` (the version in force on
    the day it closed, today while open), ``as_of`` and ``period``.
``cf`` (view)
    ``c`` plus case-level event facts: first dates and counts of returns, resubmissions,
    extensions, protests, recommendations, replies, public notices, suits ...
``pf`` (view)
    one row per person: the person's fields, case fields and the person's own first events
    (``arrest_on``/``arrest_decision``, ``prosecution_on``/``prosecution_decision``/
    ``prosecution_kind``, ``recommendation_*``, ``judgment_*``, ``plea_signed_on`` ...); the
    notice of rights is a deadline (``dl``).
``f_person``
    per (case, person named by the events), the first events of the common per-person
    types, in one aggregation; ``f_notice``, ``f_plea``, ``f_arrest``, ``f_prosecution``,
    ``f_recommendation`` and ``f_judgment`` are views of it with the rows that have such an
    event. ``f_rare`` holds the same for the rare event types.
``pe``
    every (case, person) an event names.
``pr_ev``
    the events that move the prosecution-review clock, of the reviews that are not simple
    (most are: no return, resubmission or extension, and no decision before receipt; their
    one review period ends with the first decision, read from ``f_case``).
``dl``
    every statutory deadline of every case, counted as :mod:`jiancha.cases.deadlines`
    counts it (a test compares both on thousands of generated cases): ``key``,
    ``subject``, ``start``, ``due``, ``ended_on``, ``status`` (met / missed / running /
    overdue), ``limit_days``, ``limit_months``, ``extra_days``, ``in_custody``.

Only the per-type facts and the deadlines are materialised; ``c``, ``cf`` and ``pf`` are
views that the compiler reads once each, with all the rules on them fused into one scan
(:mod:`jiancha.quality.rules.compiler`): writing wide intermediate tables costs more than
the rules.

The macro ``period_end(start, days, months, in_custody)`` counts a period the way the law
counts it (the first day is not counted; a period ending on a holiday ends on the next
working day unless the person is in custody); ``working_day(day)`` is the day itself or
the next working day, from ``jiancha/core/data/holidays.json``.
"""

import datetime
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import duckdb

from jiancha.cases.choices import BusinessLine, EventType, Procedure
from jiancha.core.calendar import HOLIDAYS_FILE
from jiancha.law.reference import (
    CRIMINAL_LAW,
    article_numbers,
    current_charges,
    superseded_charges,
)
from jiancha.quality.rules.prepared import CREATE_TABLE_AS, PreparedConnection
from jiancha.quality.rules.registry import RuleSet
from jiancha.quality.rules.sqltext import quote, values_clause

DEFAULT_EXTENSION_DAYS = 15
# How many review periods of one prosecution review are followed at most (each return for
# supplementary investigation starts a new one; the law allows two returns).
MAX_REVIEW_PERIODS = 12
# Event types whose details the rules read (the others' details are not loaded).
DETAIL_TYPES = (
    "arrest_decided",
    "prosecution_decided",
    "sentencing_recommended",
    "judgment",
    "review_extended",
    "recommendation_issued",
)


@cache
def _calendar_lists() -> tuple[list[str], list[str]]:
    data = json.loads(HOLIDAYS_FILE.read_text(encoding="utf-8"))
    holidays: set[str] = set()
    workdays: set[str] = set()
    for key, year in data.items():
        if key.startswith("_"):
            continue
        holidays.update(year["holidays"])
        workdays.update(year["workdays"])
    return sorted(holidays), sorted(workdays)


def _shifts(
    first: datetime.date, last: datetime.date, holidays: set[str], workdays: set[str]
) -> list[int]:
    """Days from each day of [first, last] to the next working day."""

    def working(day: datetime.date) -> bool:
        key = day.isoformat()
        if key in workdays:
            return True
        if key in holidays:
            return False
        return day.weekday() < 5

    shifts: list[int] = []
    day = first
    while day <= last:
        ahead = 0
        while not working(day + datetime.timedelta(days=ahead)):
            ahead += 1
        shifts.append(ahead)
        day += datetime.timedelta(days=1)
    return shifts


@contextmanager
def unordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The statements inside need not keep their rows' order: DuckDB then scans and copies
    on all its threads (the scanner's rowid ranges, a table's row groups). The setting is
    the database's, so the cursors of ``con`` share it; it is put back afterwards."""
    (order,) = con.execute(
        "SELECT current_setting('preserve_insertion_order')"
    ).fetchone() or (True,)
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {bool(order)}")


def _table(
    con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[tuple[Any, ...]]
) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
    if rows:
        con.execute(f"INSERT INTO {name} VALUES {values_clause(rows)}")


def load_reference(con: duckdb.DuckDBPyConnection, sets: tuple[RuleSet, ...]) -> None:
    """Create the types, reference tables and macros in the connection's main schema."""
    for name, values in (
        ("event_type", EventType.values),
        ("procedure_type", Procedure.values),
        ("line_type", BusinessLine.values),
    ):
        con.execute(
            f"CREATE TYPE IF NOT EXISTS {name} AS ENUM ({', '.join(quote(value) for value in values)})"
        )
    holidays, workdays = _calendar_lists()
    # For each day around the years the calendar lists, how many days to the next working
    # day (0 on a working day), one character per day ('0' + days) in a text variable: a
    # lookup costs no join, and a text constant is cheap to bind and fold in every
    # statement (a list of a few thousand values cost milliseconds per statement).
    # Outside those years only weekends are shifted (as jiancha.core.calendar does).
    first = min(
        datetime.date.fromisoformat(day) for day in holidays + workdays
    ) - datetime.timedelta(days=14)
    last = max(
        datetime.date.fromisoformat(day) for day in holidays + workdays
    ) + datetime.timedelta(days=14)
    con.execute(
        f"SET VARIABLE calendar_shift = {quote(''.join(chr(48 + days) for days in _shifts(first, last, set(holidays), set(workdays))))}"
    )
    con.execute(
        f"""
        CREATE OR REPLACE MACRO working_day(target) AS (
            CASE WHEN target BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'
                 THEN CAST(target + (ord(substr(getvariable('calendar_shift'), date_diff('day', DATE '{first.isoformat()}', target) + 1, 1)) - 48) AS DATE)
                 WHEN isodow(target) = 6 THEN CAST(target + 2 AS DATE)
                 WHEN isodow(target) = 7 THEN CAST(target + 1 AS DATE)
                 ELSE target END)
        """
    )
    _table(
        con,
        "charge_ref",
        "name VARCHAR, articles VARCHAR[], chapter VARCHAR",
        [(row.name, list(row.articles), row.chapter) for row in current_charges()],
    )
    _table(
        con,
        "superseded_charge",
        "name VARCHAR, replaced_by VARCHAR",
        list(superseded_charges().items()),
    )
    _table(
        con,
        "criminal_article",
        "number VARCHAR",
        [(number,) for number in sorted(article_numbers(CRIMINAL_LAW))],
    )
    _table(
        con,
        "limits",
        "ruleset VARCHAR, key VARCHAR, days INTEGER, months INTEGER",
        [
            (item.version, key, limit.days, limit.months)
            for item in sets
            for key, limit in item.limits.items()
        ],
    )
    _table(
        con,
        "ruleset_date",
        "version VARCHAR, effective DATE",
        [(item.version, item.effective) for item in sets],
    )
    con.execute(
        """
        CREATE OR REPLACE MACRO period_end(start, days, months, in_custody) AS (
            CASE WHEN in_custody THEN CAST(start + to_months(months) + to_days(days) AS DATE)
                 ELSE working_day(CAST(start + to_months(months) + to_days(days) AS DATE))
            END)
        """
    )


RARE_TYPE_NAMES = frozenset(
    {
        "returned_for_investigation",
        "resubmitted",
        "review_extended",
        "arrest_reconsideration",
        "detention_extended",
        "non_prosecution_reconsideration",
        "withdrawn",
        "appeal",
        "protest",
        "protest_result",
        "recommendation_issued",
        "reply_received",
        "public_notice_started",
        "public_notice_ended",
        "suit_filed",
    }
)
RARE_TYPES = ", ".join(quote(name) for name in sorted(RARE_TYPE_NAMES))
# The tables that only rare events fill: empty when the evaluated cases have none.
RARE_TABLES = ("rare_event", "f_rare", "f_case_rare")

# The ENUM columns of the input tables: their ENUM type and values.
_ENUM_COLUMNS = {
    "type": ("event_type", frozenset(EventType.values)),
    "procedure": ("procedure_type", frozenset(Procedure.values)),
    "business_line": ("line_type", frozenset(BusinessLine.values)),
}
_ENUM_IN = re.compile(r"\b(type|procedure|business_line)(\s+IN\s*\()([^)]*)\)")
_ENUM_COMPARED = re.compile(r"\b(type|procedure|business_line)(\s*(?:=|<>)\s*)'(\w+)'")


def typed_literals(sql: str) -> str:
    """Compare the ENUM columns (``type``, ``procedure``, ``business_line``) with ENUM
    constants rather than text: DuckDB casts an ENUM column to VARCHAR to compare it with
    a string literal, row by row (a scan of the event table for a list of types then costs
    about twice as much). Literals that are not values of the ENUM stay text."""

    def literal(column: str, name: str) -> str:
        kind, values = _ENUM_COLUMNS[column]
        return f"'{name}'::{kind}" if name in values else f"'{name}'"

    def in_list(match: re.Match[str]) -> str:
        column = match.group(1)
        names = re.sub(
            r"'(\w+)'", lambda item: literal(column, item.group(1)), match.group(3)
        )
        return f"{column}{match.group(2)}{names})"

    def compared(match: re.Match[str]) -> str:
        return match.group(1) + match.group(2) + literal(match.group(1), match.group(3))

    return _ENUM_COMPARED.sub(compared, _ENUM_IN.sub(in_list, sql))


# The events are aggregated in three groups: all of them per case (f_all), the common
# per-person types per (case, person) in one aggregation (f_person: one join for pf rather
# than one per type), and the rare types (rare_event, f_rare); details are parsed only for
# the types and the first events that need them.
CASE_TABLES = [
    # c: cases with the rule set in force when they closed (today while open).
    """
    CREATE OR REPLACE TEMP VIEW c AS
    SELECT k.id AS case_pk, k.unit_id, k.matter_hash, k.business_line, k.procedure, k.procurator_id,
           k.received_on, k.closed_on, k.detained, k.fast_track, k.complex,
           coalesce(k.closed_on, getvariable('today')) AS as_of,
           coalesce(k.closed_on, k.received_on) AS period,
           {ruleset_in_force} AS ruleset
    FROM "case" k
    """,
    """
    CREATE OR REPLACE TEMP TABLE f_all AS
    SELECT case_id AS case_pk, min("on") AS first_event_on, arg_min(type, ord) AS first_event_type,
           min("on") FILTER (WHERE type = 'received') AS received_event_on
    FROM event GROUP BY case_id
    """,
    # f_person: the first events of the common per-person types, one row per (case, person
    # named by the events), in one aggregation; the tables the rules know (f_notice,
    # f_plea, f_arrest, f_prosecution, f_recommendation, f_judgment) are views of it, and
    # pf joins it once rather than six times.
    """
    CREATE OR REPLACE TEMP TABLE f_person AS
    WITH parsed AS (
        SELECT case_id, person, type, "on", ord,
               CASE WHEN type IN ('arrest_decided', 'prosecution_decided', 'sentencing_recommended', 'judgment')
                    THEN details END AS details,
               CASE WHEN type = 'sentencing_recommended'
                    THEN json_transform(details, '{"months": "DOUBLE", "max_months": "DOUBLE"}') END AS r,
               CASE WHEN type = 'judgment'
                    THEN coalesce(TRY_CAST(json_extract_string(details, '$.instance') AS INTEGER), 1) END AS instance
        FROM event
        WHERE type IN ('rights_notified', 'plea_agreement_signed', 'arrest_decided', 'prosecution_decided',
                       'sentencing_recommended', 'judgment')
    ), firsts AS (
        -- The first event of a type has the earliest date ("on" leads ord), so its date is
        -- min("on"); only its details need arg_min.
        SELECT case_id AS case_pk, person,
               min("on") FILTER (WHERE type = 'rights_notified') AS notice_on,
               min("on") FILTER (WHERE type = 'plea_agreement_signed') AS plea_signed_on,
               min("on") FILTER (WHERE type = 'arrest_decided') AS arrest_on,
               arg_min(details, ord) FILTER (WHERE type = 'arrest_decided') AS arrest,
               min("on") FILTER (WHERE type = 'prosecution_decided') AS prosecution_on,
               arg_min(details, ord) FILTER (WHERE type = 'prosecution_decided') AS prosecution,
               min("on") FILTER (WHERE type = 'sentencing_recommended') AS recommendation_on,
               arg_min(details, ord) FILTER (WHERE type = 'sentencing_recommended') AS recommendation,
               max(coalesce(nullif(r.months, 0), r.max_months, 0)) FILTER (WHERE type = 'sentencing_recommended') AS top_months,
               min("on") FILTER (WHERE type = 'judgment' AND instance = 1) AS judgment_on,
               arg_min(details, ord) FILTER (WHERE type = 'judgment' AND instance = 1) AS judgment,
               min("on") FILTER (WHERE type = 'judgment' AND instance = 2) AS second_judgment_on,
               count(*) FILTER (WHERE type = 'judgment') AS judgments
        FROM parsed GROUP BY case_id, person
    ), details AS (
        SELECT * EXCLUDE (recommendation, judgment),
               json_transform(recommendation, '{"kind": "VARCHAR", "months": "DOUBLE", "min_months": "DOUBLE", "max_months": "DOUBLE"}') AS r,
               json_transform(judgment, '{"verdict": "VARCHAR", "months": "DOUBLE", "charges": ["VARCHAR"], "recommendation_adopted": "BOOLEAN"}') AS j
        FROM firsts
    )
    SELECT case_pk, person, notice_on, plea_signed_on,
           arrest_on, json_extract_string(arrest, '$.decision') AS arrest_decision,
           json_extract_string(arrest, '$.reason') AS arrest_reason,
           prosecution_on, json_extract_string(prosecution, '$.decision') AS prosecution_decision,
           json_extract_string(prosecution, '$.kind') AS prosecution_kind,
           recommendation_on, r.kind AS recommendation_kind, r.months AS recommendation_months,
           r.min_months AS recommendation_min_months, r.max_months AS recommendation_max_months, top_months,
           judgment_on, j.verdict AS judgment_verdict, j.months AS judgment_months,
           j.charges AS judgment_charges, j.recommendation_adopted AS judgment_adopted,
           second_judgment_on, judgments
    FROM details
    """,
    """
    CREATE OR REPLACE TEMP VIEW f_notice AS
    SELECT case_pk, person, notice_on FROM f_person WHERE notice_on IS NOT NULL
    """,
    """
    CREATE OR REPLACE TEMP VIEW f_plea AS
    SELECT case_pk, person, plea_signed_on FROM f_person WHERE plea_signed_on IS NOT NULL
    """,
    """
    CREATE OR REPLACE TEMP VIEW f_arrest AS
    SELECT case_pk, person, arrest_on, arrest_decision AS decision, arrest_reason AS reason
    FROM f_person WHERE arrest_on IS NOT NULL
    """,
    """
    CREATE OR REPLACE TEMP VIEW f_prosecution AS
    SELECT case_pk, person, prosecution_on, prosecution_decision AS decision, prosecution_kind AS kind
    FROM f_person WHERE prosecution_on IS NOT NULL
    """,
    """
    CREATE OR REPLACE TEMP VIEW f_recommendation AS
    SELECT case_pk, person, recommendation_on, recommendation_kind AS kind, recommendation_months AS months,
           recommendation_min_months AS min_months, recommendation_max_months AS max_months, top_months
    FROM f_person WHERE recommendation_on IS NOT NULL
    """,
    """
    CREATE OR REPLACE TEMP VIEW f_judgment AS
    SELECT case_pk, person, judgment_on, judgment_verdict AS verdict, judgment_months AS months,
           judgment_charges AS charges, judgment_adopted AS adopted, second_judgment_on
    FROM f_person WHERE judgments > 0
    """,
    f"""
    CREATE OR REPLACE TEMP TABLE rare_event AS
    SELECT case_id AS case_pk, person, type, "on", ord,
           CASE WHEN type = 'recommendation_issued' THEN json_extract_string(details, '$.kind') END AS kind,
           CASE WHEN type = 'recommendation_issued' THEN coalesce(TRY_CAST(json_extract_string(details, '$.urgent') AS BOOLEAN), false) END AS urgent,
           CASE WHEN type = 'review_extended' THEN TRY_CAST(json_extract_string(details, '$.days') AS INTEGER) END AS days
    FROM event WHERE type IN ({RARE_TYPES})
    """,
    """
    CREATE OR REPLACE TEMP TABLE f_rare AS
    SELECT case_pk, person,
           count(*) FILTER (WHERE type = 'returned_for_investigation') AS returns,
           min("on") FILTER (WHERE type = 'returned_for_investigation') AS first_return_on,
           count(*) FILTER (WHERE type = 'resubmitted') AS resubmissions,
           min("on") FILTER (WHERE type = 'resubmitted') AS first_resubmission_on,
           count(*) FILTER (WHERE type = 'review_extended') AS extensions,
           min("on") FILTER (WHERE type = 'review_extended') AS first_extension_on,
           count(*) FILTER (WHERE type = 'arrest_reconsideration') AS arrest_reconsiderations,
           min("on") FILTER (WHERE type = 'arrest_reconsideration') AS arrest_reconsideration_on,
           count(*) FILTER (WHERE type = 'detention_extended') AS detention_extensions,
           min("on") FILTER (WHERE type = 'detention_extended') AS detention_extended_on,
           count(*) FILTER (WHERE type = 'non_prosecution_reconsideration') AS non_prosecution_reconsiderations,
           min("on") FILTER (WHERE type = 'non_prosecution_reconsideration') AS non_prosecution_reconsideration_on,
           min("on") FILTER (WHERE type = 'withdrawn') AS withdrawn_on,
           min("on") FILTER (WHERE type = 'appeal') AS appeal_on,
           count(*) FILTER (WHERE type = 'protest') AS protests,
           min("on") FILTER (WHERE type = 'protest') AS protest_on,
           count(*) FILTER (WHERE type = 'protest_result') AS protest_results,
           min("on") FILTER (WHERE type = 'protest_result') AS protest_result_on,
           min("on") FILTER (WHERE type = 'recommendation_issued') AS recommendation_on,
           min("on") FILTER (WHERE type = 'recommendation_issued' AND kind = 'pre_litigation') AS pre_litigation_on,
           min("on") FILTER (WHERE type = 'reply_received') AS reply_on,
           min("on") FILTER (WHERE type = 'public_notice_started') AS notice_started_on,
           max("on") FILTER (WHERE type = 'public_notice_ended') AS notice_ended_on,
           min("on") FILTER (WHERE type = 'suit_filed') AS suit_filed_on
    FROM rare_event GROUP BY case_pk, person
    """,
    # Case-level aggregates of the per-person facts.
    """
    CREATE OR REPLACE TEMP TABLE f_case AS
    SELECT case_pk, min(notice_on) FILTER (WHERE person = '') AS general_notice_on, min(notice_on) AS any_notice_on,
           min(arrest_on) AS arrest_decided_on, min(prosecution_on) AS prosecution_decided_on,
           max(top_months) AS max_recommended_months
    FROM f_person GROUP BY case_pk
    """,
    """
    CREATE OR REPLACE TEMP TABLE f_case_rare AS
    SELECT case_pk, sum(returns) AS returns, min(first_return_on) AS first_return_on,
           sum(resubmissions) AS resubmissions, min(first_resubmission_on) AS first_resubmission_on,
           sum(extensions) AS extensions, min(first_extension_on) AS first_extension_on,
           sum(protests) AS protests, min(protest_on) AS protest_on,
           sum(protest_results) AS protest_results, min(protest_result_on) AS protest_result_on,
           min(recommendation_on) AS recommendation_on, min(pre_litigation_on) AS pre_litigation_on,
           min(reply_on) AS reply_on, min(notice_started_on) AS notice_started_on,
           max(notice_ended_on) AS notice_ended_on, min(suit_filed_on) AS suit_filed_on
    FROM f_rare GROUP BY case_pk
    """,
    # clock_event: the events that can move a prosecution review's clock (pr_ev keeps
    # those of the reviews that are not simple). A view: only pr_ev reads it, once.
    """
    CREATE OR REPLACE TEMP VIEW clock_event AS
    SELECT case_id AS case_pk, type, "on", ord,
           CASE WHEN type = 'review_extended' THEN TRY_CAST(json_extract_string(details, '$.days') AS INTEGER) END AS days
    FROM event
    WHERE type IN ('returned_for_investigation', 'resubmitted', 'prosecution_decided', 'review_extended')
    """,
    """
    CREATE OR REPLACE TEMP VIEW cf AS
    SELECT c.*, a.first_event_on, a.first_event_type, a.received_event_on,
           n.general_notice_on, n.any_notice_on, n.arrest_decided_on, n.max_recommended_months,
           coalesce(r.returns, 0) AS returns, r.first_return_on,
           coalesce(r.resubmissions, 0) AS resubmissions, r.first_resubmission_on,
           coalesce(r.extensions, 0) AS extensions, r.first_extension_on,
           coalesce(r.protests, 0) AS protests, r.protest_on,
           coalesce(r.protest_results, 0) AS protest_results, r.protest_result_on,
           r.recommendation_on, r.pre_litigation_on, r.reply_on, r.notice_started_on, r.notice_ended_on, r.suit_filed_on
    FROM c
    LEFT JOIN f_all a ON a.case_pk = c.case_pk
    LEFT JOIN f_case n ON n.case_pk = c.case_pk
    LEFT JOIN f_case_rare r ON r.case_pk = c.case_pk
    """,
    """
    CREATE OR REPLACE TEMP VIEW pf AS
    SELECT p.case_id AS case_pk, p.person_id, p.position, p.juvenile, p.plea_leniency,
           c.unit_id, c.matter_hash, c.business_line, c.procedure, c.received_on, c.closed_on,
           c.detained, c.fast_track, c.complex, c.ruleset, c.as_of,
           f.plea_signed_on,
           f.arrest_on, f.arrest_decision, f.arrest_reason,
           coalesce(r.arrest_reconsiderations, 0) AS arrest_reconsiderations, r.arrest_reconsideration_on,
           coalesce(r.detention_extensions, 0) AS detention_extensions, r.detention_extended_on,
           f.prosecution_on, f.prosecution_decision, f.prosecution_kind,
           f.recommendation_on, f.recommendation_kind, f.recommendation_months,
           f.recommendation_min_months, f.recommendation_max_months,
           f.judgment_on, f.judgment_verdict, f.judgment_months,
           f.judgment_adopted, f.second_judgment_on,
           r.appeal_on, r.protest_on, r.withdrawn_on,
           coalesce(r.non_prosecution_reconsiderations, 0) AS non_prosecution_reconsiderations,
           r.non_prosecution_reconsideration_on
    FROM person p
    JOIN c ON c.case_pk = p.case_id
    LEFT JOIN f_person f ON f.case_pk = p.case_id AND f.person = p.person_id
    LEFT JOIN f_rare r ON r.case_pk = p.case_id AND r.person = p.person_id
    """,
    """
    CREATE OR REPLACE TEMP VIEW pe AS
    SELECT case_pk, person FROM f_person WHERE person <> ''
    UNION SELECT case_pk, person FROM f_rare WHERE person <> ''
    """,
]
CASE_TABLES = [typed_literals(statement) for statement in CASE_TABLES]

# What the statements above derive from the event log alone (nothing else of a case),
# that is what the event facts store keeps between bulk runs
# (:mod:`jiancha.quality.rules.eventfacts`): with ``event_facts=True`` :func:`prepare`
# finds them loaded and does not derive them. ``clock_event`` is a view when derived.
EVENT_FACT_TABLES = (
    "f_all",
    "f_person",
    "rare_event",
    "f_rare",
    "f_case",
    "f_case_rare",
    "clock_event",
)
_CREATED = re.compile(r"\b(?:TABLE|VIEW)\s+(\w+)\s+AS\b")


def created_name(statement: str) -> str:
    """The table or view a ``CREATE ... AS`` statement of :data:`CASE_TABLES` makes."""
    match = _CREATED.search(statement)
    if match is None:
        raise ValueError(f"not a CREATE ... AS statement: {statement[:60]!r}")
    return match.group(1)


# Their statements, in the order they run.
EVENT_FACT_STATEMENTS = [
    statement
    for statement in CASE_TABLES
    if created_name(statement) in EVENT_FACT_TABLES
]

# Deadline rows before counting. ``today`` is the day an unfinished clock is compared with
# (jiancha.cases.deadlines: a return's clock keeps running until the case's closing day at
# least).
# Each branch with the procedures or business lines it needs (one of them present in the
# evaluated cases; None: always run). A few cases evaluated on their own skip the
# branches that cannot yield a row: planning them costs more than running them.
SIMPLE_DEADLINE_BRANCHES: list[tuple[frozenset[str] | None, str]] = [
    (
        None,
        """
SELECT c.case_pk,
       CASE WHEN c.detained THEN 'arrest_review_detained'
            WHEN c.complex THEN 'arrest_review_complex'
            ELSE 'arrest_review_not_detained' END AS key,
       '' AS subject, c.received_on AS start, coalesce(a.arrest_decided_on, c.closed_on) AS ended_on,
       c.detained AS in_custody, 0 AS extra_days, false AS minimum, false AS missed_when_closed,
       getvariable('today') AS today, c.closed_on, c.ruleset
FROM c LEFT JOIN f_case a ON a.case_pk = c.case_pk
WHERE c.procedure = 'arrest_review'
""",
    ),
    (
        frozenset({"prosecution_review"}),
        """
SELECT c.case_pk, 'rights_notice', coalesce(p.person_id, ''), c.received_on,
       CASE WHEN p.person_id IS NULL OR p.person_id = '' THEN g.any_notice_on
            ELSE least(g.general_notice_on, n.notice_on) END,
       c.detained, 0, false, true, getvariable('today'), c.closed_on, c.ruleset
FROM c
LEFT JOIN f_case g ON g.case_pk = c.case_pk
LEFT JOIN person p ON p.case_id = c.case_pk
LEFT JOIN f_notice n ON n.case_pk = p.case_id AND n.person = p.person_id
WHERE c.procedure = 'prosecution_review'
""",
    ),
    (
        frozenset({"civil_supervision", "administrative_supervision"}),
        """
SELECT c.case_pk, CAST(c.procedure AS VARCHAR), '', c.received_on, c.closed_on, false, 0, false, false, getvariable('today'),
       c.closed_on, c.ruleset
FROM c WHERE c.procedure IN ('civil_supervision', 'administrative_supervision')
""",
    ),
    (
        frozenset({"public_interest"}),
        """
SELECT r.case_pk,
       CASE WHEN r.urgent THEN 'pre_litigation_reply_urgent' ELSE 'pre_litigation_reply' END,
       strftime(r."on", '%Y-%m-%d'), r."on",
       (SELECT min(x."on") FROM rare_event x WHERE x.case_pk = r.case_pk AND x.type = 'reply_received' AND x."on" >= r."on"),
       false, 0, false, false, getvariable('today'), k.closed_on, k.ruleset
FROM rare_event r JOIN c k ON k.case_pk = r.case_pk
WHERE (k.procedure = 'public_interest' OR k.business_line = 'public_interest')
  AND r.type = 'recommendation_issued' AND r.kind = 'pre_litigation'
""",
    ),
    (
        frozenset({"public_interest"}),
        """
SELECT r.case_pk, 'public_notice', strftime(r."on", '%Y-%m-%d'), r."on",
       (SELECT min(x."on") FROM rare_event x WHERE x.case_pk = r.case_pk AND x.type = 'public_notice_ended' AND x."on" >= r."on"),
       false, 0, true, false, getvariable('today'), k.closed_on, k.ruleset
FROM rare_event r JOIN c k ON k.case_pk = r.case_pk
WHERE (k.procedure = 'public_interest' OR k.business_line = 'public_interest')
  AND r.type = 'public_notice_started'
""",
    ),
]


SIMPLE_DEADLINE_BRANCHES = [
    (need, typed_literals(branch)) for need, branch in SIMPLE_DEADLINE_BRANCHES
]


def simple_deadlines(present: frozenset[str] | None = None) -> str:
    """The deadlines counted from one start (a query), for the procedures and lines in
    ``present`` (every one when None). Not a table: :func:`count_deadlines` reads them
    with the review periods' rows of ``dl_raw`` (materialising 6M rows at 5M cases cost
    0.2 s more)."""
    return "UNION ALL\n".join(
        branch
        for need, branch in SIMPLE_DEADLINE_BRANCHES
        if need is None or present is None or need & present
    )


# The prosecution review's rows (review periods and returns), filled step by step.
DEADLINE_ROWS = """
CREATE OR REPLACE TEMP TABLE dl_raw AS
SELECT CAST(NULL AS BIGINT) AS case_pk, CAST(NULL AS VARCHAR) AS key, CAST(NULL AS VARCHAR) AS subject,
       CAST(NULL AS DATE) AS start, CAST(NULL AS DATE) AS ended_on, CAST(NULL AS BOOLEAN) AS in_custody,
       CAST(NULL AS INTEGER) AS extra_days, CAST(NULL AS BOOLEAN) AS minimum,
       CAST(NULL AS BOOLEAN) AS missed_when_closed, CAST(NULL AS DATE) AS today,
       CAST(NULL AS DATE) AS closed_on, CAST(NULL AS VARCHAR) AS ruleset
WHERE false
"""


# The limit a prosecution review is counted against (``c k`` and its ``f_case r``).
REVIEW_KEY = """CASE WHEN NOT k.fast_track THEN 'prosecution_review'
                    WHEN coalesce(r.max_recommended_months, 0) > 12 THEN 'prosecution_review_fast_track_long'
                    ELSE 'prosecution_review_fast_track' END"""
# The deadline row of prosecution reviews that are all simple (no return, resubmission or
# extension; no decision before receipt: ``simple`` in ``pr_period_0``): one review
# period from receipt, ended by the first decision, else by the closing; what the review
# clock's statements give for them, in one statement instead of about ten
# (:func:`prepare` with ``simple_reviews``, when the caller has checked the events).
SIMPLE_REVIEW_ROWS = typed_literals(
    f"""
INSERT INTO dl_raw
SELECT k.case_pk, {REVIEW_KEY}, 'review 1', k.received_on, coalesce(r.prosecution_decided_on, k.closed_on),
       k.detained, 0, false, false, getvariable('today'), k.closed_on, k.ruleset
FROM c k LEFT JOIN f_case r ON r.case_pk = k.case_pk
WHERE k.procedure = 'prosecution_review'
"""
)
# The event types that move the review clock besides the decisions.
CLOCK_TYPE_NAMES = frozenset(
    {"returned_for_investigation", "resubmitted", "review_extended"}
)


def review_period_statements(periods: int) -> list[str]:
    """The prosecution-review clock, one review period per step (set-based, unrolled).

    As in :func:`jiancha.cases.deadlines._prosecution_review`: a period starts on receipt,
    then on each resubmission; it ends at the first return or prosecution decision on or
    after its start (events in (date, position) order, after the resubmission that started
    it); extensions inside it add their days (15 when not given) unless the case is fast
    track; a return starts the one-month clock of supplementary investigation, which the
    first resubmission on or after it stops.
    """
    statements = [
        f"""
        CREATE OR REPLACE TEMP TABLE pr_period_0 AS
        SELECT k.case_pk, k.received_on AS start, -9223372036854775807::BIGINT AS after_ord,
               k.fast_track, k.detained, k.closed_on, k.ruleset,
               {REVIEW_KEY} AS key,
               coalesce(q.returns, 0) + coalesce(q.resubmissions, 0) + coalesce(q.extensions, 0) = 0
                   AND (r.prosecution_decided_on IS NULL OR r.prosecution_decided_on >= k.received_on) AS simple,
               r.prosecution_decided_on AS decided_on
        FROM c k LEFT JOIN f_case r ON r.case_pk = k.case_pk LEFT JOIN f_case_rare q ON q.case_pk = k.case_pk
        WHERE k.procedure = 'prosecution_review'
        """,
        # pr_ev: the events that move the clock of the reviews that are not simple.
        """
        CREATE OR REPLACE TEMP TABLE pr_ev AS
        SELECT e.case_pk, e.type, e."on", e.ord, e.days
        FROM clock_event e JOIN pr_period_0 s ON s.case_pk = e.case_pk
        WHERE NOT s.simple
        """,
    ]
    for step in range(periods):
        nxt = step + 1
        statements += [
            f"""
            CREATE OR REPLACE TEMP TABLE pr_end_{step} AS
            SELECT s.case_pk, min(e.ord) AS end_ord, arg_min(e.type, e.ord) AS end_type, arg_min(e."on", e.ord) AS end_on
            FROM pr_period_{step} s JOIN pr_ev e ON e.case_pk = s.case_pk
            WHERE e.ord > s.after_ord AND e."on" >= s.start
              AND e.type IN ('returned_for_investigation', 'prosecution_decided')
            GROUP BY s.case_pk
            """,
            f"""
            CREATE OR REPLACE TEMP TABLE pr_extension_{step} AS
            SELECT s.case_pk, sum(coalesce(nullif(e.days, 0), {DEFAULT_EXTENSION_DAYS})) AS extra_days
            FROM pr_period_{step} s
            JOIN pr_ev e ON e.case_pk = s.case_pk AND e.type = 'review_extended'
            LEFT JOIN pr_end_{step} x ON x.case_pk = s.case_pk
            WHERE NOT s.fast_track AND e.ord > s.after_ord AND e."on" >= s.start AND (x.end_ord IS NULL OR e.ord < x.end_ord)
            GROUP BY s.case_pk
            """,
            f"""
            INSERT INTO dl_raw
            SELECT s.case_pk, s.key, 'review {nxt}', s.start,
                   coalesce(x.end_on, CASE WHEN s.simple THEN s.decided_on END, s.closed_on), s.detained,
                   coalesce(t.extra_days, 0), false, false, getvariable('today'), s.closed_on, s.ruleset
            FROM pr_period_{step} s
            LEFT JOIN pr_end_{step} x ON x.case_pk = s.case_pk
            LEFT JOIN pr_extension_{step} t ON t.case_pk = s.case_pk
            """,
            f"""
            CREATE OR REPLACE TEMP TABLE pr_resubmitted_{step} AS
            SELECT x.case_pk, x.end_on, min(e.ord) AS resubmitted_ord, arg_min(e."on", e.ord) AS resubmitted_on
            FROM pr_end_{step} x LEFT JOIN pr_ev e
              ON e.case_pk = x.case_pk AND e.type = 'resubmitted' AND e."on" >= x.end_on
            WHERE x.end_type = 'returned_for_investigation'
            GROUP BY x.case_pk, x.end_on
            """,
            f"""
            INSERT INTO dl_raw
            SELECT r.case_pk, 'supplementary_investigation', 'return {nxt}', r.end_on, r.resubmitted_on, false, 0, false, false,
                   CASE WHEN s.closed_on IS NULL THEN getvariable('today') ELSE greatest(getvariable('today'), s.closed_on) END,
                   s.closed_on, s.ruleset
            FROM pr_resubmitted_{step} r JOIN pr_period_{step} s ON s.case_pk = r.case_pk
            """,
            f"""
            CREATE OR REPLACE TEMP TABLE pr_period_{nxt} AS
            SELECT s.case_pk, r.resubmitted_on AS start, r.resubmitted_ord AS after_ord,
                   s.fast_track, s.detained, s.closed_on, s.ruleset, s.key,
                   false AS simple, CAST(NULL AS DATE) AS decided_on
            FROM pr_resubmitted_{step} r JOIN pr_period_{step} s ON s.case_pk = r.case_pk
            WHERE r.resubmitted_ord IS NOT NULL
            """,
        ]
    return [typed_literals(statement) for statement in statements]


COUNT_DEADLINES = """
CREATE OR REPLACE TEMP TABLE dl AS
WITH raw AS (
    SELECT * FROM dl_raw
    UNION ALL
    {simple}
), limited AS (
    SELECT d.*, l.days AS limit_days, l.months AS limit_months,
           -- (most limits are days: plain date arithmetic, no interval)
           CASE WHEN l.months = 0 THEN d.start + (l.days + d.extra_days)
                ELSE CAST(d.start + to_months(l.months) + to_days(l.days + d.extra_days) AS DATE) END AS last_day
    FROM raw d
    JOIN limits l ON l.ruleset = d.ruleset AND l.key = d.key
), counted AS (
    SELECT limited.*, CASE WHEN in_custody THEN last_day ELSE working_day(last_day) END AS due
    FROM limited
)
SELECT case_pk, key, subject, start, due, ended_on, in_custody, extra_days, limit_days, limit_months,
       CASE WHEN minimum THEN (CASE WHEN ended_on IS NULL THEN 'running' WHEN ended_on >= due THEN 'met' ELSE 'missed' END)
            WHEN ended_on IS NOT NULL THEN (CASE WHEN ended_on <= due THEN 'met' ELSE 'missed' END)
            WHEN missed_when_closed AND closed_on IS NOT NULL THEN 'missed'
            WHEN today > due THEN 'overdue'
            ELSE 'running' END AS status
FROM counted
"""


def count_deadlines(present: frozenset[str] | None = None) -> str:
    """``dl``: every deadline (``dl_raw`` and the simple ones) with its due day and status."""
    return COUNT_DEADLINES.replace("{simple}", simple_deadlines(present))


def review_periods_needed(con: duckdb.DuckDBPyConnection) -> int:
    """One more review period than the most returns any prosecution review has."""
    row = con.execute(
        'SELECT coalesce(max(r.returns), 0) FROM f_case_rare r JOIN "case" k ON k.id = r.case_pk '
        "WHERE k.procedure = 'prosecution_review'"
    ).fetchone()
    return min(int(row[0] if row else 0) + 1, MAX_REVIEW_PERIODS)


def ruleset_expression(sets: tuple[RuleSet, ...], day: str) -> str:
    """The version in force on ``day`` (an SQL expression): a CASE over the few effective
    dates, cheaper than any join; the first set also covers older cases."""
    branches = " ".join(
        f"WHEN {day} >= DATE '{item.effective.isoformat()}' THEN {quote(item.version)}"
        for item in reversed(sets[1:])
    )
    return (
        f"(CASE {branches} ELSE {quote(sets[0].version)} END)"
        if branches
        else quote(sets[0].version)
    )


def set_today(con: duckdb.DuckDBPyConnection, today: datetime.date) -> None:
    """The day unfinished clocks are compared with (``getvariable('today')``)."""
    con.execute("SET VARIABLE today = ?", [today])


def _has_tables(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> bool:
    """Whether ``con`` is a prepared connection that already has these tables (which can
    then be emptied with a planned ``DELETE`` instead of being computed)."""
    return isinstance(con, PreparedConnection) and set(names) <= con.tables


def prepare(
    con: duckdb.DuckDBPyConnection,
    *,
    today: datetime.date,
    sets: tuple[RuleSet, ...],
    present: frozenset[str] | None = None,
    views: bool = True,
    rare_events: bool = True,
    review_periods: int = 0,
    simple_reviews: bool = False,
    event_facts: bool = False,
) -> None:
    """Derive the engine's tables from ``"case"``, ``person`` and ``event``.

    ``event_facts``: the tables derived from the events alone (:data:`EVENT_FACT_TABLES`)
    are loaded already (from the event facts store), and are not derived again.

    ``present``: the procedures and business lines of the cases (None: not known); the
    deadlines of the others are not looked for. ``views=False`` keeps the views created
    by an earlier call on this connection (they read the tables by name).
    ``rare_events=False``: the events hold none of ``RARE_TYPE_NAMES`` (the caller knows
    it from the rows it loaded), so that the ``RARE_TABLES`` a prepared connection already
    has are only emptied. ``review_periods``: at least this many review periods of the
    prosecution-review clock are followed, whatever the cases (a new single-case
    connection makes their tables once, :meth:`~jiancha.quality.rules.engine.Engine.warm`).
    ``simple_reviews``: every prosecution review among the cases is simple (the caller
    knows it from the event rows it loaded): on a prepared connection that has the review
    clock's tables, their deadline rows come from ``SIMPLE_REVIEW_ROWS`` rather than from
    the clock's statements, and ``pr_ev`` is emptied.
    """
    set_today(con, today)
    in_force = ruleset_expression(sets, "coalesce(k.closed_on, getvariable('today'))")
    # No rare event among the cases (most single cases): the tables of rare events are
    # emptied rather than computed, once a connection has them (a prepared DELETE costs
    # less than the aggregation with its 23 aggregates: 1 ms against 5 ms per case).
    empty = (
        set(RARE_TABLES) if not rare_events and _has_tables(con, RARE_TABLES) else set()
    )
    for statement in CASE_TABLES:
        if event_facts and created_name(statement) in EVENT_FACT_TABLES:
            continue
        if views or "TEMP VIEW" not in statement:
            created = CREATE_TABLE_AS.match(statement)
            if created and created.group(1) in empty:
                con.execute(f"DELETE FROM {created.group(1)}")
                continue
            con.execute(statement.replace("{ruleset_in_force}", in_force))
    con.execute(DEADLINE_ROWS)
    reviews = present is None or "prosecution_review" in present
    if (
        simple_reviews
        and reviews
        and not review_periods
        and _has_tables(con, ["pr_ev"])
    ):
        # A rule reads pr_ev (CR-P01): emptied, not left with an earlier evaluation's
        # events (the same case before an edit, say).
        con.execute("DELETE FROM pr_ev")
        con.execute(SIMPLE_REVIEW_ROWS)
    elif reviews or review_periods:
        periods = max(review_periods_needed(con), review_periods)
        for statement in review_period_statements(periods):
            con.execute(statement)
    con.execute(count_deadlines(present))
