"""Running read-only SQL from ``sql/*.sql`` files with named parameters over a snapshot."""

from functools import cache
from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def sql_text(name: str, directory: Path = SQL_DIR) -> str:
    return (directory / f"{name}.sql").read_text(encoding="utf-8")


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Execute ``sql`` with ``$name`` parameters; rows as dicts."""
    cursor = con.execute(sql, params or {})
    columns = [description[0] for description in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
