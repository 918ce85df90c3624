"""Loading case data into the engine's DuckDB input tables.

Two ways in, one shape out (``"case"``, ``person``, ``event``, plus ``existing_finding``
and ``existing_evaluation`` for the diff against what is stored):

* :func:`load_from_database` reads the operational database whole (or filtered) through
  DuckDB's SQLite or PostgreSQL scanner (:func:`jiancha.analytics.snapshot.operational_attached`),
  so that millions of rows never pass through Python objects;
* :func:`load_from_rows` takes rows read by the caller (a single case on import, a few
  thousand changed cases): the same SQL then types them.

A bulk run goes through :func:`load_with_event_facts`: as :func:`load_from_database`, but
the tables derived from the events come from the event facts store
(:mod:`jiancha.quality.rules.eventfacts`) for the cases not written since it was stored,
and only the other cases' events are read.

Events keep their details (as JSON text) only for the types the rules read; they are parsed
per event type by :mod:`jiancha.quality.rules.base`. ``ord`` sorts a case's events by
(date, position); event types, procedures and business lines become DuckDB ENUMs.
"""

import datetime
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy

from jiancha.analytics.snapshot import operational_attached, table_source
from jiancha.quality.rules import eventfacts
from jiancha.quality.rules.base import DETAIL_TYPES, unordered
from jiancha.quality.rules.prepared import PreparedConnection
from jiancha.quality.rules.sqltext import quote, values_clause

# As ENUM constants: the test runs on the converted column (integers, not text).
DETAIL_TYPES_SQL = ", ".join(f"{quote(name)}::event_type" for name in DETAIL_TYPES)

CASE_SQL = """
CREATE OR REPLACE TABLE "case" AS
SELECT CAST(k.id AS BIGINT) AS id, CAST(k.unit_id AS BIGINT) AS unit_id, k.case_id,
       hash(CASE WHEN coalesce(k.matter_id, '') = '' THEN CAST(k.unit_id AS VARCHAR) || ':' || k.case_id ELSE k.matter_id END) AS matter_hash,
       TRY_CAST(k.business_line AS line_type) AS business_line, TRY_CAST(k.procedure AS procedure_type) AS procedure,
       k.procurator_id, CAST(k.received_on AS DATE) AS received_on, CAST(k.closed_on AS DATE) AS closed_on,
       CAST(k.detained AS BOOLEAN) AS detained, CAST(k.fast_track AS BOOLEAN) AS fast_track,
       CAST(k.complex AS BOOLEAN) AS complex{facts}{stamp}
FROM {cases} k {where}
"""

PERSON_SQL = """
CREATE OR REPLACE TABLE person AS
SELECT CAST(p.case_id AS BIGINT) AS case_id, CAST(p.position AS INTEGER) AS position, p.person_id,
       CAST(p.juvenile AS BOOLEAN) AS juvenile, CAST(p.plea_leniency AS BOOLEAN) AS plea_leniency,
       coalesce(json_transform(CAST(p.charges AS VARCHAR), '["VARCHAR"]'), []) AS charges,
       coalesce(json_transform(CAST(p.articles AS VARCHAR), '["VARCHAR"]'), []) AS articles
FROM {persons} p {where}
"""

# Only the details the rules read are kept (base.DETAIL_TYPES); they are parsed per event type.
# The position is only kept in ``ord`` (nothing reads it on its own).
EVENT_SQL = """
CREATE OR REPLACE TABLE event AS
SELECT case_id, date_diff('day', DATE '2000-01-01', "on") * 65536 + position AS ord, type, "on", person,
       CASE WHEN type IN ({detail_types}) THEN details END AS details
FROM (
    SELECT CAST(e.case_id AS BIGINT) AS case_id, CAST(e.position AS INTEGER) AS position,
           TRY_CAST(e.type AS event_type) AS type, CAST(e."on" AS DATE) AS "on", coalesce(e.person, '') AS person,
           CAST(e.details AS VARCHAR) AS details
    FROM {events} e {where}
)
"""

EXISTING_SQL = """
CREATE OR REPLACE TABLE existing_finding AS
SELECT CAST(f.case_id AS BIGINT) AS case_pk, CAST(f.id AS BIGINT) AS id, f.fingerprint
FROM {findings} f WHERE CAST(f.current AS BOOLEAN) {and_where}
"""

EXISTING_EVALUATION_SQL = """
CREATE OR REPLACE TABLE existing_evaluation AS
SELECT CAST(v.case_id AS BIGINT) AS case_pk, v.grade, CAST(v.failures AS INTEGER) AS failures,
       CAST(v.defects AS INTEGER) AS defects, CAST(v.notices AS INTEGER) AS notices, v.ruleset_version
FROM {evaluations} v {where}
"""


def fill(template: str, **values: str) -> str:
    """Put table names and conditions into a statement (``str.format`` would trip on the
    braces of DuckDB struct and JSON literals)."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


SMALL_ROWS = 200
RAW_COLUMNS = {
    "case_raw": "id BIGINT, unit_id BIGINT, case_id VARCHAR, matter_id VARCHAR, business_line VARCHAR, procedure VARCHAR, "
    "procurator_id VARCHAR, received_on DATE, closed_on DATE, detained BOOLEAN, fast_track BOOLEAN, complex BOOLEAN",
    "person_raw": "case_id BIGINT, position INTEGER, person_id VARCHAR, juvenile BOOLEAN, plea_leniency BOOLEAN, charges VARCHAR, articles VARCHAR",
    "event_raw": 'case_id BIGINT, position INTEGER, type VARCHAR, "on" DATE, person VARCHAR, details VARCHAR',
    "finding_raw": "case_id BIGINT, id BIGINT, fingerprint VARCHAR, current BOOLEAN",
    "facts_raw": "id BIGINT, facts VARCHAR",
    "evaluation_raw": "case_id BIGINT, grade VARCHAR, failures INTEGER, defects INTEGER, notices INTEGER, ruleset_version VARCHAR",
}
CASE_COLUMNS = (
    "id",
    "unit_id",
    "case_id",
    "matter_id",
    "business_line",
    "procedure",
    "procurator_id",
    "received_on",
    "closed_on",
    "detained",
    "fast_track",
    "complex",
)
PERSON_COLUMNS = (
    "case_id",
    "position",
    "person_id",
    "juvenile",
    "plea_leniency",
    "charges",
    "articles",
)
EVENT_COLUMNS = ("case_id", "position", "type", '"on"', "person", "details")


# Rows read by the caller (load_from_rows); from the database, the facts come with the cases.
FACTS_SQL = """
CREATE OR REPLACE TABLE case_facts AS
SELECT CAST(k.id AS BIGINT) AS case_pk, k.facts FROM {cases} k WHERE length(k.facts) > 0
"""


# The stamp the event facts store compares (jiancha.quality.rules.eventfacts): a hash of
# the case's updated_at as the scanner gives it (comparing 5M integers rather than 5M
# texts: 0.5 s less); with the cases, or read before them.
STAMP = "hash(CAST(k.updated_at AS VARCHAR))"
STAMP_COLUMN = f", {STAMP} AS stamp"
STAMP_SQL = f"""
CREATE OR REPLACE TEMP TABLE case_stamp AS
SELECT CAST(k.id AS BIGINT) AS id, {STAMP} AS stamp FROM {{cases}} k
"""


def load_with_event_facts(
    con: duckdb.DuckDBPyConnection,
    *,
    path: Path,
    case_ids: Sequence[int] | None = None,
    with_facts: bool = False,
    using: str = "default",
    rebuild: bool = False,
) -> eventfacts.StoreUse:
    """As :func:`load_from_database`, with the tables derived from the events taken from
    the event facts store at ``path`` for the cases whose events did not change, and
    derived for the others (whose events alone are read); what was derived is stored
    back. The engine then evaluates with ``event_facts=True``. ``case_stamp`` holds
    the stamps, and ``event`` only the stale cases' events. ``rebuild``: the store is
    not read (every case is derived), and a full run writes it anew."""
    with operational_attached(con, using=using) as vendor:

        def source(table: str) -> str:
            return table_source(vendor, table, using=using)

        attached = not rebuild and eventfacts.attach(con, path, using=using)
        if not attached and case_ids is None:
            # Every case is stale: the stamps first, then the events with the other
            # tables, at once (as without a store).
            with unordered(con):
                con.execute(fill(STAMP_SQL, cases=source("cases_case")))
            _copy_case_tables(con, case_ids=None, with_facts=with_facts, source=source)
            use = eventfacts.mark_stale(con, path=path, attached=False)
        else:
            # The cases with their stamps, then the events of the stale ones.
            _copy_case_tables(
                con,
                case_ids=case_ids,
                with_facts=with_facts,
                source=source,
                events=False,
                stamp=True,
            )
            con.execute(
                'CREATE OR REPLACE TEMP VIEW case_stamp AS SELECT id, stamp FROM "case"'
            )
            use = eventfacts.mark_stale(con, path=path, attached=attached)
            with unordered(con):
                con.execute(
                    fill(
                        EVENT_SQL,
                        detail_types=DETAIL_TYPES_SQL,
                        events=source("cases_event"),
                        where="WHERE e.case_id IN (SELECT id FROM ef_stale)"
                        if use.stale
                        else "WHERE false",
                    )
                )
    eventfacts.assemble(con, use)
    eventfacts.write_back(con, use, full=case_ids is None, using=using)
    con.execute("DROP TABLE IF EXISTS ef_stale")
    return use


def load_from_database(
    con: duckdb.DuckDBPyConnection,
    *,
    case_ids: Sequence[int] | None = None,
    with_facts: bool = False,
    using: str = "default",
) -> str:
    """Copy the case tables (all cases, or ``case_ids``) into the input tables; returns the vendor.

    The events and the persons are read on connections of their own to the same DuckDB
    database while the cases are read on ``con``: the SQLite scanner reads a table on one
    thread, so tables read at once use both cores. The operational database is attached
    (read-only, as ``oltp``) only while it is read: see
    :func:`jiancha.analytics.snapshot.operational_attached` for why Django's connection is
    closed meanwhile on SQLite.
    """
    with operational_attached(con, using=using) as vendor:
        _copy_case_tables(
            con,
            case_ids=case_ids,
            with_facts=with_facts,
            source=lambda table: table_source(vendor, table, using=using),
        )
    return vendor


def _copy_case_tables(
    con: duckdb.DuckDBPyConnection,
    *,
    case_ids: Sequence[int] | None,
    with_facts: bool,
    source: Callable[[str], str],
    events: bool = True,
    stamp: bool = False,
) -> None:
    where = ""
    if case_ids is not None:
        con.register(
            "scope_id_source", {"id": numpy.array(list(case_ids), dtype=numpy.int64)}
        )
        try:
            # Not a temporary table: the second connection reads it too.
            con.execute(
                "CREATE OR REPLACE TABLE scope_id AS SELECT id FROM scope_id_source"
            )
        finally:
            con.unregister("scope_id_source")
        where = "WHERE k.id IN (SELECT id FROM scope_id)"
    child_where = (
        "" if case_ids is None else "WHERE {alias}.case_id IN (SELECT id FROM scope_id)"
    )
    and_where = (
        "" if case_ids is None else "AND {alias}.{column} IN (SELECT id FROM scope_id)"
    )
    event_statement = fill(
        EVENT_SQL,
        detail_types=DETAIL_TYPES_SQL,
        events=source("cases_event"),
        where=fill(child_where, alias="e"),
    )
    person_statement = fill(
        PERSON_SQL, persons=source("cases_person"), where=fill(child_where, alias="p")
    )
    # The facts (for the model rules) are read in the same scan of the cases, not in a
    # scan of their own: at 5M cases that was 0.3 s more, most cases having none.
    facts = ", CAST(k.facts AS VARCHAR) AS facts" if with_facts else ""
    statements = [
        fill(
            CASE_SQL,
            cases=source("cases_case"),
            where=where,
            facts=facts,
            stamp=STAMP_COLUMN if stamp else "",
        ),
        fill(
            EXISTING_SQL,
            findings=source("quality_finding"),
            and_where=fill(and_where, alias="f", column="case_id"),
        ),
        fill(
            EXISTING_EVALUATION_SQL,
            evaluations=source("quality_caseevaluation"),
            where=fill(child_where, alias="v"),
        ),
    ]
    # Events and persons each on a connection of their own, the rest on ``con``: three
    # scans at once keep both cores busy until the last one ends.
    readers = []
    errors: list[BaseException] = []

    def read(cursor: duckdb.DuckDBPyConnection, statement: str) -> None:
        try:
            cursor.execute(statement)
        except BaseException as error:  # re-raised below, in the caller's thread
            errors.append(error)
        finally:
            cursor.close()

    # The rows need no order (events are ordered by ``ord``), and keeping it would make
    # each scan run on one thread.
    side = [("persons", person_statement)]
    if events:
        side.insert(0, ("events", event_statement))
    with unordered(con):
        for name, statement in side:
            reader = threading.Thread(
                target=read,
                args=(con.cursor(), statement),
                name=f"quality-extract-{name}",
            )
            reader.start()
            readers.append(reader)
        try:
            for statement in statements:
                con.execute(statement)
        finally:
            for reader in readers:
                reader.join()
    if errors:
        raise errors[0]
    if with_facts:
        # Only the cases that have facts keep them (the texts are not held twice).
        con.execute(fill(FACTS_SQL, cases='"case"'))
        con.execute('ALTER TABLE "case" DROP COLUMN facts')
    if case_ids is not None:
        con.execute("DROP TABLE IF EXISTS scope_id")


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Append Python rows to ``table``: a VALUES literal when there are few (parsing it is
    cheaper than any conversion), a scan of NumPy arrays when there are many (DuckDB binds
    list parameters and ``executemany`` rows one value at a time)."""
    if not rows:
        return
    if len(rows) <= SMALL_ROWS:
        con.execute(f"INSERT INTO {table} VALUES {values_clause(rows)}")
        return
    arrays = {}
    for index, name in enumerate(columns):
        column = [row[index] for row in rows]
        if all(
            isinstance(value, int) and not isinstance(value, bool) for value in column
        ):
            arrays[name.strip('"')] = numpy.array(column, dtype=numpy.int64)
        else:
            arrays[name.strip('"')] = numpy.array(
                [
                    value.isoformat() if isinstance(value, datetime.date) else value
                    for value in column
                ],
                dtype=object,
            )
    view = f"{table}_rows"
    con.register(view, arrays)
    try:
        names = ", ".join(f'"{name.strip(chr(34))}"' for name in columns)
        con.execute(f"INSERT INTO {table} SELECT {names} FROM {view}")
    finally:
        con.unregister(view)


def _fill(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> str:
    """The rows as something to select from: a typed ``VALUES`` subquery when they are few
    (no table to create and fill: two statements fewer per table on the single-case
    path), else a temporary table filled from NumPy arrays. On a
    :class:`~jiancha.quality.rules.prepared.PreparedConnection`, always a table of fixed
    name, so that the statements reading it keep their text and their plans."""
    if isinstance(con, PreparedConnection):
        return con.replace_rows(table, RAW_COLUMNS[table], list(rows))
    if len(rows) <= SMALL_ROWS:
        typed = [column.rsplit(" ", 1) for column in RAW_COLUMNS[table].split(", ")]
        if not rows:
            nulls = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in typed)
            return f"(SELECT {nulls} WHERE false)"
        casts = ", ".join(
            f"CAST(col{index} AS {kind}) AS {name}"
            for index, (name, kind) in enumerate(typed)
        )
        return f"(SELECT {casts} FROM (VALUES {values_clause(rows)}))"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({RAW_COLUMNS[table]})")
    insert_rows(con, table, columns, rows)
    return table


def load_from_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    cases: Sequence[Sequence[Any]],
    persons: Sequence[Sequence[Any]],
    events: Sequence[Sequence[Any]],
    findings: Sequence[Sequence[Any]] = (),
    evaluations: Sequence[Sequence[Any]] = (),
    facts: Sequence[Sequence[Any]] | None = None,
    existing: bool = True,
) -> None:
    """Fill the input tables from rows in the column order of ``CASE_COLUMNS``,
    ``PERSON_COLUMNS`` and ``EVENT_COLUMNS`` (JSON columns as text), plus the stored current
    findings ``(case_id, id, fingerprint, current)`` and evaluations of those cases.

    The rows are put in last (``fill`` replaces placeholders in order), so that no text
    in them is taken for a placeholder. ``existing=False`` leaves the stored findings and
    grades out (a caller that compares them itself, :meth:`Engine.evaluate_rows`).
    """
    cases_from = _fill(con, "case_raw", CASE_COLUMNS, cases)
    persons_from = _fill(con, "person_raw", PERSON_COLUMNS, persons)
    events_from = _fill(con, "event_raw", EVENT_COLUMNS, events)
    con.execute(fill(CASE_SQL, where="", facts="", stamp="", cases=cases_from))
    con.execute(fill(PERSON_SQL, where="", persons=persons_from))
    con.execute(
        fill(EVENT_SQL, detail_types=DETAIL_TYPES_SQL, where="", events=events_from)
    )
    if existing:
        findings_from = _fill(
            con, "finding_raw", ("case_id", "id", "fingerprint", "current"), findings
        )
        evaluations_from = _fill(
            con,
            "evaluation_raw",
            ("case_id", "grade", "failures", "defects", "notices", "ruleset_version"),
            evaluations,
        )
        con.execute(fill(EXISTING_SQL, and_where="", findings=findings_from))
        con.execute(
            fill(EXISTING_EVALUATION_SQL, where="", evaluations=evaluations_from)
        )
    if facts is not None:
        facts_from = _fill(con, "facts_raw", ("id", "facts"), facts)
        con.execute(fill(FACTS_SQL, cases=facts_from))
