"""A DuckDB connection that plans each statement once: the single-case path.

Evaluating one case runs the same few dozen statements every time, on tables of a few rows:
planning them (parsing, binding, optimising 27,000 characters of rules) costs several times
more than running them. :class:`PreparedConnection` wraps the per-thread connection of
:func:`jiancha.quality.services.case_evaluate` so that every statement is prepared the first
time it is seen and executed from its plan afterwards:

* ``CREATE OR REPLACE [TEMP] TABLE t AS <query>`` creates ``t`` the first time, and then
  becomes ``DELETE FROM t`` and ``INSERT INTO t <query>``: data changes leave plans valid,
  while any change to the catalog makes DuckDB bind every prepared statement again on each
  execution (measured with DuckDB 1.5);
* other queries (``SELECT``, ``INSERT``, ``DELETE``, ``WITH``) without parameters are
  prepared as they are;
* anything else (views, macros, ``SET VARIABLE`` with a new value, a new table) changes what
  the plans depend on: the prepared statements are planned again when next used.

A plan must not depend on the data it was planned with, or it would be wrong for the next
case: DuckDB's optimizer uses table statistics (a perfect-hash aggregate sized from the
values seen, empty inputs folded away), so the optimizers that read them are disabled on
this connection (:data:`DATA_DEPENDENT_OPTIMIZERS`); on tables of a few rows that costs
nothing, and the rewrites that do not look at the data still run. ``getvariable()`` is
folded into a plan, hence the re-plan when a variable changes (``today``, once a day).

An evaluation runs inside :meth:`PreparedConnection.rolled_back`: one transaction, rolled
back at the end, so that every table is empty when the next one starts; a table is then
filled by its ``INSERT`` alone, and the ``DELETE`` that emptied it, like the commit of every
statement, is not needed (about 33 statements per case became 15).

Input rows of varying text (``VALUES`` literals) go through
:meth:`PreparedConnection.replace_rows` into fixed tables, so that the statements reading
them keep their text and their plans.
"""

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from jiancha.quality.rules.sqltext import values_clause

CREATE_TABLE_AS = re.compile(
    r"\s*CREATE\s+OR\s+REPLACE\s+(?:TEMP\s+|TEMPORARY\s+)?TABLE\s+(\"?\w+\"?)\s+AS\s(.*)\Z",
    re.S | re.I,
)
DISABLED_OPTIMIZERS = re.compile(
    r"\s*SET\s+disabled_optimizers\s*=\s*'([^']*)'\s*\Z", re.I
)
QUERY_HEADS = ("SELECT", "INSERT", "DELETE", "WITH")
INSERT_INTO = re.compile(r"\s*INSERT\s+INTO\s+(\"?\w+\"?)", re.I)
DELETE_ALL = re.compile(r"\s*DELETE\s+FROM\s+(\"?\w+\"?)\s*\Z", re.I)
# More distinct statements than this (a long-running process meeting many rule variants)
# and every plan is dropped, to be made again as statements come.
MAX_PREPARED = 400
# The optimizers whose result depends on the data planned with: statistics (min/max, null
# counts, distinct counts) prune filters and joins, fold empty inputs away and size
# perfect-hash aggregates and joins. The others only rewrite the statement.
DATA_DEPENDENT_OPTIMIZERS = ",".join(
    (
        "statistics_propagation",
        "empty_result_pullup",
        "row_group_pruner",
        "compressed_materialization",
    )
)


def _refill(table: str, query: str) -> tuple[str, str]:
    """What ``CREATE OR REPLACE TABLE table AS query`` runs as once the table exists."""
    return f"DELETE FROM {table}", f"INSERT INTO {table} {query}"


class PreparedConnection:
    """Wraps a DuckDB connection; ``execute`` and ``executemany`` as on the connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.raw = con
        # Tables created on this connection (later filled by DELETE + INSERT).
        self.tables: set[str] = set()
        # SQL text -> the name it is prepared under; ``current``: names whose plan is valid.
        self.names: dict[str, str] = {}
        self.current: set[str] = set()
        # The last value of each variable and setting plans depend on.
        self.variables: dict[str, Any] = {}
        # How many statements were prepared (planned) so far: tests read it.
        self.plans = 0
        self._next_name = 0
        # In :meth:`rolled_back`: the tables written so far (the others are still empty),
        # and the catalog changes to make again once the transaction is rolled back.
        self.filled: set[str] | None = None
        self._again: list[str] = []
        self.execute(f"SET disabled_optimizers = '{DATA_DEPENDENT_OPTIMIZERS}'")

    # -- a transaction that leaves every table empty ------------------------------------

    @contextmanager
    def rolled_back(self) -> Iterator["PreparedConnection"]:
        """Run the statements inside in one transaction that is rolled back at the end, so
        that the tables this connection made are empty again afterwards, as they must be
        when it starts (:meth:`~jiancha.quality.rules.engine.Engine.warm` leaves them
        empty): then filling a table needs no ``DELETE`` first, only its ``INSERT``, and
        nothing is committed. The single case ran about 18 ``DELETE`` statements (0.2 ms
        each) and committed every statement; and DuckDB keeps the rows deleted from its
        in-memory tables, whereas rolled back rows were never added to them.

        A table (or view) made inside is made again after the rollback, empty, so that
        the connection keeps it."""
        if self.filled is not None:
            raise RuntimeError("rolled_back() does not nest")
        self.raw.execute("BEGIN TRANSACTION")
        self.filled = set()
        try:
            yield self
        finally:
            self.filled = None
            again, self._again = self._again, []
            self.raw.execute("ROLLBACK")
            if again:
                for sql in again:
                    self.raw.execute(sql)
                self.invalidate()

    # -- what changes plans -------------------------------------------------------------

    def invalidate(self) -> None:
        """The catalog changed: every plan is made again when next used."""
        self.current.clear()

    def _prepared(self, sql: str) -> str:
        name = self.names.get(sql)
        if name is None:
            if len(self.names) >= MAX_PREPARED:
                for old in self.names.values():
                    self.raw.execute(f"DEALLOCATE {old}")
                self.names.clear()
                self.current.clear()
            name = f"jq{self._next_name}"
            self._next_name += 1
            self.names[sql] = name
        if name not in self.current:
            self.raw.execute(f"PREPARE {name} AS {sql}")
            self.current.add(name)
            self.plans += 1
        return name

    def _query(self, sql: str) -> duckdb.DuckDBPyConnection:
        return self.raw.execute(f"EXECUTE {self._prepared(sql)}")

    # -- the connection's interface -----------------------------------------------------

    def execute(self, sql: str, parameters: Any = None) -> duckdb.DuckDBPyConnection:
        match = CREATE_TABLE_AS.match(sql)
        if match and parameters is None:
            table, query = match.groups()
            if table in self.tables:
                self._empty(table)
                return self._query(_refill(table, query)[1])
            # Made again after a rollback with the same columns and no rows.
            return self._create(
                table, sql, f"{sql[: match.start(2)]}SELECT * FROM ({query}) LIMIT 0"
            )
        head = sql.lstrip()[:6].upper()
        if head.startswith(QUERY_HEADS):
            if self.filled is not None:
                emptied = DELETE_ALL.match(sql)
                if emptied and emptied.group(1) in self.tables:
                    if emptied.group(1) not in self.filled:
                        return self.raw  # empty since the transaction began
                    self.filled.discard(emptied.group(1))
                else:
                    self._note_insert(sql)
            if parameters is None:
                return self._query(sql)
            return self.raw.execute(sql, parameters)
        if head == "SET VA":
            key = sql.split("=", 1)[0]
            value = (sql, repr(parameters))
            if self.variables.get(key) == value:
                return self.raw
            self.variables[key] = value
        elif head.startswith("SET"):
            # Settings do not change plans (threads ...); the optimizers that depend on
            # the data stay disabled whatever else is.
            match = DISABLED_OPTIMIZERS.match(sql)
            if match:
                names = {
                    name.strip() for name in match.group(1).split(",") if name.strip()
                }
                names |= set(DATA_DEPENDENT_OPTIMIZERS.split(","))
                sql = f"SET disabled_optimizers = '{','.join(sorted(names))}'"
                if self.variables.get("disabled_optimizers") == sql:
                    return self.raw
                # Plans were made with the optimizers then enabled.
                self.variables["disabled_optimizers"] = sql
                self.invalidate()
            return self.raw.execute(sql, parameters)
        self.invalidate()
        if self.filled is not None:
            self._again.append(sql)
        return self.raw.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any) -> duckdb.DuckDBPyConnection:
        if self.filled is not None:
            self._note_insert(sql)
        return self.raw.executemany(sql, parameters)

    def _empty(self, table: str) -> None:
        """Empty a table of this connection before it is filled again: a ``DELETE``,
        unless the rolled-back evaluation under way has not written it yet."""
        if self.filled is None or table in self.filled:
            self._query(f"DELETE FROM {table}")
        if self.filled is not None:
            self.filled.add(table)

    def _create(self, table: str, sql: str, again: str) -> duckdb.DuckDBPyConnection:
        """Make a table of this connection with ``sql`` (a catalog change); inside
        :meth:`rolled_back`, ``again`` makes it once more after the rollback."""
        self.invalidate()
        result = self.raw.execute(sql)
        self.tables.add(table)
        if self.filled is not None:
            self.filled.add(table)
            self._again.append(again)
        return result

    def _note_insert(self, sql: str) -> None:
        """In :meth:`rolled_back`: a table inserted into is no longer empty."""
        into = INSERT_INTO.match(sql)
        if into and self.filled is not None:
            self.filled.add(into.group(1))

    def replace_rows(self, table: str, columns: str, rows: list[Any]) -> str:
        """Make ``table`` (``columns`` as in CREATE TABLE) hold exactly ``rows``; returns its
        name, for statements to select from."""
        if table not in self.tables:
            create = f"CREATE OR REPLACE TEMP TABLE {table} ({columns})"
            self._create(table, create, create)
        else:
            self._empty(table)
        if rows:
            # Text that differs every time: run, not prepared (data only, plans stay).
            self.raw.execute(f"INSERT INTO {table} VALUES {values_clause(rows)}")
        return table

    def statements(self) -> list[str]:
        """The queries planned on this connection, in the order first met."""
        return list(self.names)

    def plan(self, statements: Iterable[str]) -> int:
        """Plan these statements now, without running them: queries, and ``CREATE OR
        REPLACE TABLE t AS <query>`` of a table this connection has (as the ``DELETE`` and
        ``INSERT`` it runs them as). For a new connection (:meth:`Engine.warm`): the
        evaluations after it then find their statements planned rather than plan them one
        by one. A statement that does not bind here (a table this connection has not made
        yet) is left to be planned when it is met. Returns how many queries are planned."""
        queries: list[str] = []
        for sql in statements:
            match = CREATE_TABLE_AS.match(sql)
            if match:
                table, query = match.groups()
                if table in self.tables:
                    queries += _refill(table, query)
            elif sql.lstrip()[:6].upper().startswith(QUERY_HEADS):
                queries.append(sql)
        planned = 0
        for sql in dict.fromkeys(queries):
            if len(self.names) >= MAX_PREPARED:
                break
            try:
                self._prepared(sql)
            except duckdb.Error:
                continue
            planned += 1
        return planned

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)
