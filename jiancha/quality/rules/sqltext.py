"""Python values as DuckDB SQL literals.

DuckDB binds list parameters and ``executemany`` rows one value at a time (about a
millisecond per row), so small tables are created from a ``VALUES`` literal instead, and
large ones from NumPy arrays (:func:`jiancha.quality.rules.source.insert_rows`).
"""

import datetime
from collections.abc import Sequence
from typing import Any


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(sql_literal(item) for item in value) + "]"
    return quote(str(value))


def values_clause(rows: Sequence[Sequence[Any]]) -> str:
    return ", ".join(
        "(" + ", ".join(sql_literal(value) for value in row) + ")" for row in rows
    )
