"""Writing many rows to SQLite quickly (raw ``sqlite3`` connection, inside a transaction).

One ``INSERT`` of many rows costs about half as much per row as one row per statement
(parsing, binding and the statement's VDBE set-up are paid once per statement). The
importer (values already flat, from its parsing workers) and the quality writes use it.
"""

import sqlite3
from collections.abc import Sequence
from typing import Any

ROWS_PER_STATEMENT = 1000


def max_variables(raw: sqlite3.Connection) -> int:
    """How many ``?`` parameters one statement of this connection may bind."""
    try:
        return raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # pragma: no cover (Python < 3.11)
        return 999


def insert_flat(
    raw: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    flat: list[Any],
    *,
    suffix: str = "",
    limit: int | None = None,
    rows_per_statement: int = ROWS_PER_STATEMENT,
) -> None:
    """Insert rows given as one flat list of values (row after row, in the order of
    ``columns``), many rows per statement.

    ``suffix`` ends every statement (an ``ON CONFLICT`` clause, say); ``limit`` is the
    connection's parameter limit (read from it when None).
    """
    if not flat:
        return
    width = len(columns)
    per_statement = max(
        1, min(rows_per_statement, (limit or max_variables(raw)) // width)
    )
    names = ", ".join(columns)
    mark = "(" + ", ".join("?" * width) + ")"

    def statement(count: int) -> str:
        return (
            f"INSERT INTO {table} ({names}) VALUES {', '.join([mark] * count)} {suffix}"
        )

    step = per_statement * width
    full = len(flat) - len(flat) % step
    if full:
        raw.executemany(
            statement(per_statement),
            [flat[start : start + step] for start in range(0, full, step)],
        )
    if full < len(flat):
        raw.execute(statement((len(flat) - full) // width), flat[full:])


def insert_many(
    raw: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    **options: Any,
) -> None:
    """:func:`insert_flat` for rows given one by one."""
    flat: list[Any] = []
    for row in rows:
        flat.extend(row)
    insert_flat(raw, table, columns, flat, **options)
