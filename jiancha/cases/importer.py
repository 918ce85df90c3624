"""Importing cases from the exchange format (docs/exchange-format.md).

A file is imported whole or not at all: every line is validated, the valid cases are
written in batches inside one transaction, and the first bad line stops the writing while
the rest of the file is still validated, so that all bad lines are reported at once
(:class:`ImportFailed`); the transaction is then rolled back.

Importing a case again (same unit and case number) updates it: its row is updated in
place and its persons, events and charges are replaced.

Imports run to millions of cases (demo data, a province's yearly export), so the rows are
written with raw SQL rather than the ORM (``COPY`` on PostgreSQL, multi-row ``INSERT`` on
SQLite), lines are parsed in forked worker processes while this process writes, and a
first load drops and rebuilds the secondary indexes ("bulk mode"). The section "How the
importer is fast" of docs/exchange-format.md explains each choice;
``bench/import_cases.py`` measures the result against a per-object ORM loop.
"""

import gc
import marshal
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from jiancha.accounts.access import user_scope
from jiancha.accounts.models import Unit
from jiancha.cases.exchange import CaseRecord, InvalidRecord, LineError, parse_line
from jiancha.cases.services import notify_cases_changed
from jiancha.core.audit import audit_record
from jiancha.core.sqlite import insert_flat, max_variables

__all__ = [
    "BATCH_SIZE",
    "MAX_ERRORS",
    "ImportFailed",
    "ImportResult",
    "LineError",
    "import_lines",
    "import_notify",
    "import_records",
    "importable_units",
    "validate_line",
]

BATCH_SIZE = 5000
MAX_ERRORS = 1000
# Up to this many cases created or updated, an import lists their ids (ImportResult.case_ids,
# the cases-changed hooks); a larger one gives the time its cases were written instead.
LISTED_IDS_LIMIT = 20_000
TABLES = ("cases_case", "cases_person", "cases_event", "cases_casecharge")


@dataclass(frozen=True)
class ImportResult:
    """What an import did: cases created and updated, lines read, wall time.

    ``case_ids``: the ids of the cases created or updated, when there are at most
    :data:`LISTED_IDS_LIMIT` of them (else ``None``); ``written_at``: the ``updated_at`` of
    every case the import created or updated.
    """

    created: int
    updated: int
    lines: int
    seconds: float
    case_ids: tuple[int, ...] | None = None
    written_at: datetime | None = None

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
        self.written_at = timezone.now()
        self.now = connection.ops.adapt_datetimefield_value(self.written_at)
        self.created = 0
        self.updated = 0
        # Ids this import allocated are >= first_new_id (and <= last_new_id): a case
        # repeated in a later batch then counts once, as created.
        self.first_new_id: int | None = None
        self.last_new_id: int | None = None
        # A bit per case id updated so far, so that a case repeated in the file counts once.
        self.updated_marks = bytearray()
        # The ids updated, while there are at most LISTED_IDS_LIMIT (then None).
        self.updated_ids: list[int] | None = []
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
            self.count_updates(update_ids)
        else:
            updates = []
            new = list(records.values()) if len(records) < len(batch) else batch
        pairs = list(zip(self.reserve(len(new)), new, strict=True)) if new else []
        if pairs:
            self.insert_cases(pairs)
            self.created += len(pairs)
        self.insert_children(pairs + updates if updates else pairs)

    def count_updates(self, case_ids: list[int]) -> None:
        """Count the cases updated, each once, leaving out those this import created."""
        first = self.first_new_id
        marks = self.updated_marks
        for case_pk in case_ids:
            if first is not None and case_pk >= first:
                continue
            index, flag = case_pk >> 3, 1 << (case_pk & 7)
            if index >= len(marks):
                marks.extend(bytes(index + 1 - len(marks) + 4096))
            if not marks[index] & flag:
                marks[index] |= flag
                self.updated += 1
                if self.updated_ids is not None:
                    if self.updated > LISTED_IDS_LIMIT:
                        self.updated_ids = None
                    else:
                        self.updated_ids.append(case_pk)

    def reserve(self, count: int) -> list[int]:
        """Ids for ``count`` new cases (some may stay unused: ids need not be dense)."""
        ids = self.allocate_ids(count) if count else []
        if ids:
            # allocate_ids returns ascending ids, and later calls higher ones.
            if self.first_new_id is None:
                self.first_new_id = ids[0]
            self.last_new_id = ids[-1]
        return ids

    def changed_ids(self) -> tuple[int, ...] | None:
        """The ids of the cases created or updated, or ``None`` past LISTED_IDS_LIMIT.

        Created cases are looked up in the range of ids this import allocated (ids stay
        unused for blank lines and cases repeated in the file), by the primary key.
        """
        if self.created + self.updated > LISTED_IDS_LIMIT or self.updated_ids is None:
            return None
        ids = list(self.updated_ids)
        if self.created and self.first_new_id is not None:
            rows = self.execute(
                self.placeholders(
                    "SELECT id FROM cases_case WHERE id BETWEEN ? AND ? AND created_at = ?"
                ),
                (self.first_new_id, self.last_new_id, self.now),
            ).fetchall()
            ids.extend(case_pk for (case_pk,) in rows)
        return tuple(sorted(set(ids)))

    def placeholders(self, sql: str) -> str:
        """``sql`` with the parameter marks of this database (written as ``?``)."""
        return sql

    def write_chunk(
        self, chunk: "_Chunk", parsed: "_Parsed", units: Mapping[str, int]
    ) -> bool:
        """Write a parsed chunk: its rows as they are when every case is new and appears
        once (the common case), else case by case through :meth:`write` (returns True)."""
        keys = parsed.keys
        if keys and (
            len(set(keys)) < len(keys) or self.existing_ids(self.maybe_existing(keys))
        ):
            records = parsed.records
            if records is None:
                records = [
                    parse_line(line, units) for line in chunk.lines if line.strip()
                ]
            self.write(records)
            return True
        if keys:
            self.insert_payload(parsed.payload)
            self.created += len(keys)
        return False

    def payload_context(self) -> tuple[str, Any]:
        """What the parser needs to build rows for this database: its kind and "now"."""
        raise NotImplementedError

    def insert_payload(self, payload: Any) -> None:
        raise NotImplementedError

    def maybe_existing(
        self, records: Iterable[tuple[int, str]]
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

    ROWS_PER_STATEMENT = 1000

    def __init__(self) -> None:
        super().__init__()
        self.raw = connection.connection
        self.next_id: int | None = None
        self.max_variables = max_variables(self.raw)

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
        insert_flat(
            self.raw,
            table,
            columns,
            flat,
            limit=self.max_variables,
            rows_per_statement=self.ROWS_PER_STATEMENT,
        )

    def payload_context(self) -> tuple[str, Any]:
        return "sqlite", self.now

    def insert_payload(self, payload: Any) -> None:
        cases, events, persons, charges = payload
        self.insert_many("cases_case", CASE_COLUMNS, cases)
        self.insert_many("cases_event", EVENT_COLUMNS, events)
        self.insert_many("cases_person", PERSON_COLUMNS, persons)
        self.insert_many("cases_casecharge", CHARGE_COLUMNS, charges)

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

    def placeholders(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def droppable_indexes(self) -> list[tuple[str, str]]:
        # Indexes behind a constraint (primary keys, unique constraints) are unique. The
        # single-column case_id indexes of the child tables go too: the (case_id, position)
        # and (case_id, charge) indexes serve the deletes of an update.
        rows = self.cursor.execute(
            "SELECT t.relname, i.relname, a.attname, x.indnatts, pg_get_indexdef(i.oid) "
            "FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid "
            "JOIN pg_class AS t ON t.oid = x.indrelid "
            "LEFT JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
            "WHERE t.oid = ANY(%s::regclass[]) AND NOT x.indisunique",
            (list(TABLES),),
        ).fetchall()
        return [
            (name, sql)
            for table, name, first, columns, sql in rows
            if table == "cases_case" or first != "case_id" or columns == 1
        ]

    def begin_bulk(self) -> None:
        # A foreign key is checked by a trigger per row, queued until the end of the
        # transaction; adding the constraint back checks all rows with one join instead.
        # Checks still pending from rows written earlier in the transaction run first,
        # since ALTER TABLE refuses to run with pending trigger events.
        self.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Taken anyway by the DDL below; explicit because allocate_ids relies on it.
        self.cursor.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")
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
        # Two arrays against the unique (unit_id, case_id) index: an index scan whatever
        # the statistics say (they are stale while the import grows the table). The pairs
        # the cross product adds are dropped here.
        self.cursor.execute(
            "SELECT id, unit_id, case_id FROM cases_case "
            "WHERE unit_id = ANY(%s) AND case_id = ANY(%s)",
            (
                list({unit_id for unit_id, _case_id in keys}),
                [case_id for _unit_id, case_id in keys],
            ),
        )
        wanted = set(keys)
        return {
            (unit_id, case_id): case_pk
            for case_pk, unit_id, case_id in self.cursor.fetchall()
            if (unit_id, case_id) in wanted
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

    # Column types for the one UPDATE ... FROM unnest(arrays) of a batch.
    UPDATE_TYPES = (
        "text",  # matter_id
        "text",  # business_line
        "text",  # procedure
        "text",  # procurator_id
        "date",  # received_on
        "date",  # closed_on
        "boolean",  # detained
        "boolean",  # fast_track
        "boolean",  # complex
        "text",  # facts
        "text",  # primary_charge
        "smallint",  # person_count
        "jsonb",  # extra
    )

    def update_cases(self, updates: list[tuple[int, CaseRecord]]) -> None:
        # One statement per batch, its values as one array per column.
        columns = UPDATE_COLUMNS[:-1]
        arrays = [
            [record[index] for _case_pk, record in updates] for index in range(2, 15)
        ]
        assignments = ", ".join(f"{column} = v.{column}" for column in columns)
        unnest = ", ".join(f"%s::{kind}[]" for kind in self.UPDATE_TYPES)
        self.cursor.execute(
            f"UPDATE cases_case AS c SET {assignments}, updated_at = %s "
            f"FROM unnest(%s::bigint[], {unnest}) AS v(id, {', '.join(columns)}) "
            "WHERE c.id = v.id",
            (self.now, [case_pk for case_pk, _record in updates], *arrays),
        )

    def payload_context(self) -> tuple[str, Any]:
        return "postgresql", self.now.isoformat()

    def insert_payload(self, payload: Any) -> None:
        for (table, columns), text in zip(_COPY_TABLES, payload, strict=True):
            if text:
                with self.cursor.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    copy.write(text)

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


# --- parsing in chunks ---------------------------------------------------------------------


@dataclass
class _Chunk:
    """Consecutive lines of the input: line numbers from ``first_line``."""

    number: int
    first_line: int
    lines: list[bytes | str]
    errors: list[LineError]  # found before parsing (records that are not JSON)


@dataclass
class _Parsed:
    """A parsed chunk: its errors, or its cases' keys and rows ready for the database."""

    errors: list[tuple[int, str, str]]
    keys: list[tuple[int, str]]
    payload: Any
    records: list[CaseRecord] | None = None  # kept when parsed in this process


# COPY text format: these characters are written as escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _sqlite_payload(
    pairs: list[tuple[int, CaseRecord]], now: Any
) -> tuple[list[Any], ...]:
    """The rows as flat lists of values, in the column order of the INSERT statements."""
    cases: list[Any] = []
    events: list[Any] = []
    persons: list[Any] = []
    charges: list[Any] = []
    for case_pk, record in pairs:
        cases.extend((case_pk, *record[:15], now, now))
        for row in record[16]:
            events.append(case_pk)
            events.extend(row)
        for row in record[15]:
            persons.append(case_pk)
            persons.extend(row)
        for charge in record[17]:
            charges.append(case_pk)
            charges.append(charge)
    return cases, events, persons, charges


_TRUE_FALSE = {True: "t", False: "f"}


def _copy_payload(
    pairs: list[tuple[int, CaseRecord]], now: str, escaped: set[int]
) -> tuple[bytes, ...]:
    """The rows in COPY text format, one text per table (see _COPY_TABLES).

    Only the cases in ``escaped`` can hold a character COPY must escape: JSON escapes
    tabs, line breaks and backslashes, and quotes with a backslash, so a line without a
    backslash has none of them, nor has any JSON text built from it.
    """
    cases: list[str] = []
    events: list[str] = []
    persons: list[str] = []
    charges: list[str] = []
    flag = _TRUE_FALSE
    for case_pk, record in pairs:
        text = _copy_text if case_pk in escaped else str
        (
            unit_id,
            case_id,
            matter_id,
            business_line,
            procedure,
            procurator_id,
            received_on,
            closed_on,
            detained,
            fast_track,
            complex_,
            facts,
            primary_charge,
            person_count,
            extra,
            person_rows,
            event_rows,
            charge_names,
        ) = record
        cases.append(
            f"{case_pk}\t{unit_id}\t{text(case_id)}\t{text(matter_id)}\t{business_line}\t"
            f"{procedure}\t{text(procurator_id)}\t{received_on}\t"
            f"{closed_on or chr(92) + 'N'}\t{flag[detained]}\t{flag[fast_track]}\t"
            f"{flag[complex_]}\t{text(facts)}\t{text(primary_charge)}\t{person_count}\t"
            f"{text(extra)}\t{now}\t{now}\n"
        )
        prefix = f"{case_pk}\t"
        for position, kind, on, person, details in event_rows:
            events.append(
                f"{prefix}{position}\t{kind}\t{on}\t{text(person)}\t{text(details)}\n"
            )
        for (
            position,
            person_id,
            name,
            juvenile,
            plea,
            charge_list,
            articles,
            more,
        ) in person_rows:
            persons.append(
                f"{prefix}{position}\t{text(person_id)}\t{text(name)}\t{flag[juvenile]}\t"
                f"{flag[plea]}\t{text(charge_list)}\t{text(articles)}\t{text(more)}\n"
            )
        for charge in charge_names:
            charges.append(f"{prefix}{text(charge)}\n")
    return tuple("".join(rows).encode() for rows in (cases, events, persons, charges))


_COPY_TABLES = (
    ("cases_case", CASE_COLUMNS),
    ("cases_event", EVENT_COLUMNS),
    ("cases_person", PERSON_COLUMNS),
    ("cases_casecharge", CHARGE_COLUMNS),
)


def _parse_chunk(
    lines: list[bytes | str],
    first_line: int,
    ids: list[int],
    units: Mapping[str, int],
    context: tuple[str, Any],
    validate_only: bool,
) -> _Parsed:
    """Validate the lines of a chunk and, if all are good, build their rows."""
    errors: list[tuple[int, str, str]] = []
    pairs: list[tuple[int, CaseRecord]] = []
    escaped: set[int] = set()
    parse = parse_line
    for offset, raw in enumerate(lines):
        try:
            record = parse(raw, units)
        except InvalidRecord as error:
            if raw.strip():
                errors.append((first_line + offset, error.field, error.reason))
            continue
        if not errors and not validate_only:
            pairs.append((ids[offset], record))
            if (b"\\" if type(raw) is bytes else "\\") in raw:  # type: ignore[operator]
                escaped.add(ids[offset])
    if errors or validate_only:
        return _Parsed(errors, [], None)
    kind, now = context
    if kind == "sqlite":
        payload = _sqlite_payload(pairs, now)
    else:
        payload = _copy_payload(pairs, now, escaped)
    keys = [(record[0], record[1]) for _case_pk, record in pairs]
    return _Parsed([], keys, payload, [record for _case_pk, record in pairs])


def _worker(
    tasks: Any, results: Any, units: Mapping[str, int], context: Any, language: str
) -> None:
    """A parsing process: chunks in, marshalled rows out (marshal is the cheapest)."""
    gc.disable()  # see _import
    translation.activate(language)
    while (task := tasks.get()) is not None:
        number, first_line, lines, ids, validate_only = marshal.loads(task)
        try:
            parsed = _parse_chunk(lines, first_line, ids, units, context, validate_only)
            message = (number, None, parsed.errors, parsed.keys, parsed.payload)
        except BaseException:  # reported to the importing process
            message = (number, traceback.format_exc(), [], [], None)
        results.put(marshal.dumps(message))


class _Parser:
    """Parses chunks in order, in this process or in worker processes.

    Workers start with the third chunk (small inputs never pay for them) when the platform
    can fork and this process runs no other thread (forking a threaded process is unsafe).
    A forked worker only parses: it never touches the inherited database connection and
    leaves through ``os._exit``.
    """

    IN_FLIGHT_PER_WORKER = 2

    def __init__(
        self, units: Mapping[str, int], context: tuple[str, Any], workers: int | None
    ) -> None:
        self.units = units
        self.context = context
        self.workers = workers if workers is not None else _default_workers()
        self.processes: list[Any] = []
        self.pending: dict[int, _Chunk] = {}
        self.ready: dict[int, tuple[_Chunk, _Parsed]] = {}
        self.next_number = 0
        self.submitted = 0
        # Set when the workers' rows are of no use: a chunk of updates is written case by
        # case from records, which only parsing in this process keeps.
        self.retired = False

    def submit(
        self, chunk: _Chunk, ids: list[int], validate_only: bool
    ) -> Iterator[tuple[_Chunk, _Parsed]]:
        """Hand over a chunk; yield the chunks parsed so far, in order."""
        self.submitted += 1
        if self.retired and self.processes:
            yield from self.drain()
            self.close()
        if not self.processes and (
            self.workers <= 0 or self.submitted < 3 or self.retired
        ):
            parsed = _parse_chunk(
                chunk.lines,
                chunk.first_line,
                ids,
                self.units,
                self.context,
                validate_only,
            )
            yield chunk, parsed
            self.next_number += 1
            return
        if not self.processes:
            self.start()
        self.pending[chunk.number] = chunk
        self.tasks.put(
            marshal.dumps(
                (chunk.number, chunk.first_line, chunk.lines, ids, validate_only)
            )
        )
        while len(self.pending) > self.IN_FLIGHT_PER_WORKER * len(self.processes):
            yield from self.collect()

    def drain(self) -> Iterator[tuple[_Chunk, _Parsed]]:
        while self.pending:
            yield from self.collect()

    def collect(self) -> Iterator[tuple[_Chunk, _Parsed]]:
        """Wait for the next parsed chunk; yield those now ready, in order."""
        while True:
            try:
                message = marshal.loads(self.results.get(timeout=2))
                break
            except queue.Empty:
                # A worker killed from outside (out of memory) would never answer.
                if not all(process.is_alive() for process in self.processes):
                    raise RuntimeError("an import worker process died") from None
        number, crash, errors, keys, payload = message
        if crash is not None:
            raise RuntimeError(f"import worker failed:\n{crash}")
        self.ready[number] = (self.pending.pop(number), _Parsed(errors, keys, payload))
        while self.next_number in self.ready:
            yield self.ready.pop(self.next_number)
            self.next_number += 1

    def start(self) -> None:
        context = multiprocessing.get_context("fork")
        self.tasks = context.Queue()
        self.results = context.Queue()
        language = translation.get_language() or "en"
        for _index in range(self.workers):
            process = context.Process(
                target=_worker,
                args=(self.tasks, self.results, self.units, self.context, language),
                daemon=True,
            )
            with warnings.catch_warnings():
                # CPython warns about forking with C library threads (see _default_workers).
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
            self.processes.append(process)

    def close(self) -> None:
        if not self.processes:
            return
        killed = bool(self.pending)
        for process in self.processes:
            if killed:
                process.kill()
            else:
                self.tasks.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():  # pragma: no cover
                process.kill()
                killed = True
        # Wait for the queues' feeder threads to end, unless a killed worker left them
        # unable to.
        for channel in (self.tasks, self.results):
            channel.close()
            if killed:
                channel.cancel_join_thread()
            else:
                channel.join_thread()
        self.processes = []
        self.pending = {}


class _Progress(tqdm):  # type: ignore[type-arg]
    """A progress bar without tqdm's monitor thread (the importer may fork workers)."""

    monitor_interval = 0


def _default_workers() -> int:
    """Worker processes for parsing: one core is left to this process (and the database).

    None when this process runs other Python threads (forking them is unsafe). Threads of
    C libraries that never call back into Python (DuckDB's pool) do not matter: the child
    only runs Python code and glibc makes malloc safe across fork.
    """
    if (
        "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1
    ):
        return 0
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def _chunks(items: Iterable[Any], serialise: bool) -> Iterator[_Chunk]:
    """The input in chunks of BATCH_SIZE lines; records are serialised to JSON here."""
    lines: list[bytes | str] = []
    errors: list[LineError] = []
    first_line = 1
    number = 0
    dumps = orjson.dumps
    for line_no, item in enumerate(items, 1):
        if serialise:
            try:
                item = dumps(item)
            except TypeError as error:
                errors.append(
                    LineError(
                        line_no,
                        "json",
                        _("cannot be written as JSON: %(error)s")
                        % {"error": str(error)},
                    )
                )
                item = b""
        lines.append(item)
        if len(lines) >= BATCH_SIZE:
            yield _Chunk(number, first_line, lines, errors)
            number += 1
            first_line = line_no + 1
            lines, errors = [], []
    if lines or errors:
        yield _Chunk(number, first_line, lines, errors)


# --- the import --------------------------------------------------------------------------


def import_lines(
    lines: Iterable[bytes | str],
    *,
    actor: Any = None,
    source: str = "",
    progress: bool = False,
    total: int | None = None,
    bulk: bool | None = None,
    workers: int | None = None,
    notify: bool = True,
) -> ImportResult:
    """Import exchange-format lines (one JSON object each) as one all-or-nothing unit.

    ``actor`` is the user the import runs as (``None``: the system, every unit); it may
    only write to units in its scope. ``source`` names the input in the audit log.
    ``total`` is the number of lines, if known, for the progress bar. Blank lines are
    skipped (but counted in line numbers). ``bulk`` forces bulk mode on or off (default:
    on when the case table is empty); ``workers`` is the number of parsing processes
    (default: the cores but one, for inputs of more than two batches; 0 parses here).
    Raises :class:`ImportFailed` listing the bad lines; then nothing is written.

    Once the import has committed, the cases it created or updated are passed to the
    ``CASES_CHANGED_HOOKS`` (:func:`jiancha.cases.services.notify_cases_changed`; quality
    evaluates them again); ``notify=False`` leaves that out, for callers that evaluate
    afterwards themselves (``make demo``, benchmarks).
    """
    return _import(
        lines,
        serialise=False,
        actor=actor,
        source=source,
        progress=progress,
        total=total,
        bulk=bulk,
        workers=workers,
        notify=notify,
    )


def import_records(
    records: Iterable[dict[str, Any]],
    *,
    actor: Any = None,
    source: str = "",
    progress: bool = False,
    total: int | None = None,
    bulk: bool | None = None,
    workers: int | None = None,
    notify: bool = True,
) -> ImportResult:
    """Import already decoded records (dicts in the exchange format), like :func:`import_lines`.

    Each record is serialised with orjson and validated exactly as a line of a file would
    be (so ``datetime.date`` values are accepted as ``YYYY-MM-DD``); line numbers in errors
    count records from 1.
    """
    return _import(
        records,
        serialise=True,
        actor=actor,
        source=source,
        progress=progress,
        total=total,
        bulk=bulk,
        workers=workers,
        notify=notify,
    )


def _import(
    items: Iterable[Any],
    *,
    serialise: bool,
    actor: Any,
    source: str,
    progress: bool,
    total: int | None,
    bulk: bool | None,
    workers: int | None,
    notify: bool,
) -> ImportResult:
    started = time.perf_counter()
    if workers is None:
        workers = (
            _default_workers()
        )  # before the progress bar, which may start a thread
    bar = _Progress(
        total=total,
        unit=" lines",
        unit_scale=True,
        file=sys.stderr,
        disable=not progress,
        mininterval=0.5,
    )
    # The rows of a batch are many small objects that live until the batch is written and
    # form no reference cycles; the cyclic garbage collector would scan them over and over
    # (it doubles the parsing time), so it pauses during the import.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _import_transaction(
            items,
            serialise=serialise,
            actor=actor,
            source=source,
            bar=bar,
            bulk=bulk,
            workers=workers,
            started=started,
        )
    finally:
        if collecting:
            gc.enable()
    if notify:
        # After the import's transaction (at once, unless an outer one is still open), so
        # that the hooks' time is not the import's and their readers see the rows.
        import_notify(result, actor=actor)
    return result


def import_notify(result: ImportResult, *, actor: Any = None) -> None:
    """Pass the cases an import created or updated to the cases-changed hooks (after the
    current transaction commits): their ids when listed, else the time they were written."""
    count = result.created + result.updated
    if not count:
        return
    notify_cases_changed(
        result.case_ids,
        changed_since=None if result.case_ids is not None else result.written_at,
        count=count,
        actor=actor,
    )


def _import_transaction(
    items: Iterable[Any],
    *,
    serialise: bool,
    actor: Any,
    source: str,
    bar: Any,
    bulk: bool | None,
    workers: int,
    started: float,
) -> ImportResult:
    errors: list[LineError] = []
    truncated = False
    lines_read = 0
    with transaction.atomic():
        units = importable_units(actor)
        writer = _writer()
        writer.start(bulk=bulk)
        parser = _Parser(units, writer.payload_context(), workers)

        fallbacks = 0

        def handle(chunk: _Chunk, parsed: _Parsed) -> None:
            nonlocal lines_read, fallbacks
            errors.extend(chunk.errors)
            errors.extend(LineError(*error) for error in parsed.errors)
            if not errors:
                if writer.write_chunk(chunk, parsed, units):
                    fallbacks += 1
                    if fallbacks >= 2:
                        # Mostly updates: parse here, where records are kept.
                        parser.retired = True
                else:
                    fallbacks = 0
            lines_read = chunk.first_line + len(chunk.lines) - 1
            bar.update(lines_read - bar.n)

        try:
            with bar:
                for chunk in _chunks(items, serialise):
                    validate_only = bool(errors or chunk.errors)
                    ids = [] if validate_only else writer.reserve(len(chunk.lines))
                    for done in parser.submit(chunk, ids, validate_only):
                        handle(*done)
                    if len(errors) >= MAX_ERRORS:
                        truncated = True
                        break
                else:
                    for done in parser.drain():
                        handle(*done)
        finally:
            parser.close()
        if errors:
            truncated = truncated or len(errors) > MAX_ERRORS
            raise ImportFailed(sorted(errors)[:MAX_ERRORS], truncated=truncated)
        writer.finish()
        case_ids = writer.changed_ids()
        audit_record(
            actor=actor,
            verb="cases.import",
            target_type="cases.case",
            target_id=source,
            details={
                "created": writer.created,
                "updated": writer.updated,
                "lines": lines_read,
            },
        )
    return ImportResult(
        writer.created,
        writer.updated,
        lines_read,
        time.perf_counter() - started,
        case_ids=case_ids,
        written_at=writer.written_at,
    )
