"""Compiling indicator measures to one SQL statement, in a subset shared by three engines.

The statement runs unchanged (apart from the table sources and three small expressions a
:class:`Dialect` supplies) on the DuckDB snapshot, on SQLite and on PostgreSQL, which is
what lets a test check that the three give identical numerators and denominators.

Shape of the statement (one pass over the facts, then a roll-up)::

    closure      unit -> every ancestor (recursive CTE over parent_id)
    fe           the events of the needed types in the date range, with their case's columns
    person_level one row per (unit, period, case, person): a 0/1 column per person term
    case_level   one row per (unit, period, case):          a 0/1 column per case term
    result       per (unit, period): the count of every term (+ event, case, matter terms)

and then, outside SQL, :func:`rollup` sums each unit's rows into its ancestors.

Every term becomes one column, so a definition set of ~35 indicators is one statement with
one scan of each base table, not 70 queries.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jiancha.indicators.definitions import Indicator, Relation, Term

BY_VALUES = ("month", "quarter", "year")


class Dialect:
    """The engine-specific pieces: table sources and a few expressions."""

    name = "abstract"
    placeholder = "?"

    def table(self, name: str) -> str:  # event, case, person, unit
        raise NotImplementedError

    def bucket(self, column: str, by: str | None, label: str) -> str:
        raise NotImplementedError

    def duration_days(self, start: str, end: str) -> str:
        raise NotImplementedError

    def date(self, value: datetime.date) -> str:
        return f"'{value.isoformat()}'"

    def literal(self, value: Any) -> str:
        """A SQL literal; Django's cursors format ``%``, so those dialects double it."""
        text = _literal(value)
        return text.replace("%", "%%") if self.placeholder == "%s" else text

    def month_last_days(self, column: str, days: int) -> str:
        """True when ``column`` falls in the last ``days`` days of its month."""
        raise NotImplementedError


class DuckDBDialect(Dialect):
    name = "duckdb"

    def table(self, name: str) -> str:
        return {"event": "event", "case": '"case"', "person": "person", "unit": "unit"}[name]

    def bucket(self, column: str, by: str | None, label: str) -> str:
        if by == "month":
            return f"strftime({column}, '%Y-%m')"
        if by == "quarter":
            return f"(CAST(year({column}) AS VARCHAR) || '-Q' || CAST(quarter({column}) AS VARCHAR))"
        if by == "year":
            return f"strftime({column}, '%Y')"
        return f"'{label}'"

    def duration_days(self, start: str, end: str) -> str:
        return f"date_diff('day', {start}, {end})"

    def date(self, value: datetime.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def month_last_days(self, column: str, days: int) -> str:
        return f"({column} > last_day({column}) - INTERVAL {int(days)} DAY)"


def _sqlite_json(column: str, kind: str) -> str:
    return f"json_extract(details, '$.{column}')"


class SQLiteDialect(Dialect):
    name = "sqlite"
    placeholder = "%s"

    def table(self, name: str) -> str:
        if name == "event":
            columns = ", ".join(
                f"json_extract(details, '$.{column}') AS {column}"
                for column in ("decision", "reason", "kind", "verdict", "instance", "recommendation_adopted", "changed", "adopted", "supported")
            )
            return f'(SELECT case_id, position, type, "on", person, {columns} FROM cases_event)'
        if name == "case":
            return (
                "(SELECT id, unit_id, CASE WHEN matter_id = '' THEN CAST(unit_id AS TEXT) || ':' || case_id ELSE matter_id END AS matter_key,"
                " business_line, procedure, procurator_id, received_on, closed_on, detained, fast_track, complex FROM cases_case)"
            )
        if name == "person":
            return "(SELECT case_id, person_id, juvenile, plea_leniency FROM cases_person)"
        return "(SELECT id, code, parent_id, path FROM accounts_unit)"

    def bucket(self, column: str, by: str | None, label: str) -> str:
        if by == "month":
            return f"strftime('%%Y-%%m', {column})"
        if by == "quarter":
            return f"(strftime('%%Y', {column}) || '-Q' || ((CAST(strftime('%%m', {column}) AS INTEGER) + 2) / 3))"
        if by == "year":
            return f"strftime('%%Y', {column})"
        return f"'{label}'"

    def duration_days(self, start: str, end: str) -> str:
        return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"

    def month_last_days(self, column: str, days: int) -> str:
        return f"({column} > date({column}, 'start of month', '+1 month', '-{int(days) + 1} day'))"


class PostgreSQLDialect(Dialect):
    name = "postgresql"
    placeholder = "%s"

    def table(self, name: str) -> str:
        if name == "event":
            text = ", ".join(f"details->>'{column}' AS {column}" for column in ("decision", "reason", "kind", "verdict"))
            flags = ", ".join(
                f"CASE WHEN jsonb_typeof(details->'{column}') = 'boolean' THEN (details->>'{column}')::boolean END AS {column}"
                for column in ("recommendation_adopted", "changed", "adopted", "supported")
            )
            instance = "CASE WHEN (details->>'instance') ~ '^-?[0-9]+$' THEN (details->>'instance')::integer END AS instance"
            return f'(SELECT case_id, position, type, "on", person, {text}, {instance}, {flags} FROM cases_event)'
        if name == "case":
            return (
                "(SELECT id, unit_id, CASE WHEN matter_id = '' THEN CAST(unit_id AS TEXT) || ':' || case_id ELSE matter_id END AS matter_key,"
                " business_line, procedure, procurator_id, received_on, closed_on, detained, fast_track, complex FROM cases_case)"
            )
        if name == "person":
            return "(SELECT case_id, person_id, juvenile, plea_leniency FROM cases_person)"
        return "(SELECT id, code, parent_id, path FROM accounts_unit)"

    def bucket(self, column: str, by: str | None, label: str) -> str:
        if by == "month":
            return f"to_char({column}, 'YYYY-MM')"
        if by == "quarter":
            return f"to_char({column}, 'YYYY-\"Q\"Q')"
        if by == "year":
            return f"to_char({column}, 'YYYY')"
        return f"'{label}'"

    def duration_days(self, start: str, end: str) -> str:
        return f"({end} - {start})"

    def date(self, value: datetime.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def month_last_days(self, column: str, days: int) -> str:
        return f"({column} > (date_trunc('month', {column}) + INTERVAL '1 month' - INTERVAL '{int(days) + 1} day')::date)"


DIALECTS: dict[str, type[Dialect]] = {"duckdb": DuckDBDialect, "sqlite": SQLiteDialect, "postgresql": PostgreSQLDialect}


# Filters common to every term ------------------------------------------------------------


@dataclass(frozen=True)
class CaseScope:
    """Which cases count at all: the units below the targets and the dashboard's filters."""

    targets: tuple[int, ...] | None  # unit ids whose subtree is computed; None = every unit
    business_lines: tuple[str, ...] = ()
    unit_only: int | None = None  # restrict to one unit's own cases (procurator / department)
    procurator: str = ""

    def key(self) -> tuple[Any, ...]:
        return (self.targets, self.business_lines, self.unit_only, self.procurator)


@dataclass
class Compiled:
    sql: str
    params: list[Any]
    columns: list[str]  # term keys in output order
    term_index: dict[str, int] = field(default_factory=dict)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("booleans are compared with IS")
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _predicate(alias: str, condition: Sequence[tuple[str, tuple[Any, ...]]], types: dict[str, str]) -> list[str]:
    parts = []
    for column, values in condition:
        ref = f"{alias}.{column}"
        if types.get(column) == "bool" or any(isinstance(value, bool) for value in values):
            options = []
            for value in values:
                if value is None:
                    options.append(f"{ref} IS NULL")
                else:
                    options.append(f"{ref} IS {'TRUE' if value else 'FALSE'}")
            parts.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
            continue
        plain = [value for value in values if value is not None]
        options = []
        if plain:
            options.append(f"{ref} = {_literal(plain[0])}" if len(plain) == 1 else f"{ref} IN ({', '.join(_literal(v) for v in plain)})")
        if len(plain) != len(values):
            options.append(f"{ref} IS NULL")
        parts.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
    return parts


def _and(parts: Sequence[str]) -> str:
    return " AND ".join(parts) if parts else "1 = 1"


def term_key(term: Term) -> str:
    return repr(term)


class QueryBuilder:
    """Compiles a list of indicators (their distinct terms) for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    # Pieces --------------------------------------------------------------------------

    def _event_types(self, condition: Sequence[tuple[str, tuple[Any, ...]]]) -> tuple[str, ...]:
        for column, values in condition:
            if column == "type":
                return tuple(values)
        return ()

    def _relation(self, relation: Relation, row: str) -> str:
        """EXISTS (or NOT EXISTS) of the related event, as 0/1."""
        d = self.dialect
        from jiancha.indicators.definitions import EVENT_COLUMNS

        where = _predicate("x", relation.event, EVENT_COLUMNS)
        if relation.kind == "same_case":
            source = f"{d.table('event')} x"
            where.insert(0, f"x.case_id = {row}.case_id")
        elif relation.kind == "same_person":
            source = f"{d.table('event')} x"
            where[:0] = [f"x.case_id = {row}.case_id", f"(x.person = {row}.key_person OR x.person = '')"]
        else:  # earlier_in_matter
            source = f"{d.table('event')} x JOIN {d.table('case')} cx ON cx.id = x.case_id"
            where[:0] = [
                f"cx.matter_key = {row}.matter_key",
                f"(x.person = {row}.key_person OR x.person = '')",
                f'x."on" <= {row}."on"',
            ]
        exists = f"EXISTS (SELECT 1 FROM {source} WHERE {_and(where)})"
        return exists if relation.present else f"NOT {exists}"

    def _case_scope(self, scope: CaseScope, alias: str, params: list[Any]) -> list[str]:
        parts = []
        if scope.targets is not None:
            ids = ", ".join(str(int(unit_id)) for unit_id in scope.targets) or "NULL"
            parts.append(f"{alias}.unit_id IN (SELECT unit_id FROM closure WHERE ancestor_id IN ({ids}))")
        if scope.unit_only is not None:
            parts.append(f"{alias}.unit_id = {int(scope.unit_only)}")
        if scope.business_lines:
            parts.append(f"{alias}.business_line IN ({', '.join(_literal(line) for line in scope.business_lines)})")
        if scope.procurator:
            parts.append(f"{alias}.procurator_id = {self.dialect.literal(scope.procurator)}")
        return parts

    # The statement --------------------------------------------------------------------

    def _term_where(self, alias: str, term: Term) -> list[str]:
        from jiancha.indicators.definitions import CASE_COLUMNS, EVENT_COLUMNS

        where = _predicate(alias, term.event, EVENT_COLUMNS) + _predicate(alias, term.case, CASE_COLUMNS)
        if term.last_days_of_month:
            where.append(self.dialect.month_last_days(f'{alias}."on"', term.last_days_of_month))
        return where

    def _plan(
        self,
        unique: dict[str, Term],
        index: dict[str, int],
        *,
        date_from: datetime.date,
        date_to: datetime.date,
        by: str | None,
        scope: CaseScope,
    ) -> tuple[list[str], list[tuple[str, list[int]]], dict[int, str]]:
        """The CTEs, the per-part aggregate SELECTs and, per term, a SELECT of its case ids."""
        from jiancha.indicators.definitions import CASE_COLUMNS, PERSON_COLUMNS

        d = self.dialect
        label = f"{date_from.isoformat()}/{date_to.isoformat()}"
        lo, hi = d.date(date_from), d.date(date_to)
        person_terms = [(index[k], t) for k, t in unique.items() if t.source == "event" and t.count == "persons"]
        case_terms = [(index[k], t) for k, t in unique.items() if t.source == "event" and t.count == "cases"]
        event_terms = [(index[k], t) for k, t in unique.items() if t.source == "event" and t.count == "events"]
        case_source = [(index[k], t) for k, t in unique.items() if t.source == "case" and t.count in {"cases", "sum"}]
        matter_terms = [(index[k], t) for k, t in unique.items() if t.source == "case" and t.count == "matters"]

        ctes = [
            "closure (unit_id, ancestor_id) AS ("
            f"SELECT u0.id, u0.id FROM {d.table('unit')} u0 "
            "UNION ALL "
            f"SELECT cl.unit_id, u.parent_id FROM closure cl JOIN {d.table('unit')} u ON u.id = cl.ancestor_id WHERE u.parent_id IS NOT NULL)"
        ]
        parts: list[tuple[str, list[int]]] = []
        case_ids: dict[int, str] = {}

        event_based = person_terms + case_terms + event_terms
        if event_based:
            types = sorted({value for _i, t in event_based for value in self._event_types(t.event)})
            where = [
                f"e.type IN ({', '.join(d.literal(value) for value in types)})",
                f'e."on" >= {lo}',
                f'e."on" <= {hi}',
                *self._case_scope(scope, "c", []),
            ]
            from jiancha.indicators.definitions import EVENT_COLUMNS

            event_columns = ", ".join(f"e.{column}" for column in EVENT_COLUMNS if column != "type")
            case_columns = ", ".join(f"c.{column}" for column in CASE_COLUMNS)
            event_bucket = d.bucket('e."on"', by, label)
            ctes.append(
                "fe AS MATERIALIZED ("
                f'SELECT c.unit_id, {event_bucket} AS bucket, e.case_id, e.position, e.type, e."on", e.person, '
                f"{event_columns}, {case_columns}, c.matter_key "
                f"FROM {d.table('event')} e JOIN {d.table('case')} c ON c.id = e.case_id WHERE {_and(where)})"
            )
        if person_terms:
            types = sorted({value for _i, t in person_terms for value in self._event_types(t.event)})
            type_filter = f"type IN ({', '.join(d.literal(value) for value in types)})"
            attributes = any(t.uses_person_attributes for _i, t in person_terms)
            ctes.append(
                "fx AS ("
                f"SELECT fe.*, fe.person AS key_person FROM fe WHERE fe.person <> '' AND fe.{type_filter} "
                "UNION ALL "
                f"SELECT fe.*, COALESCE(p.person_id, '') AS key_person FROM fe LEFT JOIN {d.table('person')} p ON p.case_id = fe.case_id "
                f"WHERE fe.person = '' AND fe.{type_filter})"
            )
            relations: dict[str, str] = {}
            flag_columns = []
            for _i, term in person_terms:
                for relation in term.relations:
                    sql = self._relation(relation, "fx")
                    if sql not in relations:
                        relations[sql] = f"r{len(relations)}"
                        flag_columns.append(f"CASE WHEN {sql} THEN 1 ELSE 0 END AS {relations[sql]}")
            joins = extra = ""
            if attributes:
                joins = f" LEFT JOIN {d.table('person')} pa ON pa.case_id = fx.case_id AND pa.person_id = fx.key_person"
                extra = ", pa.juvenile AS p_juvenile, pa.plea_leniency AS p_plea_leniency"
            flags = (", " + ", ".join(flag_columns)) if flag_columns else ""
            ctes.append(f"fr AS (SELECT fx.*{extra}{flags} FROM fx{joins})")
            aggregates = []
            person_types = {f"p_{key}": value for key, value in PERSON_COLUMNS.items()}
            for i, term in person_terms:
                where = self._term_where("fr", term)
                where += _predicate("fr", tuple((f"p_{column}", values) for column, values in term.person), person_types)
                for relation in term.relations:
                    where.append(f"fr.{relations[self._relation(relation, 'fx')]} = 1")
                aggregates.append(f"MAX(CASE WHEN {_and(where)} THEN 1 ELSE 0 END) AS t{i}")
                case_ids[i] = f"SELECT case_id FROM person_level WHERE t{i} = 1"
            ctes.append(
                f"person_level AS (SELECT unit_id, bucket, case_id, key_person, {', '.join(aggregates)} FROM fr GROUP BY unit_id, bucket, case_id, key_person)"
            )
            sums = ", ".join(f"CAST(SUM(t{i}) AS BIGINT) AS t{i}" for i, _t in person_terms)
            parts.append((f"SELECT unit_id, bucket, {sums} FROM person_level GROUP BY unit_id, bucket", [i for i, _t in person_terms]))
        if case_terms:
            aggregates = []
            for i, term in case_terms:
                where = self._term_where("fe", term) + [self._relation(relation, "fe") for relation in term.relations]
                aggregates.append(f"MAX(CASE WHEN {_and(where)} THEN 1 ELSE 0 END) AS t{i}")
                case_ids[i] = f"SELECT case_id FROM case_level WHERE t{i} = 1"
            ctes.append(f"case_level AS (SELECT unit_id, bucket, case_id, {', '.join(aggregates)} FROM fe GROUP BY unit_id, bucket, case_id)")
            sums = ", ".join(f"CAST(SUM(t{i}) AS BIGINT) AS t{i}" for i, _t in case_terms)
            parts.append((f"SELECT unit_id, bucket, {sums} FROM case_level GROUP BY unit_id, bucket", [i for i, _t in case_terms]))
        if event_terms:
            sums = []
            for i, term in event_terms:
                where = _and(self._term_where("fe", term))
                sums.append(f"CAST(SUM(CASE WHEN {where} THEN 1 ELSE 0 END) AS BIGINT) AS t{i}")
                case_ids[i] = f"SELECT case_id FROM fe WHERE {where}"
            parts.append((f"SELECT unit_id, bucket, {', '.join(sums)} FROM fe GROUP BY unit_id, bucket", [i for i, _t in event_terms]))
        for date_column in ("received_on", "closed_on"):
            group = [(i, t) for i, t in case_source if t.date == date_column]
            if not group:
                continue
            where_all = [f"c.{date_column} >= {lo}", f"c.{date_column} <= {hi}", *self._case_scope(scope, "c", [])]
            sums = []
            for i, term in group:
                where = _and(_predicate("c", term.case, CASE_COLUMNS))
                if term.count == "sum":
                    sums.append(f"CAST(SUM(CASE WHEN {where} THEN {d.duration_days('c.received_on', 'c.closed_on')} ELSE 0 END) AS BIGINT) AS t{i}")
                else:
                    sums.append(f"CAST(SUM(CASE WHEN {where} THEN 1 ELSE 0 END) AS BIGINT) AS t{i}")
                case_ids[i] = f"SELECT c.id AS case_id FROM {d.table('case')} c WHERE {_and(where_all)} AND {where}"
            bucket = d.bucket("c." + date_column, by, label)
            group_by = "" if by is None else f", {bucket}"  # PostgreSQL refuses a constant in GROUP BY
            parts.append(
                (
                    f"SELECT c.unit_id, {bucket} AS bucket, {', '.join(sums)} FROM {d.table('case')} c WHERE {_and(where_all)} GROUP BY c.unit_id{group_by}",
                    [i for i, _t in group],
                )
            )
        if matter_terms:
            firsts = []
            for i, term in matter_terms:
                where = _and(_predicate("c", term.case, CASE_COLUMNS))
                firsts.append(f"MIN(CASE WHEN {where} THEN c.received_on END) AS f{i}")
            where = [f"c.received_on <= {hi}", *self._case_scope(scope, "c", [])]
            recent = [f"r.received_on >= {lo}", f"r.received_on <= {hi}", *self._case_scope(scope, "r", [])]
            # A matter counts in the period its first record in the unit was received; the
            # semi-join keeps the grouping to matters with a record received in the range.
            ctes.append(
                f"matters AS (SELECT c.unit_id, c.matter_key, {', '.join(firsts)} FROM {d.table('case')} c "
                f"WHERE {_and(where)} AND c.matter_key IN (SELECT r.matter_key FROM {d.table('case')} r WHERE {_and(recent)}) "
                "GROUP BY c.unit_id, c.matter_key)"
            )
            for i, term in matter_terms:
                bucket = d.bucket(f"f{i}", by, label)
                group_by = "" if by is None else f", {bucket}"
                parts.append(
                    (f"SELECT unit_id, {bucket} AS bucket, CAST(COUNT(*) AS BIGINT) AS t{i} FROM matters WHERE f{i} >= {lo} AND f{i} <= {hi} GROUP BY unit_id{group_by}", [i])
                )
                where = _and(_predicate("c", term.case, CASE_COLUMNS))
                case_ids[i] = (
                    f"SELECT c.id AS case_id FROM {d.table('case')} c JOIN matters m ON m.unit_id = c.unit_id AND m.matter_key = c.matter_key "
                    f"AND c.received_on = m.f{i} WHERE m.f{i} >= {lo} AND m.f{i} <= {hi} AND {where}"
                )
        return ctes, parts, case_ids

    def compile(
        self,
        terms: Sequence[Term],
        *,
        date_from: datetime.date,
        date_to: datetime.date,
        by: str | None,
        scope: CaseScope,
    ) -> Compiled:
        """One statement giving, per unit with cases and period, t_i: each term's count.

        Subtrees are summed afterwards (:func:`rollup`): every fact belongs to exactly one
        unit, so a unit's subtree is the sum of its units' own counts.
        """
        unique: dict[str, Term] = {}
        for term in terms:
            unique.setdefault(term_key(term), term)
        keys = list(unique)
        index = {key: position for position, key in enumerate(keys)}
        ctes, parts, _case_ids = self._plan(unique, index, date_from=date_from, date_to=date_to, by=by, scope=scope)
        n = len(keys)
        if not parts:
            raise ValueError("nothing to compute")
        selects = []
        for sql, present in parts:
            columns = ", ".join(f"t{i}" if i in present else f"CAST(0 AS BIGINT) AS t{i}" for i in range(n))
            selects.append(f"SELECT unit_id, bucket, {columns} FROM ({sql}) p{len(selects)}")
        sums = ", ".join(f"CAST(SUM(t{i}) AS BIGINT) AS t{i}" for i in range(n))
        sql = (
            "WITH RECURSIVE "
            + ", ".join(ctes)
            + f" SELECT unit_id, bucket, {sums} FROM ("
            + " UNION ALL ".join(selects)
            + ") leaf GROUP BY unit_id, bucket"
        )
        return Compiled(sql=sql, params=[], columns=keys, term_index=index)

    def compile_cases(
        self,
        terms: Sequence[Term],
        *,
        date_from: datetime.date,
        date_to: datetime.date,
        scope: CaseScope,
        limit: int,
    ) -> Compiled:
        """The ids of the cases behind the terms (e.g. a numerator), at most ``limit`` + 1."""
        unique: dict[str, Term] = {}
        for term in terms:
            unique.setdefault(term_key(term), term)
        index = {key: position for position, key in enumerate(unique)}
        ctes, _parts, case_ids = self._plan(unique, index, date_from=date_from, date_to=date_to, by=None, scope=scope)
        union = " UNION ".join(case_ids[i] for i in sorted(case_ids))
        sql = f"WITH RECURSIVE {', '.join(ctes)} SELECT case_id FROM ({union}) ids ORDER BY case_id LIMIT {int(limit) + 1}"
        return Compiled(sql=sql, params=[], columns=list(unique), term_index=index)


def indicator_terms(indicators: Sequence[Indicator]) -> list[Term]:
    terms: list[Term] = []
    for indicator in indicators:
        terms.extend(indicator.numerator.terms)
        terms.extend(indicator.denominator.terms)
    return terms
