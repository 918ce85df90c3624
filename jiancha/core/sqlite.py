"""Writing many rows to SQLite quickly (raw ``sqlite3`` connection, inside a transaction).

One ``INSERT`` of many rows costs about half as much per row as one row per statement
(parsing, binding and the statement's VDBE set-up are paid once per statement).
"""

import sqlite3
from collections.abc import Sequence
from typing import Any

ROWS_PER_STATEMENT = 500


def max_variables(raw: sqlite3.Connection) -> int:
    """How many ``?`` parameters one statement of this connection may bind."""
    try:
        return raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # pragma: no cover (Python < 3.11)
        return 999


def insert_many(
    raw: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    suffix: str = "",
    limit: int | None = None,
) -> None:
    """Insert ``rows`` (each in the order of ``columns``), many rows per statement.

    ``suffix`` ends every statement (an ``ON CONFLICT`` clause, say); ``limit`` is the
    connection's parameter limit (read from it when None).
    """
    if not rows:
        return
    width = len(columns)
    per_statement = max(
        1, min(ROWS_PER_STATEMENT, (limit or max_variables(raw)) // width)
    )
    names = ", ".join(columns)
    mark = "(" + ", ".join("?" * width) + ")"

    def statement(count: int) -> str:
        return (
            f"INSERT INTO {table} ({names}) VALUES {', '.join([mark] * count)} {suffix}"
        )

    full = len(rows) - len(rows) % per_statement
    if full:
        params = []
        for start in range(0, full, per_statement):
            flat: list[Any] = []
            for row in rows[start : start + per_statement]:
                flat.extend(row)
            params.append(flat)
        raw.executemany(statement(per_statement), params)
    if full < len(rows):
        flat = []
        for row in rows[full:]:
            flat.extend(row)
        raw.execute(statement(len(rows) - full), flat)
