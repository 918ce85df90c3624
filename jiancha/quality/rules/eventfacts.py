"""The event facts store: what the engine derives from the event log, kept between bulk runs.

A bulk evaluation derives per case and person the first events of each kind, the counts
and dates of returns, extensions, protests ... and the events that move the review clock
(:data:`base.EVENT_FACT_TABLES`) from the event log. At 5M cases that is a scan of 23.7M
events and their aggregation into 5.3M groups: a third of the run, and the same result
every night for every case whose events did not change.

These tables depend on a case's events alone, and a case's events change only when the
case is written (the importer replaces its persons and events and sets its
``updated_at``). So the bulk run keeps them in a DuckDB file per operational database,
with each case's ``updated_at`` as its stamp, and the next run:

* reads the cases (with their stamps) and persons from the operational database as
  before, but not the events;
* takes the stored facts of every case whose stamp is unchanged (*fresh*);
* reads the events of the other cases (new, changed, or never stored: *stale*) from the
  operational database and derives their facts with the same statements;
* writes what it derived back (one transaction; or, in a full run where most cases were
  stale, a new file put in place atomically), dropping the cases no longer there.

The store is a cache: deleting it costs the next run the derivation, nothing else. It
records the operational database it belongs to and the text of the statements that made
it; if either differs, or it cannot be read (another process writing it), the run derives
everything, as without a store. Events written other than through a write of their case
(raw SQL, the ORM in tests, without touching the case's ``updated_at``) are not seen by
the stamps: the importer is the only path that writes events.
"""

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
from django.conf import settings
from django.db import connections

from jiancha.quality.rules import base
from jiancha.quality.rules.sqltext import quote

logger = logging.getLogger(__name__)

# Bump when the store's own layout changes (the statements' text is hashed too).
LAYOUT = "2"
ALIAS = "event_facts_store"
# A full run with more stale cases than this share of all rebuilds the file rather than
# updating it row by row.
REBUILD_SHARE = 0.5


def store_format() -> str:
    """What the stored tables were made with: the layout, the event load and the
    statements that derive them. A store of another format is not read."""
    from jiancha.quality.rules.source import EVENT_SQL, STAMP

    text = "\n".join(
        [
            LAYOUT,
            STAMP,
            EVENT_SQL,
            ",".join(base.DETAIL_TYPES),
            *base.EVENT_FACT_STATEMENTS,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def database_identity(using: str = "default") -> str:
    """Which operational database a store belongs to (vendor, host, port, name)."""
    connection = connections[using]
    params = connection.settings_dict
    name = params["NAME"]
    if connection.vendor == "sqlite":
        name = str(Path(str(name)).resolve())
    return "|".join(
        str(part or "")
        for part in (connection.vendor, params.get("HOST"), params.get("PORT"), name)
    )


def store_path(using: str = "default") -> Path | None:
    """The store of this database, or None when stores are off
    (``settings.QUALITY_EVENT_FACTS_DIR`` set to None)."""
    folder = getattr(settings, "QUALITY_EVENT_FACTS_DIR", None)
    if folder is None:
        return None
    digest = hashlib.sha256(database_identity(using).encode()).hexdigest()[:12]
    return Path(folder) / f"event-facts-{digest}.duckdb"


@dataclass
class StoreUse:
    """What a load did with the store."""

    path: Path
    read: bool  # the store was read (else everything was derived)
    fresh: int  # cases whose facts came from the store
    stale: int  # cases whose facts were derived from their events
    # Cases in the store that were not loaded (in a full run: deleted ones).
    gone: int = 0
    written: str = ""  # "", "updated" or "rebuilt"
    seconds: float = 0.0


def attach(con: duckdb.DuckDBPyConnection, path: Path, *, using: str) -> bool:
    """Attach the store read-only as ``ALIAS`` when it is there, readable and made for
    this database with these statements; returns whether it is attached."""
    if not path.exists():
        return False
    try:
        con.execute(f"ATTACH {quote(str(path))} AS {ALIAS} (READ_ONLY)")
    except duckdb.Error as error:  # being written by another process, or not DuckDB's
        logger.warning("event facts store %s not read: %s", path, error)
        return False
    try:
        meta = dict(con.execute(f"SELECT key, value FROM {ALIAS}.meta").fetchall())
    except duckdb.Error:
        meta = {}
    if meta.get("format") != store_format() or meta.get(
        "database"
    ) != database_identity(using):
        con.execute(f"DETACH {ALIAS}")
        return False
    return True


def mark_stale(
    con: duckdb.DuckDBPyConnection, *, path: Path, attached: bool
) -> StoreUse:
    """``ef_fresh`` and ``ef_stale``: the loaded cases whose stored facts are current, and
    the others; returns their counts, and how many stored cases were not loaded.

    The stamps are in ``case_stamp`` (``id``, ``stamp``), read no later than the events
    the facts are derived from: facts stored under a stamp are then never older than it
    (a case written in between has a newer stamp by the next run, which derives it
    again). A case loaded without a stamp (created meanwhile) is stored without one."""
    if attached:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE ef_fresh AS
            SELECT k.id FROM case_stamp k JOIN {ALIAS}.stamp s ON s.case_pk = k.id AND s.stamp = k.stamp"""
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE ef_fresh (id BIGINT)")
    con.execute(
        'CREATE OR REPLACE TEMP TABLE ef_stale AS SELECT id FROM "case" ANTI JOIN ef_fresh USING (id)'
    )
    stored = f"(SELECT count(*) FROM {ALIAS}.stamp)" if attached else "0"
    row = con.execute(
        f"SELECT (SELECT count(*) FROM ef_fresh), (SELECT count(*) FROM ef_stale), {stored}"
    ).fetchone()
    assert row is not None
    fresh, stale, stored_cases = (int(value) for value in row)
    return StoreUse(
        path=path, read=attached, fresh=fresh, stale=stale, gone=stored_cases - fresh
    )


def assemble(con: duckdb.DuckDBPyConnection, use: StoreUse) -> None:
    """Make the event fact tables: derived from ``event`` (the stale cases' events), plus
    the stored rows of the fresh cases. ``clock_event`` is a table here, not a view."""
    for statement in base.EVENT_FACT_STATEMENTS:
        con.execute(
            statement.replace("TEMP VIEW clock_event", "TEMP TABLE clock_event")
        )
    if not use.read or not use.fresh:
        return
    # Every stored case is a fresh one: no need to pick them.
    where = "" if not use.gone else " WHERE case_pk IN (SELECT id FROM ef_fresh)"
    # No order to keep: the rows are then copied on all threads (0.5 s less at 5M cases).
    with base.unordered(con):
        for table in base.EVENT_FACT_TABLES:
            con.execute(f"INSERT INTO {table} SELECT * FROM {ALIAS}.{table}{where}")


def _stored_select(con: duckdb.DuckDBPyConnection, table: str, where: str = "") -> str:
    """``table``'s rows as stored: ENUM columns as text (the store has no such types)."""
    columns = con.execute(f"DESCRIBE {table}").fetchall()
    names = ", ".join(
        f'CAST("{name}" AS VARCHAR) AS "{name}"'
        if str(kind).startswith("ENUM")
        else f'"{name}"'
        for name, kind, *_rest in columns
    )
    return f"SELECT {names} FROM {table}{where}"


def write_back(
    con: duckdb.DuckDBPyConnection, use: StoreUse, *, full: bool, using: str
) -> None:
    """Store what this run derived (``ef_stale``'s facts and stamps). A full run also drops
    the cases that are gone; one that found no usable store, or mostly stale cases,
    writes a new file instead."""
    started = time.perf_counter()
    if use.read:
        con.execute(f"DETACH {ALIAS}")
    if not use.stale and not (full and use.gone):
        return
    # The store is a cache: a failure to write it is logged, and the run goes on.
    try:
        total = max(use.fresh + use.stale, 1)
        if full and (not use.read or use.stale > REBUILD_SHARE * total):
            _rebuild(con, use.path, using=using)
            use.written = "rebuilt"
        elif use.read:
            use.written = "updated" if _update(con, use.path, full=full) else "failed"
    except (duckdb.Error, OSError) as error:
        logger.warning("event facts store %s not written: %s", use.path, error)
        use.written = "failed"
    use.seconds = time.perf_counter() - started


def _rebuild(con: duckdb.DuckDBPyConnection, path: Path, *, using: str) -> None:
    """Write every loaded case's facts to a new file and put it in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    con.execute(f"ATTACH {quote(str(partial))} AS ef_new")
    try:
        _fill_new(con, using=using)
    except BaseException:
        con.execute("DETACH DATABASE IF EXISTS ef_new")
        partial.unlink(missing_ok=True)
        raise
    con.execute("DETACH ef_new")
    # A write-ahead log left by a writer that died belongs to the old file.
    Path(f"{path}.wal").unlink(missing_ok=True)
    os.replace(partial, path)


def _fill_new(con: duckdb.DuckDBPyConnection, *, using: str) -> None:
    """Fill the new store attached as ``ef_new``."""
    for table in base.EVENT_FACT_TABLES:
        con.execute(f"CREATE TABLE ef_new.{table} AS {_stored_select(con, table)}")
    con.execute(
        "CREATE TABLE ef_new.stamp AS SELECT id AS case_pk, stamp FROM case_stamp"
    )
    con.execute("CREATE TABLE ef_new.meta (key VARCHAR, value VARCHAR)")
    con.execute(
        "INSERT INTO ef_new.meta VALUES ('format', ?), ('database', ?)",
        [store_format(), database_identity(using)],
    )
    con.execute("CHECKPOINT ef_new")


def _update(con: duckdb.DuckDBPyConnection, path: Path, *, full: bool) -> bool:
    """Replace the stale cases' rows in the store, in one transaction; a full run also
    drops the cases that are gone. False when another process holds the file."""
    try:
        con.execute(f"ATTACH {quote(str(path))} AS {ALIAS}")
    except duckdb.Error as error:
        logger.warning("event facts store %s not updated: %s", path, error)
        return False
    try:
        gone = ' OR case_pk NOT IN (SELECT id FROM "case")' if full else ""
        con.execute("BEGIN TRANSACTION")
        try:
            for table in (*base.EVENT_FACT_TABLES, "stamp"):
                con.execute(
                    f"DELETE FROM {ALIAS}.{table} WHERE case_pk IN (SELECT id FROM ef_stale){gone}"
                )
            stale = " WHERE case_pk IN (SELECT id FROM ef_stale)"
            for table in base.EVENT_FACT_TABLES:
                con.execute(
                    f"INSERT INTO {ALIAS}.{table} {_stored_select(con, table, stale)}"
                )
            con.execute(
                f"INSERT INTO {ALIAS}.stamp SELECT k.id, k.stamp FROM case_stamp k JOIN ef_stale s ON s.id = k.id"
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute(f"DETACH {ALIAS}")
    return True
