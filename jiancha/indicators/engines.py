"""Where indicator SQL runs: the DuckDB snapshot, or the operational database directly.

* :class:`SnapshotEngine` runs over the DuckDB snapshot of ``jiancha.analytics`` (fast; the
  figures are those of the snapshot's ``built_at``).
* :class:`DatabaseEngine` runs the same statement on SQLite or PostgreSQL through Django's
  connection (always current; for small ad-hoc queries and the three-engine agreement test).

``INDICATORS_ENGINE`` chooses: ``"snapshot"``, ``"database"`` or ``"auto"`` (the default:
the snapshot when one has been built, the database otherwise).
"""

import datetime
import hashlib
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from django.conf import settings
from django.db import connection

from jiancha.analytics.snapshot import open_snapshot, snapshot_path
from jiancha.indicators.compiler import (
    DIALECTS,
    Compiled,
    Dialect,
    DuckDBDialect,
    FactsDialect,
    decode,
)
from jiancha.indicators.rollup import Leaf


class Engine:
    name = "abstract"
    dialect: Dialect

    def run(self, compiled: Compiled) -> Leaf:
        raise NotImplementedError

    def unit_tree(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit ids and their parents' ids (0 for the root)."""
        raise NotImplementedError

    def case_ids(self, sql: str) -> list[int]:
        raise NotImplementedError

    def data_hash(self) -> str:
        raise NotImplementedError

    def as_of(self) -> datetime.datetime | None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SnapshotEngine(Engine):
    """DuckDB over the snapshot: its indicator fact tables (built once per snapshot, see
    :mod:`jiancha.indicators.facts`), or the snapshot's own tables with ``facts=False``."""

    name = "snapshot"

    def __init__(self, path: Path | None = None, *, facts: bool | None = None) -> None:
        self.path = Path(path or snapshot_path())
        use_facts = getattr(settings, "INDICATORS_FACTS", True) if facts is None else facts
        self.facts_seconds = 0.0
        if use_facts:
            from jiancha.indicators.facts import ensure_facts

            target, self.facts_seconds = ensure_facts(self.path)
            self.con = duckdb.connect(str(target), read_only=True)
            self.dialect: Dialect = FactsDialect()
            self._info_table = "facts_info"
        else:
            self.con = open_snapshot(self.path)
            self.dialect = DuckDBDialect()
            self._info_table = "snapshot_info"
        # The statement's joins are written in a good order already; DuckDB 1.5's join-order
        # optimizer can stall on its many UNION ALL branches over the same tables.
        self.con.execute("SET disabled_optimizers = 'join_order'")
        # Bounded memory: large joins spill to disk instead of crowding out the web workers.
        self.con.execute(f"SET memory_limit = '{getattr(settings, 'INDICATORS_DUCKDB_MEMORY_LIMIT', '3GB')}'")
        self.con.execute("SET preserve_insertion_order = false")
        self._info: dict[str, Any] | None = None

    def info(self) -> dict[str, Any]:
        if self._info is None:
            row = self.con.execute(f"SELECT built_at, vendor, cases, persons, events, data_hash FROM {self._info_table}").fetchone()
            self._info = dict(zip(["built_at", "vendor", "cases", "persons", "events", "data_hash"], row, strict=True))
        return self._info

    def run(self, compiled: Compiled) -> Leaf:
        arrays = self.con.execute(compiled.sql).fetchnumpy()
        return decode(arrays["unit_id"], [str(b) for b in arrays["bucket"]], arrays["part"], arrays["mask"], arrays["n"], compiled.parts, len(compiled.columns))

    def unit_tree(self) -> tuple[np.ndarray, np.ndarray]:
        arrays = self.con.execute("SELECT id, COALESCE(parent_id, 0) AS parent_id FROM unit").fetchnumpy()
        return np.asarray(arrays["id"], dtype=np.int64), np.asarray(arrays["parent_id"], dtype=np.int64)

    def case_ids(self, sql: str) -> list[int]:
        return [int(row[0]) for row in self.con.execute(sql).fetchall()]

    def data_hash(self) -> str:
        return str(self.info()["data_hash"])

    def as_of(self) -> datetime.datetime | None:
        return datetime.datetime.fromisoformat(str(self.info()["built_at"]))

    def close(self) -> None:
        self.con.close()


class DatabaseEngine(Engine):
    name = "database"

    def __init__(self) -> None:
        self.dialect = DIALECTS[connection.vendor]()

    def run(self, compiled: Compiled) -> Leaf:
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [])
            rows = cursor.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
        return decode(columns[0], [str(bucket) for bucket in columns[1]], columns[2], columns[3], columns[4], compiled.parts, len(compiled.columns))

    def unit_tree(self) -> tuple[np.ndarray, np.ndarray]:
        from jiancha.accounts.models import Unit

        pairs = list(Unit.objects.values_list("id", "parent_id"))
        return np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] or 0 for p in pairs], dtype=np.int64)

    def case_ids(self, sql: str) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [])
            return [int(row[0]) for row in cursor.fetchall()]

    def data_hash(self) -> str:
        """A digest of the case tables' contents (counts and id/date sums per table)."""
        digest = hashlib.sha256()
        queries = [
            "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(MAX(updated_at), '') FROM cases_case",
            "SELECT COUNT(*), COALESCE(SUM(case_id), 0), COALESCE(SUM(position), 0) FROM cases_person",
            "SELECT COUNT(*), COALESCE(SUM(case_id), 0), COALESCE(SUM(position), 0) FROM cases_event",
        ]
        if connection.vendor == "postgresql":
            queries[0] = "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(MAX(updated_at)::text, '') FROM cases_case"
        with connection.cursor() as cursor:
            for query in queries:
                cursor.execute(query)
                digest.update(repr(tuple(str(value) for value in cursor.fetchone())).encode())
        return "db:" + digest.hexdigest()[:32]

    def as_of(self) -> datetime.datetime | None:
        from django.utils import timezone

        return timezone.now()


def engine_name() -> str:
    configured = getattr(settings, "INDICATORS_ENGINE", "auto")
    if configured == "auto":
        return "snapshot" if snapshot_path().exists() else "database"
    return str(configured)


def get_engine(name: str | None = None) -> Engine:
    """The configured engine (``INDICATORS_ENGINE``), or the one named."""
    chosen = name or engine_name()
    if chosen == "snapshot":
        return SnapshotEngine()
    if chosen == "database":
        return DatabaseEngine()
    raise ValueError(f"unknown indicator engine {chosen!r}")
