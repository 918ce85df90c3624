"""A DuckDB snapshot of the case tables, for set-based analysis (STYLE.md §13).

``build_snapshot()`` attaches the operational database read-only through DuckDB's SQLite or
PostgreSQL scanner (shipped as PyPI packages, so nothing is downloaded at run time), copies the
unit, case, person and event tables into a DuckDB file in flat, typed form (event details are
unpacked into columns), records a hash of the data, and atomically replaces the previous
snapshot. ``open_snapshot()`` opens it read-only. The analytics app knows no rule and no
indicator: it only turns case data into tables and runs SQL.
"""

import datetime
import importlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import connections

EXTENSION_PACKAGES = {
    "sqlite": "duckdb_extension_sqlite_scanner",
    "postgresql": "duckdb_extension_postgres_scanner",
}


class SnapshotMissing(Exception):
    """No snapshot has been built yet."""


def load_scanner(con: duckdb.DuckDBPyConnection, vendor: str) -> None:
    """Load the scanner extension from its PyPI package (never from the network)."""
    package = importlib.import_module(EXTENSION_PACKAGES[vendor])
    base = Path(package.__file__).resolve().parent / "extensions"
    candidates = sorted(base.glob(f"v{duckdb.__version__}/*.duckdb_extension")) or sorted(base.glob("*/*.duckdb_extension"))
    if not candidates:
        raise RuntimeError(f"{package.__name__} ships no extension for DuckDB {duckdb.__version__}")
    con.execute(f"LOAD '{candidates[0]}'")


def attach_operational(con: duckdb.DuckDBPyConnection, alias: str = "oltp", using: str = "default") -> str:
    """Attach the operational database read-only as ``alias``; returns its vendor."""
    connection = connections[using]
    vendor = connection.vendor
    params = connection.settings_dict
    if vendor == "sqlite":
        load_scanner(con, "sqlite")
        name = str(params["NAME"])
        if name in {":memory:", ""} or name.startswith("file:memorydb"):
            raise RuntimeError("an in-memory SQLite database cannot be attached; use a file database")
        con.execute(f"ATTACH '{name}' AS {alias} (TYPE sqlite, READ_ONLY)")
    elif vendor == "postgresql":
        load_scanner(con, "postgresql")
        parts = {
            "host": params.get("HOST") or "127.0.0.1",
            "port": params.get("PORT") or 5432,
            "user": params.get("USER") or "postgres",
            "dbname": params["NAME"],
        }
        if params.get("PASSWORD"):
            parts["password"] = params["PASSWORD"]
        dsn = " ".join(f"{key}={value}" for key, value in parts.items())
        con.execute(f"ATTACH '{dsn}' AS {alias} (TYPE postgres, READ_ONLY)")
    else:  # pragma: no cover - only the two supported engines
        raise RuntimeError(f"unsupported database vendor {vendor}")
    return vendor


class ScannerWindowError(RuntimeError):
    """The SQLite database was used through Django while DuckDB's scanner had it open."""


def _refuse_connection(*_args: Any, **_kwargs: Any) -> Any:
    raise ScannerWindowError(
        "The SQLite database is open in DuckDB's scanner: Django may not connect to it until "
        "the scan ends (two SQLite libraries in one process break each other's locks)."
    )


@contextmanager
def operational_attached(
    con: duckdb.DuckDBPyConnection, alias: str = "oltp", using: str = "default"
) -> Iterator[str]:
    """Attach the operational database read-only as ``alias`` for the block; yields its vendor.

    On SQLite, DuckDB's scanner brings its own copy of the SQLite library. Two copies in one
    process do not see each other's POSIX locks (https://sqlite.org/howtocorrupt.html,
    §2.2): the scanner's copy takes itself for the only user of the WAL index and
    re-initialises the ``-shm`` file under the mapping of Django's connection, which then
    reads a wrong index or dies of SIGBUS (seen on a 5M-case database after a large write).
    So Django's connection in this thread is closed first and may not reconnect until the
    block has detached the database (it raises :class:`ScannerWindowError` instead); the
    block may not run inside a transaction. Other threads of the process must not use the
    SQLite database meanwhile (commands and import hooks run on one thread).
    """
    connection = connections[using]
    guard = connection.vendor == "sqlite"
    if guard:
        if connection.in_atomic_block:
            raise ScannerWindowError(
                "DuckDB's SQLite scanner cannot read the database inside a transaction of "
                "this process; commit first."
            )
        connection.close()
        connection.get_new_connection = _refuse_connection  # type: ignore[method-assign]
    try:
        yield attach_operational(con, alias=alias, using=using)
    finally:
        try:
            con.execute(f"DETACH DATABASE IF EXISTS {alias}")
        finally:
            if guard:
                del connection.get_new_connection


def table_source(
    vendor: str, table: str, alias: str = "oltp", using: str = "default"
) -> str:
    """What to select ``table`` of the attached operational database from.

    On SQLite, ``sqlite_scan(file, table)`` rather than ``alias.table``: the scanner reads
    a table of an attached database on one thread, but splits a ``sqlite_scan`` into rowid
    ranges read on all of DuckDB's threads (with ``preserve_insertion_order`` off, the rows
    then arrive in no particular order).
    """
    if vendor == "sqlite":
        name = str(connections[using].settings_dict["NAME"]).replace("'", "''")
        return f"sqlite_scan('{name}', '{table}')"
    return f"{alias}.{table}"


def _json(vendor: str, column: str) -> str:
    # SQLite stores JSON as text; the PostgreSQL scanner returns jsonb as JSON text too.
    return f"CAST({column} AS VARCHAR)"


def _copy_statements(vendor: str) -> list[str]:
    details = _json(vendor, "e.details")
    charges = _json(vendor, "p.charges")
    articles = _json(vendor, "p.articles")
    return [
        """CREATE TABLE unit AS
           SELECT id, code, parent_id, level, kind, name, path FROM oltp.accounts_unit""",
        """CREATE TABLE "case" AS
           SELECT c.id, c.unit_id, c.case_id,
                  CASE WHEN c.matter_id = '' THEN CAST(c.unit_id AS VARCHAR) || ':' || c.case_id ELSE c.matter_id END AS matter_key,
                  c.business_line, c.procedure, c.procurator_id,
                  CAST(c.received_on AS DATE) AS received_on, CAST(c.closed_on AS DATE) AS closed_on,
                  CAST(c.detained AS BOOLEAN) AS detained, CAST(c.fast_track AS BOOLEAN) AS fast_track,
                  CAST(c.complex AS BOOLEAN) AS complex, c.primary_charge, c.person_count,
                  length(c.facts) > 0 AS has_facts
           FROM oltp.cases_case c""",
        f"""CREATE TABLE person AS
           SELECT p.case_id, p.position, p.person_id, CAST(p.juvenile AS BOOLEAN) AS juvenile,
                  CAST(p.plea_leniency AS BOOLEAN) AS plea_leniency,
                  CAST(json_extract_string({charges}, '$[*]') AS VARCHAR[]) AS charges,
                  CAST(json_extract_string({articles}, '$[*]') AS VARCHAR[]) AS articles
           FROM oltp.cases_person p""",
        f"""CREATE TABLE event AS
           SELECT e.case_id, e.position, e.type, CAST(e."on" AS DATE) AS "on", e.person,
                  json_extract_string({details}, '$.decision') AS decision,
                  json_extract_string({details}, '$.reason') AS reason,
                  json_extract_string({details}, '$.kind') AS kind,
                  TRY_CAST(json_extract_string({details}, '$.instance') AS INTEGER) AS instance,
                  json_extract_string({details}, '$.verdict') AS verdict,
                  TRY_CAST(json_extract_string({details}, '$.months') AS DOUBLE) AS months,
                  TRY_CAST(json_extract_string({details}, '$.min_months') AS DOUBLE) AS min_months,
                  TRY_CAST(json_extract_string({details}, '$.max_months') AS DOUBLE) AS max_months,
                  TRY_CAST(json_extract_string({details}, '$.recommendation_adopted') AS BOOLEAN) AS recommendation_adopted,
                  TRY_CAST(json_extract_string({details}, '$.changed') AS BOOLEAN) AS changed,
                  TRY_CAST(json_extract_string({details}, '$.adopted') AS BOOLEAN) AS adopted,
                  TRY_CAST(json_extract_string({details}, '$.supported') AS BOOLEAN) AS supported,
                  TRY_CAST(json_extract_string({details}, '$.days') AS INTEGER) AS days,
                  CAST(json_extract_string({details}, '$.charges[*]') AS VARCHAR[]) AS charges
           FROM oltp.cases_event e""",
    ]


HASH_QUERIES = {
    "unit": "SELECT bit_xor(hash(id, code, parent_id, path)) FROM unit",
    "case": 'SELECT bit_xor(hash(id, unit_id, case_id, matter_key, business_line, procedure, procurator_id, received_on, closed_on, detained, fast_track, complex, primary_charge)) FROM "case"',
    "person": "SELECT bit_xor(hash(case_id, position, person_id, juvenile, plea_leniency, charges, articles)) FROM person",
    "event": 'SELECT bit_xor(hash(case_id, position, type, "on", person, decision, kind, verdict, months, recommendation_adopted, changed, adopted)) FROM event',
}


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    built_at: datetime.datetime
    vendor: str
    cases: int
    persons: int
    events: int
    data_hash: str
    seconds: float


def snapshot_path() -> Path:
    return Path(settings.ANALYTICS_SNAPSHOT)


def build_snapshot(path: Path | None = None, *, using: str = "default") -> SnapshotInfo:
    """Copy the case tables into a new DuckDB file and swap it in atomically."""
    started = time.perf_counter()
    path = Path(path or snapshot_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary))
    try:
        con.execute(f"SET threads TO {max(os.cpu_count() or 1, 1)}")
        with operational_attached(con, using=using) as vendor:
            for statement in _copy_statements(vendor):
                con.execute(statement)
        con.execute('CREATE INDEX case_id_idx ON "case"(id)')
        digests = [format(con.execute(query).fetchone()[0] or 0, "016x") for query in HASH_QUERIES.values()]
        counts = con.execute('SELECT (SELECT count(*) FROM "case"), (SELECT count(*) FROM person), (SELECT count(*) FROM event)').fetchone()
        built_at = datetime.datetime.now(datetime.UTC)
        data_hash = "".join(digests)
        con.execute(
            "CREATE TABLE snapshot_info AS SELECT ? AS built_at, ? AS vendor, ? AS cases, ? AS persons, ? AS events, ? AS data_hash",
            [built_at.isoformat(), vendor, counts[0], counts[1], counts[2], data_hash],
        )
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        temporary.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(temporary, path)
    return SnapshotInfo(path, built_at, vendor, counts[0], counts[1], counts[2], data_hash, time.perf_counter() - started)


def open_snapshot(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    path = Path(path or snapshot_path())
    if not path.exists():
        raise SnapshotMissing(f"no analytics snapshot at {path}; run `jiancha build-snapshot`")
    return duckdb.connect(str(path), read_only=True)


def snapshot_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute("SELECT built_at, vendor, cases, persons, events, data_hash FROM snapshot_info").fetchone()
    return dict(zip(["built_at", "vendor", "cases", "persons", "events", "data_hash"], row, strict=True))
