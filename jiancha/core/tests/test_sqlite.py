"""insert_many: many rows per statement, the remainder in one more, an ON CONFLICT suffix."""

import sqlite3

import pytest

from jiancha.core.sqlite import insert_many


@pytest.fixture
def raw():
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b REAL)")
    yield connection
    connection.close()


@pytest.mark.parametrize("count", [1, 3, 4, 5, 11])
def test_every_row_is_inserted_once_across_statement_boundaries(raw, count):
    rows = [(number, f"v{number}", number / 2) for number in range(count)]

    # 3 columns and a limit of 12 parameters: 4 rows per statement, then the rest.
    insert_many(raw, "t", ("k", "a", "b"), rows, limit=12)

    assert raw.execute("SELECT k, a, b FROM t ORDER BY k").fetchall() == rows


def test_suffix_turns_the_statements_into_upserts(raw):
    insert_many(raw, "t", ("k", "a", "b"), [(1, "old", 0.0), (2, "old", 0.0)])

    insert_many(
        raw,
        "t",
        ("k", "a", "b"),
        [(2, "new", 2.0), (3, "new", 3.0)],
        suffix="ON CONFLICT (k) DO UPDATE SET a = excluded.a, b = excluded.b",
        limit=3,
    )

    assert raw.execute("SELECT k, a, b FROM t ORDER BY k").fetchall() == [
        (1, "old", 0.0),
        (2, "new", 2.0),
        (3, "new", 3.0),
    ]


def test_no_rows_runs_no_statement(raw):
    insert_many(raw, "missing_table", ("k",), [])  # would raise if it ran

    assert raw.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_failing_row_raises(raw):
    with pytest.raises(sqlite3.IntegrityError):
        insert_many(raw, "t", ("k", "a", "b"), [(1, "x", 0.0), (1, "y", 0.0)])
