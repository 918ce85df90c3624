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

import numpy as np
from django.conf import settings
from django.db import connection

from jiancha.analytics.snapshot import open_snapshot, snapshot_info, snapshot_path
from jiancha.indicators.compiler import DIALECTS, Dialect, DuckDBDialect
from jiancha.indicators.rollup import Leaf


def _empty(terms: int) -> Leaf:
    return Leaf(np.zeros(0, dtype=np.int64), [], np.zeros((0, terms), dtype=np.int64))


class Engine:
    name = "abstract"
    dialect: Dialect

    def run(self, sql: str, terms: int) -> Leaf:
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
    name = "snapshot"

    def __init__(self, path: Path | None = None) -> None:
        self.dialect = DuckDBDialect()
        self.path = Path(path or snapshot_path())
        self.con = open_snapshot(self.path)
        self._info: dict[str, Any] | None = None

    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = snapshot_info(self.con)
        return self._info

    def run(self, sql: str, terms: int) -> Leaf:
        arrays = self.con.execute(sql).fetchnumpy()
        if not len(arrays["unit_id"]):
            return _empty(terms)
        counts = np.column_stack([np.asarray(arrays[f"t{i}"], dtype=np.int64) for i in range(terms)])
        return Leaf(np.asarray(arrays["unit_id"], dtype=np.int64), [str(b) for b in arrays["bucket"]], counts)

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

    def run(self, sql: str, terms: int) -> Leaf:
        with connection.cursor() as cursor:
            cursor.execute(sql, [])
            rows = cursor.fetchall()
        if not rows:
            return _empty(terms)
        unit_ids = np.array([row[0] for row in rows], dtype=np.int64)
        buckets = [str(row[1]) for row in rows]
        return Leaf(unit_ids, buckets, np.array([row[2:] for row in rows], dtype=np.int64))

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
