"""Evaluating cases against the rule sets and storing the findings (issue 3 §1–4).

* :func:`evaluation_run` evaluates every case (or those changed since a date) set-based:
  the case tables are copied into DuckDB through its SQLite/PostgreSQL scanner, all rules
  run as a handful of SQL statements, and only what changed is written back.
* :func:`case_evaluate` evaluates one case (with the other records of its matter) in a few
  tens of milliseconds, for the importer and for edits; :func:`cases_evaluate` does the same
  for a list of cases, set-based.

Writes are idempotent and safe to interrupt: each batch of cases is one transaction that
retires the findings that no longer hold, inserts the new ones and updates the grades, so
every case has exactly one current set of findings whether a run finished, failed or was
killed; running again converges to the same state and writes nothing when nothing
changed. A bulk run never overwrites a case evaluated individually after the run started.
"""

import datetime
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb
import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from tqdm import tqdm

from jiancha.core.audit import audit_record
from jiancha.core.sqlite import insert_many, max_variables
from jiancha.quality.choices import RunKind, RunStatus
from jiancha.quality.models import EvaluationRun
from jiancha.quality.rules.engine import FINDING_COLUMNS as ENGINE_FINDING_COLUMNS
from jiancha.quality.rules.engine import GRADE_COLUMNS, Engine, EngineResult
from jiancha.quality.rules.eventfacts import store_path
from jiancha.quality.rules.prepared import PreparedConnection
from jiancha.quality.rules.source import (
    load_from_database,
    load_from_rows,
    load_with_event_facts,
)

logger = logging.getLogger(__name__)

# Up to this many cases are read through Django's connection; more through DuckDB's scanner.
ROWS_PATH_LIMIT = 20_000
# Cases per write transaction.
WRITE_BATCH = 50_000
# From this many new findings, into a findings table holding fewer than half as many rows
# (a first evaluation), the write is one transaction with the secondary indexes of the
# findings and evaluations dropped and built again at the end (building an index once
# costs less than updating it row by row; other writers of these tables wait meanwhile).
BULK_WRITE_MIN = 50_000
BULK_TABLES = ("quality_finding", "quality_caseevaluation")
# PostgreSQL advisory-lock namespace for evaluating a case (see core.audit for 7171001).
CASE_LOCK = 7171002

FINDING_COLUMNS = (
    "case_id",
    "unit_id",
    "procurator_id",
    "period",
    "rule_id",
    "ruleset_version",
    "severity",
    "subject",
    '"values"',
    "legal_basis",
    "fingerprint",
    "current",
    "run_id",
    "raised_at",
)
EVALUATION_COLUMNS = (
    "case_id",
    "unit_id",
    "procurator_id",
    "period",
    "ruleset_version",
    "grade",
    "failures",
    "defects",
    "notices",
    "run_id",
    "evaluated_at",
)


@dataclass(frozen=True)
class WriteCounts:
    cases: int = 0
    raised: int = 0
    retired: int = 0
    grades: int = 0
    skipped_cases: int = 0


@dataclass(frozen=True)
class CaseEvaluationResult:
    """What evaluating a few cases did."""

    case_ids: tuple[int, ...]
    findings: int
    raised: int
    retired: int
    seconds: float
    skipped_rules: tuple[str, ...] = ()


@cache
def default_engine() -> Engine:
    """The packaged rule sets, compiled once per process."""
    return Engine()


_local = threading.local()


# Evaluations on one small connection before it is replaced by a new one (made ready in
# about 0.3 s). It was needed when the tables were emptied with ``DELETE`` (DuckDB keeps
# the deleted rows of its in-memory tables, and every scan got slower, by about 10 µs per
# evaluation); now each evaluation is rolled back and the tables keep no row, and the
# replacement bounds what else a long-lived connection holds (the process grew by 45 MB
# over 3,000 evaluations on one connection, at an even speed).
SMALL_CONNECTION_USES = 256


def _small_connection(
    engine: Engine, *, today: datetime.date, facts_loaded: bool
) -> PreparedConnection:
    """An in-memory DuckDB per thread with the reference tables loaded, reused by
    :func:`case_evaluate` (loading them costs more than evaluating a case), which plans
    each statement once (:mod:`jiancha.quality.rules.prepared`); replaced after
    :data:`SMALL_CONNECTION_USES` evaluations by a new one made ready
    (:meth:`Engine.warm`: its tables made, the old one's statements planned) in the same
    call, so that one evaluation pays for it rather than the dozen after it; likewise its
    statements are planned again at once when ``today`` changes (:meth:`Engine.new_day`)."""
    cached = getattr(_local, "connections", None)
    if cached is None:
        cached = _local.connections = {}
    con, uses, ready_for = cached.get(id(engine), (None, 0, None))
    if con is None or uses >= SMALL_CONNECTION_USES:
        cached.pop(id(engine), None)
        statements = con.statements() if con is not None else []
        if con is not None:
            con.raw.close()
        con, uses = PreparedConnection(engine.connect(threads=1)), 0
        try:
            engine.warm(
                con, today=today, facts_loaded=facts_loaded, statements=statements
            )
        except BaseException:
            con.raw.close()
            raise
    elif today != ready_for:
        engine.new_day(con, today=today)
    cached[id(engine)] = (con, uses + 1, today)
    return con


# --- reading the case tables through Django (small scopes) -------------------------------


def _id_condition(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [
        orjson.dumps(list(ids)).decode()
    ]


def _json_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _fetch(sql: str, column: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    condition, params = _id_condition(column, ids)
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("{ids}", condition), params)
        return list(cursor.fetchall())


def with_matters(case_ids: Iterable[int]) -> list[int]:
    """The cases and every other record of their matters (a prosecution review is checked
    against its arrest review)."""
    ids = sorted(set(case_ids))
    if not ids:
        return []
    matters = [
        row[0]
        for row in _fetch(
            "SELECT DISTINCT matter_id FROM cases_case WHERE {ids} AND matter_id <> ''",
            "id",
            ids,
        )
    ]
    if matters:
        condition, params = (
            ("matter_id = ANY(%s)", [matters])
            if connection.vendor == "postgresql"
            else (
                "matter_id IN (SELECT value FROM json_each(%s))",
                [orjson.dumps(matters).decode()],
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM cases_case WHERE {condition}", params)
            ids = sorted(set(ids) | {row[0] for row in cursor.fetchall()})
    return ids


def load_cases_through_django(
    con: duckdb.DuckDBPyConnection, case_ids: Sequence[int], *, with_facts: bool
) -> None:
    """Fill the engine's input tables with these cases, read through Django's connection."""
    load_from_rows(con, **case_rows(case_ids, with_facts=with_facts))


def case_rows(
    case_ids: Sequence[int], *, with_facts: bool, with_grades: bool = True
) -> dict[str, Any]:
    """The rows of these cases (and their stored findings and, unless ``with_grades`` is
    false, grades), for the engine."""
    cases = _fetch(
        "SELECT id, unit_id, case_id, matter_id, business_line, procedure, procurator_id, received_on, closed_on, "
        "detained, fast_track, complex FROM cases_case WHERE {ids}",
        "id",
        case_ids,
    )
    persons = [
        (*row[:5], _json_text(row[5]), _json_text(row[6]))
        for row in _fetch(
            "SELECT case_id, position, person_id, juvenile, plea_leniency, charges, articles FROM cases_person WHERE {ids}",
            "case_id",
            case_ids,
        )
    ]
    events = [
        (*row[:5], _json_text(row[5]))
        for row in _fetch(
            'SELECT case_id, position, type, "on", person, details FROM cases_event WHERE {ids}',
            "case_id",
            case_ids,
        )
    ]
    findings = _fetch(
        "SELECT case_id, id, fingerprint, current FROM quality_finding WHERE current AND {ids}",
        "case_id",
        case_ids,
    )
    evaluations = (
        _fetch(
            "SELECT case_id, grade, failures, defects, notices, ruleset_version FROM quality_caseevaluation WHERE {ids}",
            "case_id",
            case_ids,
        )
        if with_grades
        else []
    )
    facts = (
        _fetch(
            "SELECT id, facts FROM cases_case WHERE {ids} AND facts <> ''",
            "id",
            case_ids,
        )
        if with_facts
        else None
    )
    return {
        "cases": cases,
        "persons": persons,
        "events": events,
        "findings": findings,
        "evaluations": evaluations,
        "facts": facts,
    }


# --- writing -------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


class _Writer:
    """Writes one batch: retire, insert, upsert grades (raw SQL; thousands of rows)."""

    def __init__(self, run_id: int | None, now: datetime.datetime) -> None:
        self.run_id = run_id
        self.now = now
        self.db_now = connection.ops.adapt_datetimefield_value(now)

    def finding_rows(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # (case_pk, unit_id, procurator_id, period, rule_id, ruleset, severity, subject, vals, legal_basis, fingerprint)
        tail = (True, self.run_id, self.db_now)
        return [
            row + tail
            if type(row[3]) is str  # ISO text already (write_changes)
            else (*row[:3], _iso(row[3]), *row[4:], *tail)
            for row in rows
        ]

    def evaluation_rows(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # (case_pk, unit_id, procurator_id, period, ruleset, grade, failures, defects, notices)
        tail = (self.run_id, self.db_now)
        return [
            row + tail
            if type(row[3]) is str
            else (*row[:3], _iso(row[3]), *row[4:], *tail)
            for row in rows
        ]

    def write(
        self,
        retire: list[int],
        findings: list[tuple[Any, ...]],
        evaluations: list[tuple[Any, ...]],
    ) -> None:
        raise NotImplementedError


class _SQLiteWriter(_Writer):
    """Many rows per ``INSERT`` statement (:func:`jiancha.core.sqlite.insert_many`)."""

    def write(
        self,
        retire: list[int],
        findings: list[tuple[Any, ...]],
        evaluations: list[tuple[Any, ...]],
    ) -> None:
        raw = connection.connection
        if retire:
            raw.execute(
                "UPDATE quality_finding SET current = 0, retired_at = ? WHERE id IN (SELECT value FROM json_each(?))",
                (self.db_now, orjson.dumps(retire).decode()),
            )
        limit = max_variables(raw)
        if findings:
            insert_many(
                raw,
                "quality_finding",
                FINDING_COLUMNS,
                self.finding_rows(findings),
                limit=limit,
            )
        if evaluations:
            updates = ", ".join(
                f"{column} = excluded.{column}" for column in EVALUATION_COLUMNS[1:]
            )
            insert_many(
                raw,
                "quality_caseevaluation",
                EVALUATION_COLUMNS,
                self.evaluation_rows(evaluations),
                suffix=f"ON CONFLICT (case_id) DO UPDATE SET {updates}",
                limit=limit,
            )


class _PostgreSQLWriter(_Writer):
    def write(
        self,
        retire: list[int],
        findings: list[tuple[Any, ...]],
        evaluations: list[tuple[Any, ...]],
    ) -> None:
        cursor = connection.connection.cursor()
        if retire:
            cursor.execute(
                "UPDATE quality_finding SET current = false, retired_at = %s WHERE id = ANY(%s)",
                (self.now, retire),
            )
        if findings:
            with cursor.copy(
                f"COPY quality_finding ({', '.join(FINDING_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in self.finding_rows(findings):
                    copy.write_row(row)
        if evaluations:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS quality_evaluation_stage (LIKE quality_caseevaluation INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            # Emptied here too: inside an outer transaction (nested batches, tests) nothing commits.
            cursor.execute("DELETE FROM quality_evaluation_stage")
            with cursor.copy(
                f"COPY quality_evaluation_stage ({', '.join(EVALUATION_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in self.evaluation_rows(evaluations):
                    copy.write_row(row)
            updates = ", ".join(
                f"{column} = excluded.{column}" for column in EVALUATION_COLUMNS[1:]
            )
            cursor.execute(
                f"INSERT INTO quality_caseevaluation ({', '.join(EVALUATION_COLUMNS)}) "
                f"SELECT {', '.join(EVALUATION_COLUMNS)} FROM quality_evaluation_stage "
                f"ON CONFLICT (case_id) DO UPDATE SET {updates}"
            )


def _writer(run_id: int | None, now: datetime.datetime) -> _Writer:
    if connection.vendor == "postgresql":
        return _PostgreSQLWriter(run_id, now)
    return _SQLiteWriter(run_id, now)


# The engine's rows in the order the writers take them (Engine.evaluate_rows returns the same).
# (The period as ISO text, which both databases take: no conversion row by row in Python.)
INSERT_SELECT = "SELECT {} FROM to_insert".format(
    ", ".join(
        "strftime(period, '%Y-%m-%d')" if column == "period" else column
        for column in ENGINE_FINDING_COLUMNS
    )
)
EVALUATION_SELECT = "SELECT {} FROM eval_write".format(
    ", ".join(
        "strftime(period, '%Y-%m-%d')" if column == "period" else column
        for column in GRADE_COLUMNS
    )
)


def _bulk_write(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the difference is a first evaluation's: many new findings, few stored."""
    (inserts,) = con.execute("SELECT count(*) FROM to_insert").fetchone() or (0,)
    if inserts < BULK_WRITE_MIN:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM quality_finding")
        (stored,) = cursor.fetchone()
    return bool(stored * 2 <= inserts)


def _secondary_indexes() -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes of BULK_TABLES."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
                [list(BULK_TABLES)],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN (%s, %s) "
                "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'",
                list(BULK_TABLES),
            )
        return [(name, sql) for name, sql in cursor.fetchall()]


@contextmanager
def _bulk_indexes() -> Iterator[None]:
    """Inside the caller's transaction: drop the secondary indexes, build them again."""
    indexes = _secondary_indexes()
    with connection.cursor() as cursor:
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The deferred foreign-key checks of the rows written are due before an
            # index on their table can be built.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, sql in indexes:
            cursor.execute(sql)


def write_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int | None,
    batch_size: int = WRITE_BATCH,
    fresher_than: datetime.datetime | None = None,
    progress: bool = False,
    lock: bool = False,
    close: bool = False,
) -> WriteCounts:
    """Write the engine's difference, one transaction per batch of cases (a first
    evaluation: one transaction, see BULK_WRITE_MIN).

    ``fresher_than``: cases whose stored evaluation is newer than this (evaluated on their
    own while a bulk run was going) are left alone. ``close``: close ``con`` once the last
    rows are read from it, on a thread of its own while the writes go on (freeing the
    engine's memory takes a core for a while); it has been closed when this returns.
    """
    now = timezone.now()
    closer: list[threading.Thread] = []

    def release() -> None:
        thread = threading.Thread(target=con.close, name="quality-engine-close")
        thread.start()
        closer.append(thread)

    try:
        with ExitStack() as bulk:
            checked = None
            if _bulk_write(con):
                if connection.vendor == "sqlite":
                    bulk.enter_context(_row_checks_off())
                bulk.enter_context(transaction.atomic())
                bulk.enter_context(_bulk_indexes())
                if connection.vendor == "sqlite":
                    checked = _ParentCheck(run_id)
            counts = _write_batches(
                con,
                run_id=run_id,
                now=now,
                batch_size=batch_size,
                fresher_than=fresher_than,
                progress=progress,
                lock=lock,
                on_last_read=release if close else None,
                written=checked,
            )
            if checked is not None:
                checked.verify()  # inside the transaction: an orphan rolls everything back
            return counts
    finally:
        if closer:
            closer[0].join()
        elif close:
            con.close()


@contextmanager
def _row_checks_off() -> Iterator[None]:
    """SQLite: neither foreign keys nor CHECK constraints are checked row by row for the
    statements of the block (a first evaluation's inserts); :class:`_ParentCheck` checks
    the written rows' cases, units and run at the end instead, one query each.

    Checking each inserted row's case as it is written costs a B-tree lookup in the case
    table per row, about 1.3 s of the bulk write at 5M cases (the check at the end: 0.2 s);
    the CHECK constraints are ``json_valid`` on two columns of each finding, whose text
    the engine made (DuckDB's ``to_json``, ``json.dumps``: 0.15 s at 5M cases). The
    foreign-key pragma takes effect outside a transaction only: inside one (an outer
    ``atomic``) the row-by-row foreign-key checks stay on.
    """
    connection.ensure_connection()
    raw = connection.connection
    (enabled,) = raw.execute("PRAGMA foreign_keys").fetchone()
    (ignored,) = raw.execute("PRAGMA ignore_check_constraints").fetchone()
    if enabled:
        raw.execute("PRAGMA foreign_keys = OFF")
    if not ignored:
        raw.execute("PRAGMA ignore_check_constraints = ON")
    try:
        yield
    finally:
        if enabled:
            raw.execute("PRAGMA foreign_keys = ON")
        if not ignored:
            raw.execute("PRAGMA ignore_check_constraints = OFF")


class _ParentCheck:
    """The rows a bulk write adds refer to an existing case, unit and run: checked at the
    end of the write, inside its transaction, instead of row by row. The writer notes the
    cases and units of the rows it writes (:meth:`add`); each is looked up once, in order."""

    def __init__(self, run_id: int | None) -> None:
        self.run_id = run_id
        self.cases: set[int] = set()
        self.units: set[int] = set()

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows of findings or grades, ``(case_pk, unit_id, ...)``."""
        self.cases.update(row[0] for row in rows)
        self.units.update(row[1] for row in rows)

    def verify(self) -> None:
        missing_sql = (
            "SELECT value FROM json_each(%s) "
            "WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE id = value) LIMIT 1"
        )
        checks = [
            ("case", "cases_case", self.cases),
            ("unit", "accounts_unit", self.units),
            ("evaluation run", "quality_evaluationrun", {self.run_id} - {None}),
        ]
        with connection.cursor() as cursor:
            for parent, table, ids in checks:
                if not ids:
                    continue
                cursor.execute(
                    missing_sql.format(table=table),
                    [orjson.dumps(sorted(ids)).decode()],
                )
                missing = cursor.fetchone()
                if missing is not None:
                    raise IntegrityError(
                        f"{parent} {missing[0]} no longer exists; the evaluation wrote nothing"
                    )


def _read_batches(
    con: duckdb.DuckDBPyConnection,
    batches: list[tuple[int, int, int]],
    out: "queue.Queue[Any]",
    on_last_read: Callable[[], None] | None,
    stop: threading.Event,
) -> None:
    """Fetch each batch's rows from the engine into ``out`` (on a thread of its own, so
    that converting the next batch's rows overlaps with writing this one), or the
    exception that stopped it. ``stop``: the writer gave up."""
    try:
        for number, (low, high, _count) in enumerate(batches, start=1):
            if stop.is_set():
                return
            between = {"low": low, "high": high}
            rows = (
                con.execute(
                    "SELECT id, case_pk FROM to_retire WHERE case_pk BETWEEN $low AND $high",
                    between,
                ).fetchall(),
                con.execute(
                    INSERT_SELECT
                    + " WHERE case_pk BETWEEN $low AND $high ORDER BY case_pk",
                    between,
                ).fetchall(),
                con.execute(
                    EVALUATION_SELECT
                    + " WHERE case_pk BETWEEN $low AND $high ORDER BY case_pk",
                    between,
                ).fetchall(),
            )
            if number == len(batches) and on_last_read is not None:
                on_last_read()  # con is not used after this
            out.put(rows)
    except BaseException as error:  # re-raised by the writing thread
        out.put(error)


def _write_batch(
    writer: "_Writer",
    retire_rows: list[tuple[Any, ...]],
    insert_rows: list[tuple[Any, ...]],
    evaluation_rows: list[tuple[Any, ...]],
    *,
    low: int,
    high: int,
    fresher_than: datetime.datetime | None,
    lock: bool,
    written: _ParentCheck | None,
) -> WriteCounts:
    """One batch in one transaction (nested in the bulk write's, if any), less the cases
    evaluated on their own since ``fresher_than``."""
    with transaction.atomic():
        if lock and connection.vendor == "postgresql":
            cases = {row[0] for row in insert_rows + evaluation_rows}
            cases |= {row[1] for row in retire_rows}
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, CAST(id AS INTEGER)) FROM unnest(%s::bigint[]) AS id ORDER BY id",
                    [CASE_LOCK, sorted(cases)],
                )
        fresh: set[int] = set()
        if fresher_than is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT case_id FROM quality_caseevaluation WHERE case_id BETWEEN %s AND %s AND evaluated_at > %s",
                    [low, high, fresher_than],
                )
                fresh = {row[0] for row in cursor.fetchall()}
        if fresh:
            retire_rows = [row for row in retire_rows if row[1] not in fresh]
            insert_rows = [row for row in insert_rows if row[0] not in fresh]
            evaluation_rows = [row for row in evaluation_rows if row[0] not in fresh]
        if written is not None:
            written.add(insert_rows)
            written.add(evaluation_rows)
        writer.write([row[0] for row in retire_rows], insert_rows, evaluation_rows)
    return WriteCounts(
        raised=len(insert_rows),
        retired=len(retire_rows),
        grades=len(evaluation_rows),
        skipped_cases=len(fresh),
    )


def _write_batches(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int | None,
    now: datetime.datetime,
    batch_size: int,
    fresher_than: datetime.datetime | None,
    progress: bool,
    lock: bool,
    on_last_read: Callable[[], None] | None,
    written: _ParentCheck | None = None,
) -> WriteCounts:
    writer = _writer(run_id, now)
    batches = con.execute(
        """SELECT min(case_pk), max(case_pk), count(*) FROM (
               SELECT case_pk, (row_number() OVER (ORDER BY case_pk) - 1) // $size AS batch FROM changed_case)
           GROUP BY batch ORDER BY batch""",
        {"size": batch_size},
    ).fetchall()
    total = sum(count for _lo, _hi, count in batches)
    raised = retired = grades = skipped = 0
    if not batches and on_last_read is not None:
        on_last_read()
    # The rows are read on a thread while the previous batch is written; at most two
    # batches wait, so memory stays bounded.
    fetched: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    reader = threading.Thread(
        target=_read_batches,
        args=(con, batches, fetched, on_last_read, stop),
        name="quality-write-read",
        daemon=True,
    )
    reader.start()
    try:
        with tqdm(
            total=total,
            unit=" cases",
            file=sys.stderr,
            disable=not progress,
            mininterval=0.5,
            desc="write",
        ) as bar:
            for low, high, count in batches:
                item = fetched.get()
                if isinstance(item, BaseException):
                    raise item
                done = _write_batch(
                    writer,
                    *item,
                    low=low,
                    high=high,
                    fresher_than=fresher_than,
                    lock=lock,
                    written=written,
                )
                raised += done.raised
                retired += done.retired
                grades += done.grades
                skipped += done.skipped_cases
                bar.update(count)
    finally:
        # On an error the reader may wait to put a batch nobody takes: make room until it
        # ends (it stops before the next batch).
        stop.set()
        while reader.is_alive():
            try:
                fetched.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()
    return WriteCounts(
        cases=total,
        raised=raised,
        retired=retired,
        grades=grades,
        skipped_cases=skipped,
    )


# --- evaluating ----------------------------------------------------------------------------


def changed_case_ids(since: datetime.date) -> list[int]:
    """Cases changed (imported, updated) on or after ``since``, and every open case (its
    deadlines move with the calendar)."""
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM cases_case WHERE updated_at >= %s OR closed_on IS NULL OR closed_on >= %s",
            # Adapted as the ORM stores it: SQLite keeps UTC text, which an aware local
            # time (…+08:00) would be compared with as text, missing the day's first hours.
            [connection.ops.adapt_datetimefield_value(start), since],
        )
        return [row[0] for row in cursor.fetchall()]


def evaluation_run(
    *,
    since: datetime.date | None = None,
    case_ids: Sequence[int] | None = None,
    actor: Any = None,
    today: datetime.date | None = None,
    progress: bool = False,
    batch_size: int = WRITE_BATCH,
    engine: Engine | None = None,
    threads: int | None = None,
    rebuild_event_facts: bool = False,
) -> EvaluationRun:
    """Evaluate every case (or those changed since ``since``, or ``case_ids``) and store
    what changed. Returns the finished run; a failure marks the run failed and re-raises.
    ``rebuild_event_facts``: the event facts store is not read, and a full run writes it
    anew (:mod:`jiancha.quality.rules.eventfacts`)."""
    engine = engine or default_engine()
    today = today or timezone.localdate()
    started = time.perf_counter()
    kind = (
        RunKind.FULL
        if since is None and case_ids is None
        else (RunKind.SINCE if since is not None else RunKind.CASES)
    )
    run = EvaluationRun.objects.create(
        kind=kind,
        since=since,
        started_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        rulesets=[item.version for item in engine.sets],
    )
    try:
        con = engine.connect(threads=threads)
        with_facts = engine.models_available()
        ids: list[int] | None = None
        if since is not None:
            ids = with_matters(changed_case_ids(since))
        elif case_ids is not None:
            ids = with_matters(case_ids)
        with tqdm(
            total=3,
            desc="load, rules",
            file=sys.stderr,
            disable=not progress,
            bar_format="{desc}: {n}/{total} {elapsed}",
        ) as bar:
            store = store_path()
            event_facts = False
            if ids is not None and len(ids) <= ROWS_PATH_LIMIT:
                load_cases_through_django(con, ids, with_facts=with_facts)
            elif store is not None:
                run.event_facts = load_with_event_facts(
                    con,
                    path=store,
                    case_ids=ids,
                    with_facts=with_facts,
                    rebuild=rebuild_event_facts,
                )
                event_facts = True
            else:
                load_from_database(con, case_ids=ids, with_facts=with_facts)
            bar.update(1)
            result: EngineResult = engine.evaluate(
                con, today=today, facts_loaded=with_facts, event_facts=event_facts
            )
            bar.update(2)
        counts = write_changes(
            con,
            run_id=run.pk,
            batch_size=batch_size,
            fresher_than=run.started_at,
            progress=progress,
            close=True,
        )
    except BaseException as error:
        run.status = RunStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"[:2000]
        run.finished_at = timezone.now()
        run.seconds = time.perf_counter() - started
        run.save(update_fields=["status", "error", "finished_at", "seconds"])
        raise
    run.status = RunStatus.COMPLETED
    run.finished_at = timezone.now()
    run.seconds = time.perf_counter() - started
    run.cases = result.cases
    run.cases_changed = counts.cases - counts.skipped_cases
    run.findings_raised = counts.raised
    run.findings_retired = counts.retired
    run.skipped_rules = result.skipped_rules
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "seconds",
            "cases",
            "cases_changed",
            "findings_raised",
            "findings_retired",
            "skipped_rules",
        ]
    )
    audit_record(
        actor=actor,
        verb="quality.evaluate",
        target=run,
        details={
            "kind": kind,
            "since": since.isoformat() if since else None,
            "cases": result.cases,
            "raised": counts.raised,
            "retired": counts.retired,
        },
    )
    return run


def cases_evaluate(
    *,
    case_ids: Sequence[int],
    today: datetime.date | None = None,
    engine: Engine | None = None,
) -> CaseEvaluationResult:
    """Evaluate these cases (and the other records of their matters) now, in one
    transaction, writing every evaluated case's grade. For imports and edits of up to a
    few thousand cases; larger sets go through :func:`evaluation_run` with ``case_ids``."""
    engine = engine or default_engine()
    today = today or timezone.localdate()
    started = time.perf_counter()
    ids = with_matters(case_ids)
    if not ids:
        return CaseEvaluationResult((), 0, 0, 0, 0.0)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, CAST(id AS INTEGER)) FROM unnest(%s::bigint[]) AS id ORDER BY id",
                    [CASE_LOCK, ids],
                )
        with_facts = engine.models_available()
        con = _small_connection(engine, today=today, facts_loaded=with_facts)
        # Every grade is written: the stored ones are not needed. The stored findings are
        # compared below, in Python: DuckDB does not need them either.
        rows = case_rows(ids, with_facts=with_facts, with_grades=False)
        with con.rolled_back():
            load_from_rows(con, **rows, existing=False)
            findings, grades, skipped = engine.evaluate_rows(
                con,
                today=today,
                facts_loaded=with_facts,
                cases=rows["cases"],
                events=rows["events"],
                facts=rows["facts"],
            )
        # The difference with the stored current findings, by fingerprint (as the bulk
        # path's DIFF does in DuckDB); every evaluated case gets its grade written.
        new_keys = {(row[0], row[-1]) for row in findings}
        stored_keys = set()
        retire = []
        for case_pk, finding_id, fingerprint, _current in rows["findings"]:
            stored_keys.add((case_pk, fingerprint))
            if (case_pk, fingerprint) not in new_keys:
                retire.append(finding_id)
        insert = [row for row in findings if (row[0], row[-1]) not in stored_keys]
        _writer(None, timezone.now()).write(retire, insert, grades)
    return CaseEvaluationResult(
        case_ids=tuple(ids),
        findings=len(findings),
        raised=len(insert),
        retired=len(retire),
        seconds=time.perf_counter() - started,
        skipped_rules=tuple(skipped),
    )


def case_evaluate(
    case: Any, *, today: datetime.date | None = None, engine: Engine | None = None
) -> CaseEvaluationResult:
    """Evaluate one case now (with the other records of its matter); the importer calls it
    after a case is imported or changed."""
    return cases_evaluate(case_ids=[case.pk], today=today, engine=engine)


def cases_changed(
    *,
    case_ids: Sequence[int] | None = None,
    changed_since: datetime.datetime | None = None,
    count: int | None = None,
    actor: Any = None,
    today: datetime.date | None = None,
) -> Any:
    """The hook code that writes cases calls (``CASES_CHANGED_HOOKS``, see
    :mod:`jiancha.cases.services`): evaluate these cases now.

    ``case_ids`` lists the cases; a large write gives ``changed_since`` instead (every case
    it wrote has ``updated_at`` on or after it). Up to :data:`ROWS_PATH_LIMIT` cases are
    evaluated in one transaction through Django's connection (:func:`cases_evaluate`, tens
    of milliseconds for one case); more become an evaluation run over the scanner
    (:func:`evaluation_run` with ``case_ids``), and a write that touched at least half of
    all cases (a first load) a full run, which costs less than restricting it. Called
    after the writing transaction has committed, so that the scanner sees the rows.
    ``count`` is informative only.
    """
    if case_ids is None:
        if changed_since is None:
            return None
        ids, full = _written_since(changed_since)
        if full:
            return evaluation_run(actor=actor, today=today)
    else:
        ids = list(dict.fromkeys(case_ids))
    if not ids:
        return None
    if len(ids) <= ROWS_PATH_LIMIT:
        return cases_evaluate(case_ids=ids, today=today)
    return evaluation_run(case_ids=ids, actor=actor, today=today)


def _written_since(changed_since: datetime.datetime) -> tuple[list[int], bool]:
    """The cases written on or after ``changed_since``, or ``([], True)`` when they are at
    least half of all cases (then a full run is cheaper than listing them)."""
    # Adapted as the ORM stores it (SQLite: UTC text, which compares as text).
    since = connection.ops.adapt_datetimefield_value(changed_since)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(CASE WHEN updated_at >= %s THEN 1 ELSE 0 END), 0) FROM cases_case",
            [since],
        )
        total, written = cursor.fetchone()
        if written and 2 * written >= total:
            return [], True
        cursor.execute("SELECT id FROM cases_case WHERE updated_at >= %s", [since])
        return [row[0] for row in cursor.fetchall()], False
