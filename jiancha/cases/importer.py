"""Importing cases from the exchange format (docs/exchange-format.md).

A file is imported whole or not at all: every line is validated, the valid cases are
written in batches inside one transaction, and the first bad line stops the writing while
the rest of the file is still validated, so that all bad lines are reported at once
(:class:`ImportFailed`); the transaction is then rolled back.

Importing a case again (same unit and case number) updates it: its row is updated in
place and its persons, events and charges are replaced.

Rows are written with raw SQL rather than the ORM because imports run to millions of cases
(demo data, yearly exports of a province): ``COPY`` on PostgreSQL and ``executemany`` on
SQLite. ``bench/import_cases.py`` measures it against a per-object ORM loop.
"""

import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from jiancha.accounts.access import user_scope
from jiancha.accounts.models import Unit
from jiancha.cases.exchange import CaseRecord, InvalidRecord, LineError, parse_line
from jiancha.core.audit import audit_record

__all__ = [
    "BATCH_SIZE",
    "MAX_ERRORS",
    "ImportFailed",
    "ImportResult",
    "LineError",
    "import_lines",
    "import_records",
    "importable_units",
    "validate_line",
]

BATCH_SIZE = 5000
MAX_ERRORS = 1000
TABLES = ("cases_case", "cases_person", "cases_event", "cases_casecharge")


@dataclass(frozen=True)
class ImportResult:
    """What an import did: cases created and updated, lines read, wall time."""

    created: int
    updated: int
    lines: int
    seconds: float

    @property
    def cases_per_second(self) -> float:
        return (self.created + self.updated) / self.seconds if self.seconds else 0.0


class ImportFailed(Exception):  # noqa: N818 (the name other code imports)
    """The input had bad lines; nothing was written.

    ``errors`` lists at most :data:`MAX_ERRORS` bad lines in file order; ``truncated`` says
    whether validation stopped there.
    """

    def __init__(self, errors: list[LineError], *, truncated: bool = False) -> None:
        self.errors = errors
        self.truncated = truncated
        super().__init__(
            _("%(count)s bad lines; nothing was imported. First: %(first)s")
            % {"count": len(errors), "first": str(errors[0]) if errors else ""}
        )


def importable_units(actor: Any = None) -> dict[str, int]:
    """Org code -> unit id of the units ``actor`` may import into (all for the system).

    Units outside the actor's scope are absent, so their codes are reported as unknown,
    which does not reveal more than an unknown code would.
    """
    if actor is None:
        return dict(Unit.objects.values_list("code", "id"))
    scope = user_scope(actor)
    if scope.unit is None:
        return {}
    if scope.kind == "subtree":
        return dict(Unit.objects.subtree_of(scope.unit).values_list("code", "id"))
    if scope.kind == "unit":
        return {scope.unit.code: scope.unit.pk}
    return {}


def validate_line(
    raw: bytes | str, line_no: int, *, units: Mapping[str, int] | None = None
) -> LineError | None:
    """The problem of one line, or ``None`` if it is a valid case (blank lines are valid).

    ``units`` defaults to every unit of the database.
    """
    if units is None:
        units = importable_units()
    try:
        parse_line(raw, units)
    except InvalidRecord as error:
        if not raw.strip():
            return None
        return LineError(line_no, error.field, error.reason)
    return None


# --- writing -----------------------------------------------------------------------------

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
    "facts",
    "primary_charge",
    "person_count",
    "extra",
    "created_at",
    "updated_at",
)
PERSON_COLUMNS = (
    "case_id",
    "position",
    "person_id",
    "name",
    "juvenile",
    "plea_leniency",
    "charges",
    "articles",
    "extra",
)
EVENT_COLUMNS = ("case_id", "position", "type", '"on"', "person", "details")
CHARGE_COLUMNS = ("case_id", "charge")
# The columns an update sets: every case column but id, unit, number and created_at.
UPDATE_COLUMNS = CASE_COLUMNS[3:16] + ("updated_at",)

# A bitmap of the (unit, case number) keys written so far, when the table was empty at the
# start: a key whose bit is clear cannot exist yet, so most batches need no lookup.
SEEN_BITS = 1 << 26  # 8 MiB


class _Writer:
    """Writes batches of valid cases with the fastest statements of one database.

    In *bulk mode* the secondary indexes of the case tables (and, on PostgreSQL, their
    foreign keys) are dropped while loading and built again at the end, in the same
    transaction: building an index once is several times cheaper than updating it row by
    row (PostgreSQL manual, "Populating a Database"). Primary and unique keys stay, and so
    do the child tables' indexes that lead with ``case_id``: rows are appended in id order,
    which keeps them cheap, and they serve the deletes of an update. Bulk mode locks the
    case tables until the import commits (on PostgreSQL readers wait too), so it is chosen
    automatically only when the case table is empty.
    """

    def __init__(self) -> None:
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())
        self.created = 0
        self.updated = 0
        # Ids this import allocated are >= first_new_id: a case repeated in a later batch
        # then counts once, as created.
        self.first_new_id: int | None = None
        self.dropped: list[tuple[str, str]] = []
        self.bulk = False
        self.seen: bytearray | None = None

    def start(self, *, bulk: bool | None) -> None:
        empty = self.is_empty()
        if empty:
            self.seen = bytearray(SEEN_BITS // 8)
        self.bulk = empty if bulk is None else bulk
        if self.bulk:
            self.begin_bulk()

    def finish(self) -> None:
        if self.bulk:
            self.end_bulk()

    def write(self, batch: list[CaseRecord]) -> None:
        if not batch:
            return
        # A case repeated within the batch: the last one wins.
        records = {(record[0], record[1]): record for record in batch}
        existing = self.existing_ids(self.maybe_existing(records))
        if existing:
            updates = [
                (existing[key], record)
                for key, record in records.items()
                if key in existing
            ]
            new = [record for key, record in records.items() if key not in existing]
            update_ids = [case_pk for case_pk, _record in updates]
            self.delete_children(update_ids)
            self.update_cases(updates)
            first = self.first_new_id
            self.updated += sum(
                1 for case_pk in update_ids if first is None or case_pk < first
            )
        else:
            updates = []
            new = list(records.values()) if len(records) < len(batch) else batch
        pairs = list(zip(self.allocate_ids(len(new)), new, strict=True)) if new else []
        if pairs:
            if self.first_new_id is None:
                self.first_new_id = pairs[0][0]
            self.insert_cases(pairs)
            self.created += len(pairs)
        self.insert_children(pairs + updates if updates else pairs)

    def maybe_existing(
        self, records: dict[tuple[int, str], CaseRecord]
    ) -> list[tuple[int, str]]:
        """The keys that may name a case in the database."""
        seen = self.seen
        if seen is None:
            return list(records)
        keys = []
        mask = SEEN_BITS - 1
        for key in records:
            bit = hash(key) & mask
            index, flag = bit >> 3, 1 << (bit & 7)
            if seen[index] & flag:
                keys.append(key)
            else:
                seen[index] |= flag
        return keys

    def case_rows(self, pairs: list[tuple[int, CaseRecord]]) -> list[tuple[Any, ...]]:
        now = self.now
        return [(case_pk, *record[:15], now, now) for case_pk, record in pairs]

    def update_rows(
        self, updates: list[tuple[int, CaseRecord]]
    ) -> list[tuple[Any, ...]]:
        now = self.now
        return [(*record[2:15], now, case_pk) for case_pk, record in updates]

    def update_sql(self, placeholder: str) -> str:
        assignments = ", ".join(
            f"{column} = {placeholder}" for column in UPDATE_COLUMNS
        )
        return f"UPDATE cases_case SET {assignments} WHERE id = {placeholder}"

    # Database-specific parts.

    def execute(self, sql: str, params: Any = ()) -> Any:
        raise NotImplementedError

    def is_empty(self) -> bool:
        return self.execute("SELECT 1 FROM cases_case LIMIT 1").fetchone() is None

    def droppable_indexes(self) -> list[tuple[str, str]]:
        """(name, CREATE INDEX statement) of the indexes bulk mode drops."""
        raise NotImplementedError

    def begin_bulk(self) -> None:
        self.dropped = self.droppable_indexes()
        for name, _sql in self.dropped:
            self.execute(f'DROP INDEX "{name}"')

    def end_bulk(self) -> None:
        for _name, sql in self.dropped:
            self.execute(sql)
        self.dropped = []

    def existing_ids(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
        raise NotImplementedError

    def allocate_ids(self, count: int) -> list[int]:
        raise NotImplementedError

    def delete_children(self, case_ids: list[int]) -> None:
        raise NotImplementedError

    def update_cases(self, updates: list[tuple[int, CaseRecord]]) -> None:
        raise NotImplementedError

    def insert_cases(self, pairs: list[tuple[int, CaseRecord]]) -> None:
        raise NotImplementedError

    def insert_children(self, pairs: list[tuple[int, CaseRecord]]) -> None:
        raise NotImplementedError


class _SQLiteWriter(_Writer):
    """Multi-row ``INSERT`` statements on the raw sqlite3 connection.

    One statement inserts up to ROWS_PER_STATEMENT rows, which halves the cost per row
    against one row per statement.
    """

    ROWS_PER_STATEMENT = 64

    def __init__(self) -> None:
        super().__init__()
        self.raw = connection.connection
        self.next_id: int | None = None
        try:
            self.max_variables = self.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except AttributeError:  # pragma: no cover (Python < 3.11)
            self.max_variables = 999

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.raw.execute(sql, params)

    def droppable_indexes(self) -> list[tuple[str, str]]:
        indexes = []
        for table in TABLES:
            rows = self.raw.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'",
                (table,),
            ).fetchall()
            for name, sql in rows:
                first = self.raw.execute(
                    "SELECT name FROM pragma_index_info(?) WHERE seqno = 0", (name,)
                ).fetchone()
                if table == "cases_case" or first is None or first[0] != "case_id":
                    indexes.append((name, sql))
        return indexes

    def end_bulk(self) -> None:
        # Let the sorter use helper threads for the index builds.
        self.raw.execute("PRAGMA threads = 4")
        super().end_bulk()

    def existing_ids(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
        if not keys:
            return {}
        # One parameter (a JSON array of [unit_id, case_id]) whatever the batch size; the
        # join uses the unique (unit_id, case_id) index.
        rows = self.raw.execute(
            "SELECT c.id, c.unit_id, c.case_id FROM json_each(?) AS k "
            "JOIN cases_case AS c ON c.unit_id = k.value ->> 0 AND c.case_id = k.value ->> 1",
            (orjson.dumps(keys).decode(),),
        )
        return {(unit_id, case_id): case_pk for case_pk, unit_id, case_id in rows}

    def allocate_ids(self, count: int) -> list[int]:
        # The write transaction is IMMEDIATE (settings), so no other writer can take these
        # ids. AUTOINCREMENT tables never reuse an id, hence sqlite_sequence as well.
        if self.next_id is None:
            (last,) = self.raw.execute(
                "SELECT max(coalesce((SELECT max(id) FROM cases_case), 0), "
                "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'cases_case'), 0))"
            ).fetchone()
            self.next_id = last + 1
        first = self.next_id
        self.next_id += count
        return list(range(first, first + count))

    def delete_children(self, case_ids: list[int]) -> None:
        ids = orjson.dumps(case_ids).decode()
        for table in ("cases_person", "cases_event", "cases_casecharge"):
            self.raw.execute(
                f"DELETE FROM {table} WHERE case_id IN (SELECT value FROM json_each(?))",
                (ids,),
            )

    def update_cases(self, updates: list[tuple[int, CaseRecord]]) -> None:
        self.raw.executemany(self.update_sql("?"), self.update_rows(updates))

    def insert_many(
        self, table: str, columns: tuple[str, ...], flat: list[Any]
    ) -> None:
        """Insert rows given as one flat list of values, many rows per statement."""
        width = len(columns)
        per_statement = max(
            1, min(self.ROWS_PER_STATEMENT, self.max_variables // width)
        )
        names = ", ".join(columns)
        row = "(" + ", ".join("?" * width) + ")"
        step = per_statement * width
        full = len(flat) - len(flat) % step
        if full:
            sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join(
                [row] * per_statement
            )
            self.raw.executemany(
                sql, [flat[start : start + step] for start in range(0, full, step)]
            )
        if full < len(flat):
            rest = (len(flat) - full) // width
            sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join([row] * rest)
            self.raw.execute(sql, flat[full:])

    def insert_cases(self, pairs: list[tuple[int, CaseRecord]]) -> None:
        flat: list[Any] = []
        extend = flat.extend
        now = self.now
        for case_pk, record in pairs:
            extend((case_pk, *record[:15], now, now))
        self.insert_many("cases_case", CASE_COLUMNS, flat)

    def insert_children(self, pairs: list[tuple[int, CaseRecord]]) -> None:
        persons: list[Any] = []
        events: list[Any] = []
        charges: list[Any] = []
        for case_pk, record in pairs:
            for row in record[16]:
                events.append(case_pk)
                events.extend(row)
            for row in record[15]:
                persons.append(case_pk)
                persons.extend(row)
            for charge in record[17]:
                charges.append(case_pk)
                charges.append(charge)
        self.insert_many("cases_event", EVENT_COLUMNS, events)
        self.insert_many("cases_person", PERSON_COLUMNS, persons)
        self.insert_many("cases_casecharge", CHARGE_COLUMNS, charges)


class _PostgreSQLWriter(_Writer):
    """``COPY ... FROM STDIN`` through the raw psycopg 3 cursor."""

    def __init__(self) -> None:
        super().__init__()
        self.cursor = connection.connection.cursor()
        self.foreign_keys: list[tuple[str, str, str]] = []

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.cursor.execute(sql, params or None)

    def droppable_indexes(self) -> list[tuple[str, str]]:
        # Indexes behind a constraint (primary keys, unique constraints) are unique.
        rows = self.cursor.execute(
            "SELECT t.relname, i.relname, a.attname, pg_get_indexdef(i.oid) "
            "FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid "
            "JOIN pg_class AS t ON t.oid = x.indrelid "
            "LEFT JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
            "WHERE t.oid = ANY(%s::regclass[]) AND NOT x.indisunique",
            (list(TABLES),),
        ).fetchall()
        return [
            (name, sql)
            for table, name, first, sql in rows
            if table == "cases_case" or first != "case_id"
        ]

    def begin_bulk(self) -> None:
        # A foreign key is checked by a trigger per row, queued until the end of the
        # transaction; adding the constraint back checks all rows with one join instead.
        # Checks still pending from rows written earlier in the transaction run first,
        # since ALTER TABLE refuses to run with pending trigger events.
        self.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        self.foreign_keys = self.cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            (list(TABLES),),
        ).fetchall()
        for table, name, _definition in self.foreign_keys:
            self.cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        super().begin_bulk()

    def end_bulk(self) -> None:
        # Index builds sort in memory when they can; the setting ends with the transaction.
        self.cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        super().end_bulk()
        for table, name, definition in self.foreign_keys:
            self.cursor.execute(
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            )
        self.foreign_keys = []
        self.cursor.execute(f"ANALYZE {', '.join(TABLES)}")

    def existing_ids(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
        if not keys:
            return {}
        self.cursor.execute(
            "SELECT c.id, c.unit_id, c.case_id FROM cases_case AS c "
            "JOIN unnest(%s::bigint[], %s::text[]) AS k(unit_id, case_id) "
            "ON c.unit_id = k.unit_id AND c.case_id = k.case_id",
            (
                [unit_id for unit_id, _case_id in keys],
                [case_id for _unit_id, case_id in keys],
            ),
        )
        return {
            (unit_id, case_id): case_pk
            for case_pk, unit_id, case_id in self.cursor.fetchall()
        }

    def allocate_ids(self, count: int) -> list[int]:
        if self.bulk:
            # Bulk mode holds an exclusive lock on the case table, so no one else can draw
            # from its sequence before the import commits: take a block at once.
            (last,) = self.cursor.execute(
                "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
                "nextval(pg_get_serial_sequence('cases_case', 'id')) + %s - 1)",
                (count,),
            ).fetchone()
            return list(range(last - count + 1, last + 1))
        self.cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('cases_case', 'id')) FROM generate_series(1, %s)",
            (count,),
        )
        return sorted(case_pk for (case_pk,) in self.cursor.fetchall())

    def delete_children(self, case_ids: list[int]) -> None:
        for table in ("cases_person", "cases_event", "cases_casecharge"):
            self.cursor.execute(
                f"DELETE FROM {table} WHERE case_id = ANY(%s)", (case_ids,)
            )

    def update_cases(self, updates: list[tuple[int, CaseRecord]]) -> None:
        self.cursor.executemany(self.update_sql("%s"), self.update_rows(updates))

    def copy(
        self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        with self.cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def insert_cases(self, pairs: list[tuple[int, CaseRecord]]) -> None:
        self.copy("cases_case", CASE_COLUMNS, self.case_rows(pairs))

    def insert_children(self, pairs: list[tuple[int, CaseRecord]]) -> None:
        self.copy(
            "cases_event",
            EVENT_COLUMNS,
            ((case_pk, *row) for case_pk, record in pairs for row in record[16]),
        )
        self.copy(
            "cases_person",
            PERSON_COLUMNS,
            ((case_pk, *row) for case_pk, record in pairs for row in record[15]),
        )
        self.copy(
            "cases_casecharge",
            CHARGE_COLUMNS,
            ((case_pk, charge) for case_pk, record in pairs for charge in record[17]),
        )


def _writer() -> _Writer:
    if connection.vendor == "postgresql":
        return _PostgreSQLWriter()
    if connection.vendor == "sqlite":
        return _SQLiteWriter()
    raise NotImplementedError(connection.vendor)  # pragma: no cover


# --- the import --------------------------------------------------------------------------


def import_lines(
    lines: Iterable[bytes | str],
    *,
    actor: Any = None,
    source: str = "",
    progress: bool = False,
    total: int | None = None,
    bulk: bool | None = None,
) -> ImportResult:
    """Import exchange-format lines (one JSON object each) as one all-or-nothing unit.

    ``actor`` is the user the import runs as (``None``: the system, every unit); it may
    only write to units in its scope. ``source`` names the input in the audit log.
    ``total`` is the number of lines, if known, for the progress bar. Blank lines are
    skipped (but counted in line numbers).
    Raises :class:`ImportFailed` listing the bad lines; then nothing is written.
    """
    return _import(
        lines,
        parse_line,
        actor=actor,
        source=source,
        progress=progress,
        total=total,
        bulk=bulk,
    )


def _parse_record(record: Any, units: Mapping[str, int]) -> CaseRecord:
    try:
        raw = orjson.dumps(record)
    except TypeError as error:
        raise InvalidRecord(
            "json", _("cannot be written as JSON: %(error)s") % {"error": str(error)}
        ) from None
    return parse_line(raw, units)


def import_records(
    records: Iterable[dict[str, Any]],
    *,
    actor: Any = None,
    source: str = "",
    progress: bool = False,
    total: int | None = None,
    bulk: bool | None = None,
) -> ImportResult:
    """Import already decoded records (dicts in the exchange format), like :func:`import_lines`.

    Each record is serialised with orjson and validated exactly as a line of a file would
    be (so ``datetime.date`` values are accepted as ``YYYY-MM-DD``); line numbers in errors
    count records from 1.
    """
    return _import(
        records,
        _parse_record,
        actor=actor,
        source=source,
        progress=progress,
        total=total,
        bulk=bulk,
    )


class _Pipeline:
    """Writes batches in a thread while the caller parses the next ones.

    The database does most of its work without holding the GIL (PostgreSQL in its own
    process, SQLite inside sqlite3_step), so parsing and writing overlap. The thread uses
    only the raw connection of the caller's transaction; :meth:`close` and :meth:`abort`
    join it before the transaction ends.
    """

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.queue: queue.Queue[list[CaseRecord] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.writer.write(batch)
                except BaseException as error:  # re-raised in the caller's thread
                    self.error = error

    def put(self, batch: list[CaseRecord]) -> None:
        if self.error is not None:
            raise self.error
        if self.thread is None:
            self.thread = threading.Thread(
                target=self.run, name="import-writer", daemon=True
            )
            self.thread.start()
        self.queue.put(batch)

    def close(self) -> None:
        """Wait until every batch is written; raise what the writer raised."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Stop after the batch being written (nothing more is written)."""
        if self.thread is None:
            return
        self.error = self.error or ImportAborted()
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.queue.put(None)
        self.thread.join()
        self.thread = None


class ImportAborted(Exception):
    """Internal: the pipeline was stopped."""


def _import(
    items: Iterable[Any],
    parse: Callable[[Any, Mapping[str, int]], CaseRecord],
    *,
    actor: Any,
    source: str,
    progress: bool,
    total: int | None,
    bulk: bool | None,
) -> ImportResult:
    started = time.perf_counter()
    errors: list[LineError] = []
    truncated = False
    line_no = 0
    bar = tqdm(
        total=total,
        unit=" lines",
        unit_scale=True,
        file=sys.stderr,
        disable=not progress,
        mininterval=0.5,
    )
    with bar, transaction.atomic():
        units = importable_units(actor)
        writer = _writer()
        writer.start(bulk=bulk)
        pipeline = _Pipeline(writer)
        try:
            batch: list[CaseRecord] = []
            for line_no, item in enumerate(items, 1):
                try:
                    batch.append(parse(item, units))
                except InvalidRecord as error:
                    if isinstance(item, (bytes, str)) and not item.strip():
                        continue
                    errors.append(LineError(line_no, error.field, error.reason))
                    if len(errors) >= MAX_ERRORS:
                        truncated = True
                        break
                    continue
                if len(batch) >= BATCH_SIZE:
                    if not errors:
                        pipeline.put(batch)
                    batch = []
                    bar.update(line_no - bar.n)
            if errors:
                raise ImportFailed(errors, truncated=truncated)
            pipeline.put(batch)
            pipeline.close()
        except BaseException:
            pipeline.abort()
            raise
        bar.update(line_no - bar.n)
        writer.finish()
        audit_record(
            actor=actor,
            verb="cases.import",
            target_type="cases.case",
            target_id=source,
            details={
                "created": writer.created,
                "updated": writer.updated,
                "lines": line_no,
            },
        )
    return ImportResult(
        writer.created, writer.updated, line_no, time.perf_counter() - started
    )
