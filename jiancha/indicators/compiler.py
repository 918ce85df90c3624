"""Compiling indicator measures to one SQL statement, in a subset shared by three engines.

The statement runs unchanged (apart from the table sources and three small expressions a
:class:`Dialect` supplies) on the DuckDB snapshot, on SQLite and on PostgreSQL, which is
what lets a test check that the three give identical numerators and denominators.

Shape of the statement (one pass over the facts)::

    fe           the events of the needed types in the date range, with their case's columns
    fr / fm      person rows (an event without a person counts each person of its case),
                 with relation flags from pre-aggregated LEFT JOINs and one bit per term
    person_level one row per (case, person, period): the OR of the bits
    case_level   one row per (case, period): the OR of the bits of the case terms
    result       (unit, period, part, mask, n): how many facts carry each set of bits

then, in numpy, :func:`decode` counts each term and :func:`jiancha.indicators.rollup.rollup`
sums each unit's counts into its ancestors. A definition set of ~35 indicators is one
statement with one pass over the events, not seventy queries.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jiancha.indicators.definitions import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    PERSON_COLUMNS,
    Indicator,
    Relation,
    Term,
)

BY_VALUES = ("month", "quarter", "year")


class Dialect:
    """The engine-specific pieces: table sources and a few expressions."""

    name = "abstract"
    placeholder = "?"
    facts = False  # reads the indicator fact tables (jiancha.indicators.facts)

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


class FactsDialect(DuckDBDialect):
    """DuckDB over the indicator fact tables: no join at query time (jiancha.indicators.facts)."""

    name = "duckdb"
    facts = True


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

    targets: tuple[str, ...] | None  # paths of the units whose subtrees count; None = every unit
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
    parts: list[list[int]] = field(default_factory=list)  # per part: the term of each mask bit


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
            options.append(_in(ref, [_literal(value) for value in plain]))
        if len(plain) != len(values):
            options.append(f"{ref} IS NULL")
        parts.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
    return parts


def _in(ref: str, literals: Sequence[str]) -> str:
    """``ref`` equal to one of the literals, as an OR chain.

    DuckDB rewrites a constant IN list into a join over the whole input, once per list;
    with thirty flags per row that costs more than comparing.
    """
    if len(literals) == 1:
        return f"{ref} = {literals[0]}"
    return "(" + " OR ".join(f"{ref} = {literal}" for literal in literals) + ")"


def _and(parts: Sequence[str]) -> str:
    return " AND ".join(parts) if parts else "1 = 1"


def term_key(term: Term) -> str:
    return repr(term)


MASK_BITS = 62  # flags per mask column: bits 0..61 of a signed 64-bit integer


@dataclass
class Group:
    """Terms counted together at one level; each term is one bit of a mask."""

    level: str  # "person" | "case" | "event"
    terms: list[tuple[int, Term]]

    def chunks(self) -> list[list[tuple[int, Term]]]:
        return [self.terms[start : start + MASK_BITS] for start in range(0, len(self.terms), MASK_BITS)]


class QueryBuilder:
    """Compiles a list of indicators (their distinct terms) for one dialect.

    The statement returns long rows ``(unit_id, bucket, part, mask, n)``: ``n`` facts of
    that unit and period carry the flags ``mask`` of ``part``. Counting terms share a part
    (one bit each), so a person's thirty flags cost one aggregate, not thirty; sums and
    matter counts get a part of their own (mask 1). :func:`decode` turns the rows into one
    count per term.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    # Pieces --------------------------------------------------------------------------

    def _event_types(self, condition: Sequence[tuple[str, tuple[Any, ...]]]) -> tuple[str, ...]:
        for column, values in condition:
            if column == "type":
                return tuple(values)
        return ()

    def _relation_joins(self, relation: Relation, name: str, row: str) -> tuple[list[str], list[str], str]:
        """CTEs, LEFT JOINs and a 0/1 flag telling whether the related event exists.

        The related events are pre-aggregated (distinct keys, or the first date) so that
        every join is an equality join on unique keys: hash joins, no correlated subquery.
        An event without a person concerns every person of its case.
        """
        d = self.dialect
        where = _and(_predicate("x", relation.event, EVENT_COLUMNS))
        if relation.kind == "same_case":
            ctes = [f"{name} AS (SELECT DISTINCT x.case_id FROM {d.table('event')} x WHERE {where})"]
            joins = [f"LEFT JOIN {name} ON {name}.case_id = {row}.case_id"]
            flag = f"{name}.case_id IS NOT NULL"
        elif relation.kind == "same_person":
            ctes = [
                f"{name}p AS (SELECT DISTINCT x.case_id, x.person FROM {d.table('event')} x WHERE {where} AND x.person <> '')",
                f"{name}c AS (SELECT DISTINCT x.case_id FROM {d.table('event')} x WHERE {where} AND x.person = '')",
            ]
            joins = [
                f"LEFT JOIN {name}p ON {name}p.case_id = {row}.case_id AND {name}p.person = {row}.key_person",
                f"LEFT JOIN {name}c ON {name}c.case_id = {row}.case_id",
            ]
            flag = f"({name}p.case_id IS NOT NULL OR {name}c.case_id IS NOT NULL)"
        else:  # earlier_in_matter: the same person (or the whole case) in the same matter, on or before
            source = f"{d.table('event')} x JOIN {d.table('case')} cx ON cx.id = x.case_id"
            ctes = [
                f"{name}p AS (SELECT cx.matter_key, x.person, MIN(x.\"on\") AS first_on FROM {source} WHERE {where} AND x.person <> '' GROUP BY cx.matter_key, x.person)",
                f"{name}c AS (SELECT cx.matter_key, MIN(x.\"on\") AS first_on FROM {source} WHERE {where} AND x.person = '' GROUP BY cx.matter_key)",
            ]
            joins = [
                f"LEFT JOIN {name}p ON {name}p.matter_key = {row}.matter_key AND {name}p.person = {row}.key_person",
                f"LEFT JOIN {name}c ON {name}c.matter_key = {row}.matter_key",
            ]
            flag = f'({name}p.first_on <= {row}."on" OR {name}c.first_on <= {row}."on")'
        return ctes, joins, f"CASE WHEN {flag} THEN 1 ELSE 0 END"

    def _case_scope(self, scope: CaseScope, alias: str) -> list[str]:
        parts = []
        if scope.targets is not None:
            # A subtree is a prefix of the materialised path: no recursion needed.
            prefixes = " OR ".join(f"substr(u.path, 1, {len(path)}) = {self.dialect.literal(path)}" for path in scope.targets) or "1 = 0"
            parts.append(f"{alias}.unit_id IN (SELECT u.id FROM {self.dialect.table('unit')} u WHERE {prefixes})")
        if scope.unit_only is not None:
            parts.append(f"{alias}.unit_id = {int(scope.unit_only)}")
        if scope.business_lines:
            parts.append(_in(f"{alias}.business_line", [self.dialect.literal(line) for line in scope.business_lines]))
        if scope.procurator:
            parts.append(f"{alias}.procurator_id = {self.dialect.literal(scope.procurator)}")
        return parts

    def _term_where(self, alias: str, term: Term, flags: dict[tuple[str, Any], str] | None = None) -> list[str]:
        where = _predicate(alias, term.event, EVENT_COLUMNS) + _predicate(alias, term.case, CASE_COLUMNS)
        person_types = {f"p_{key}": value for key, value in PERSON_COLUMNS.items()}
        where += _predicate(alias, tuple((f"p_{column}", values) for column, values in term.person), person_types)
        if term.last_days_of_month:
            where.append(self.dialect.month_last_days(f'{alias}."on"', term.last_days_of_month))
        for relation in term.relations:
            if flags is None:
                raise ValueError("relations need their flag columns")
            where.append(f"{alias}.{flags[(relation.kind, relation.event)]} = {1 if relation.present else 0}")
        return where

    def _mask(self, alias: str, chunk: list[tuple[int, Term]], flags: dict[tuple[str, Any], str] | None) -> str:
        """The chunk's flags of one row as a sum of distinct powers of two.

        Dispatching on the event type first keeps the work per row to that type's terms.
        """
        by_type: dict[str, list[str]] = {}
        for bit, (_index, term) in enumerate(chunk):
            expression = f"CASE WHEN {_and(self._term_where(alias, term, flags))} THEN {1 << bit} ELSE 0 END"
            for event_type in self._event_types(term.event):
                by_type.setdefault(event_type, []).append(expression)
        branches = " ".join(f"WHEN {self.dialect.literal(event_type)} THEN {' + '.join(items)}" for event_type, items in sorted(by_type.items()))
        return f"CASE {alias}.type {branches} ELSE 0 END"

    def _bit_or(self, column: str, bits: int) -> str:
        """Aggregate OR of masks: the sum over bits of MAX(mask & bit), valid on every engine."""
        if self.dialect.name in {"duckdb", "postgresql"}:
            return f"bit_or({column})"
        return "(" + " + ".join(f"MAX({column} & {1 << bit})" for bit in range(bits)) + ")"

    # The plan -------------------------------------------------------------------------

    def _plan(
        self,
        unique: dict[str, Term],
        index: dict[str, int],
        *,
        date_from: datetime.date,
        date_to: datetime.date,
        by: str | None,
        scope: CaseScope,
    ) -> tuple[list[str], list[str], list[list[int]], dict[int, str]]:
        """CTEs, the SELECTs of (unit_id, bucket, part, mask, n), each part's term per bit,
        and per term a SELECT of the ids of its cases."""
        d = self.dialect
        label = f"{date_from.isoformat()}/{date_to.isoformat()}"
        lo, hi = d.date(date_from), d.date(date_to)
        terms = [(index[key], term) for key, term in unique.items()]
        person = Group("person", [(i, t) for i, t in terms if t.source == "event" and t.count == "persons"])
        case = Group("case", [(i, t) for i, t in terms if t.source == "event" and t.count == "cases"])
        event = Group("event", [(i, t) for i, t in terms if t.source == "event" and t.count == "events"])
        case_source = [(i, t) for i, t in terms if t.source == "case" and t.count in {"cases", "sum"}]
        matter_terms = [(i, t) for i, t in terms if t.source == "case" and t.count == "matters"]

        ctes: list[str] = []
        selects: list[str] = []
        parts: list[list[int]] = []
        case_ids: dict[int, str] = {}

        def part_select(source: str, mask: str, where: str = "1 = 1") -> None:
            selects.append(
                f"SELECT unit_id, bucket, {len(parts)} AS part, {mask} AS mask, CAST(COUNT(*) AS BIGINT) AS n "
                f"FROM {source} WHERE {mask} <> 0 AND {where} GROUP BY unit_id, bucket, {mask}"
            )

        # With fact tables the person terms read person_fact; fe serves the other levels.
        event_based = case.terms + event.terms if d.facts else person.terms + case.terms + event.terms
        if event_based:
            types = sorted({value for _i, t in event_based for value in self._event_types(t.event)})
            where = [
                f"e.type IN ({', '.join(d.literal(value) for value in types)})",
                f'e."on" >= {lo}',
                f'e."on" <= {hi}',
                *self._case_scope(scope, "c"),
            ]
            needed_event = {column for _i, t in event_based for column, _v in t.event} | {
                column for _i, t in event_based for relation in t.relations for column, _v in relation.event
            }
            needed_case = {column for _i, t in event_based for column, _v in t.case}
            event_columns = "".join(f", e.{column}" for column in EVENT_COLUMNS if column in needed_event and column != "type")
            case_columns = "".join(f", c.{column}" for column in CASE_COLUMNS if column in needed_case)
            event_bucket = d.bucket('e."on"', by, label)
            if d.facts:
                # The fact table carries the case's columns and the same-case relation flags.
                from jiancha.indicators.facts import relation_column

                flags_needed = sorted({relation_column(r) for _i, t in case.terms for r in t.relations})
                where[3:] = self._case_scope(scope, "e")
                ctes.append(
                    "fe AS MATERIALIZED ("
                    f'SELECT e.unit_id, {event_bucket} AS bucket, e.case_id, e.type, e."on", e.person, e.n_same{event_columns}'
                    f"{case_columns.replace('c.', 'e.')}{''.join(', e.' + flag for flag in flags_needed)} "
                    f"FROM event_fact e WHERE {_and(where)})"
                )
            else:
                ctes.append(
                    "fe AS MATERIALIZED ("
                    f'SELECT c.unit_id, {event_bucket} AS bucket, e.case_id, e.type, e."on", e.person{event_columns}{case_columns}, c.matter_key '
                    f"FROM {d.table('event')} e JOIN {d.table('case')} c ON c.id = e.case_id WHERE {_and(where)})"
                )

        def relation_flags(group: Group, row: str, prefix: str) -> tuple[dict[tuple[str, Any], str], list[str], list[str]]:
            flags: dict[tuple[str, Any], str] = {}
            columns, joins = [], []
            if d.facts:  # precomputed columns of the fact tables
                from jiancha.indicators.facts import relation_column

                for _i, term in group.terms:
                    for relation in term.relations:
                        flags[(relation.kind, relation.event)] = relation_column(relation)
                return flags, columns, joins
            for _i, term in group.terms:
                for relation in term.relations:
                    key = (relation.kind, relation.event)
                    if key not in flags:
                        name = f"{prefix}rel{len(flags)}"
                        flags[key] = f"{prefix}r{len(flags)}"
                        rel_ctes, rel_joins, flag = self._relation_joins(relation, name, row)
                        ctes.extend(rel_ctes)
                        joins.extend(rel_joins)
                        columns.append(f"{flag} AS {flags[key]}")
            return flags, columns, joins

        def types_of(group: Group, row: str) -> str:
            types = sorted({value for _i, t in group.terms for value in self._event_types(t.event)})
            return f"{row}.type IN ({', '.join(d.literal(value) for value in types)})"

        def splittable(group: Group) -> bool:
            """Facts with n_same = 1 are unique per person (case) and type: count them directly."""
            return d.facts and all(len(term.event_types()) == 1 for _i, term in group.terms)

        if person.terms and d.facts:
            where = [
                f"p.type IN ({', '.join(d.literal(value) for value in sorted({v for _i, t in person.terms for v in t.event_types()}))})",
                f'p."on" >= {lo}',
                f'p."on" <= {hi}',
                *self._case_scope(scope, "p"),
            ]
            flags, _columns, _joins = relation_flags(person, "p", "p")
            person_bucket = d.bucket('p."on"', by, label)
            ctes.append(f"fr AS (SELECT p.*, {person_bucket} AS bucket FROM person_fact p WHERE {_and(where)})")
        elif person.terms:
            ctes.append(
                "fx AS ("
                f"SELECT fe.*, fe.person AS key_person FROM fe WHERE fe.person <> '' AND {types_of(person, 'fe')} "
                "UNION ALL "
                f"SELECT fe.*, COALESCE(p.person_id, '') AS key_person FROM fe LEFT JOIN {d.table('person')} p ON p.case_id = fe.case_id "
                f"WHERE fe.person = '' AND {types_of(person, 'fe')})"
            )
            flags, flag_columns, joins = relation_flags(person, "fx", "p")
            if any(t.uses_person_attributes for _i, t in person.terms):
                joins.append(f"LEFT JOIN {d.table('person')} pa ON pa.case_id = fx.case_id AND pa.person_id = fx.key_person")
                flag_columns += ["pa.juvenile AS p_juvenile", "pa.plea_leniency AS p_plea_leniency"]
            ctes.append(f"fr AS (SELECT fx.*{''.join(', ' + column for column in flag_columns)} FROM fx {' '.join(joins)})")
        if person.terms:
            split = splittable(person)
            masks = [f"{self._mask('fr', chunk, flags)} AS m{number}" for number, chunk in enumerate(person.chunks())]
            unique = ", fr.n_same" if split else ""
            ctes.append(f"fm AS MATERIALIZED (SELECT fr.unit_id, fr.bucket, fr.case_id, fr.key_person{unique}, {', '.join(masks)} FROM fr)")
            # A case belongs to one unit: grouping by case (not unit) is enough, and cheaper.
            ors = ", ".join(f"{self._bit_or(f'm{number}', len(chunk))} AS m{number}" for number, chunk in enumerate(person.chunks()))
            grouped = "fm WHERE n_same > 1" if split else "fm"
            ctes.append(f"person_level AS (SELECT MIN(unit_id) AS unit_id, bucket, case_id, key_person, {ors} FROM {grouped} GROUP BY case_id, key_person, bucket)")
            for number, chunk in enumerate(person.chunks()):
                part_select("person_level", f"m{number}")
                if split:
                    part_select("fm", f"m{number}", "n_same = 1")
                parts.append([i for i, _t in chunk])
                for bit, (i, _t) in enumerate(chunk):
                    case_ids[i] = f"SELECT case_id FROM fm WHERE (m{number} & {1 << bit}) <> 0"
        if case.terms:
            flags, flag_columns, joins = relation_flags(case, "fe", "c")
            ctes.append(f"fc AS (SELECT fe.*{''.join(', ' + column for column in flag_columns)} FROM fe {' '.join(joins)} WHERE {types_of(case, 'fe')})")
            split = splittable(case)
            masks = [f"{self._mask('fc', chunk, flags)} AS m{number}" for number, chunk in enumerate(case.chunks())]
            unique = ", fc.n_same" if split else ""
            ctes.append(f"cm AS MATERIALIZED (SELECT fc.unit_id, fc.bucket, fc.case_id{unique}, {', '.join(masks)} FROM fc)")
            ors = ", ".join(f"{self._bit_or(f'm{number}', len(chunk))} AS m{number}" for number, chunk in enumerate(case.chunks()))
            grouped = "cm WHERE n_same > 1" if split else "cm"
            ctes.append(f"case_level AS (SELECT MIN(unit_id) AS unit_id, bucket, case_id, {ors} FROM {grouped} GROUP BY case_id, bucket)")
            for number, chunk in enumerate(case.chunks()):
                part_select("case_level", f"m{number}")
                if split:
                    part_select("cm", f"m{number}", "n_same = 1")
                parts.append([i for i, _t in chunk])
                for bit, (i, _t) in enumerate(chunk):
                    case_ids[i] = f"SELECT case_id FROM cm WHERE (m{number} & {1 << bit}) <> 0"
        if event.terms:
            masks = [f"{self._mask('fe', chunk, None)} AS m{number}" for number, chunk in enumerate(event.chunks())]
            ctes.append(f"em AS (SELECT fe.unit_id, fe.bucket, fe.case_id, {', '.join(masks)} FROM fe WHERE {types_of(event, 'fe')})")
            for number, chunk in enumerate(event.chunks()):
                part_select("em", f"m{number}")
                parts.append([i for i, _t in chunk])
                for bit, (i, _t) in enumerate(chunk):
                    case_ids[i] = f"SELECT case_id FROM em WHERE (m{number} & {1 << bit}) <> 0"
        for i, term in case_source:
            where_all = [f"c.{term.date} >= {lo}", f"c.{term.date} <= {hi}", *self._case_scope(scope, "c"), *_predicate("c", term.case, CASE_COLUMNS)]
            value = d.duration_days("c.received_on", "c.closed_on") if term.count == "sum" else "1"
            bucket = d.bucket("c." + term.date, by, label)
            group_by = "" if by is None else f", {bucket}"  # PostgreSQL refuses a constant in GROUP BY
            selects.append(
                f"SELECT c.unit_id, {bucket} AS bucket, {len(parts)} AS part, 1 AS mask, CAST(SUM({value}) AS BIGINT) AS n "
                f"FROM {d.table('case')} c WHERE {_and(where_all)} GROUP BY c.unit_id{group_by}"
            )
            parts.append([i])
            case_ids[i] = f"SELECT c.id AS case_id FROM {d.table('case')} c WHERE {_and(where_all)}"
        if matter_terms and d.facts and not scope.business_lines and not scope.procurator:
            # The fact tables flag, per matter condition, the first record of each matter in
            # its unit (count_*: exactly one; first_*: every record received that first day).
            from jiancha.indicators.facts import matter_columns

            for i, term in matter_terms:
                count_column, first_column = matter_columns(term.case)
                where_all = [f"c.received_on >= {lo}", f"c.received_on <= {hi}", *self._case_scope(scope, "c")]
                bucket = d.bucket("c.received_on", by, label)
                group_by = "" if by is None else f", {bucket}"
                selects.append(
                    f"SELECT c.unit_id, {bucket} AS bucket, {len(parts)} AS part, 1 AS mask, CAST(COUNT(*) AS BIGINT) AS n "
                    f"FROM {d.table('case')} c WHERE {_and(where_all)} AND c.{count_column} GROUP BY c.unit_id{group_by}"
                )
                parts.append([i])
                case_ids[i] = f"SELECT c.id AS case_id FROM {d.table('case')} c WHERE {_and(where_all)} AND c.{first_column}"
        elif matter_terms:
            firsts = []
            for i, term in matter_terms:
                firsts.append(f"MIN(CASE WHEN {_and(_predicate('c', term.case, CASE_COLUMNS))} THEN c.received_on END) AS f{i}")
            where = [f"c.received_on <= {hi}", *self._case_scope(scope, "c")]
            recent = [f"r.received_on >= {lo}", f"r.received_on <= {hi}", *self._case_scope(scope, "r")]
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
                selects.append(
                    f"SELECT unit_id, {bucket} AS bucket, {len(parts)} AS part, 1 AS mask, CAST(COUNT(*) AS BIGINT) AS n "
                    f"FROM matters WHERE f{i} >= {lo} AND f{i} <= {hi} GROUP BY unit_id{group_by}"
                )
                parts.append([i])
                case_ids[i] = (
                    f"SELECT c.id AS case_id FROM {d.table('case')} c JOIN matters m ON m.unit_id = c.unit_id AND m.matter_key = c.matter_key "
                    f"AND c.received_on = m.f{i} WHERE m.f{i} >= {lo} AND m.f{i} <= {hi} AND {_and(_predicate('c', term.case, CASE_COLUMNS))}"
                )
        return ctes, selects, parts, case_ids

    def compile(
        self,
        terms: Sequence[Term],
        *,
        date_from: datetime.date,
        date_to: datetime.date,
        by: str | None,
        scope: CaseScope,
    ) -> Compiled:
        """One statement giving, per unit with cases and period, the facts of every term.

        Subtrees are summed afterwards (:func:`jiancha.indicators.rollup.rollup`): every
        fact belongs to exactly one unit, so a unit's subtree is the sum of its units.
        """
        unique: dict[str, Term] = {}
        for term in terms:
            unique.setdefault(term_key(term), term)
        keys = list(unique)
        index = {key: position for position, key in enumerate(keys)}
        ctes, selects, parts, _case_ids = self._plan(unique, index, date_from=date_from, date_to=date_to, by=by, scope=scope)
        if not selects:
            raise ValueError("nothing to compute")
        sql = ("WITH " + ", ".join(ctes) + " " if ctes else "") + " UNION ALL ".join(selects)
        return Compiled(sql=sql, params=[], columns=keys, term_index=index, parts=parts)

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
        ctes, _selects, _parts, case_ids = self._plan(unique, index, date_from=date_from, date_to=date_to, by=None, scope=scope)
        union = " UNION ".join(case_ids[i] for i in sorted(case_ids))
        with_clause = f"WITH {', '.join(ctes)} " if ctes else ""
        sql = f"{with_clause}SELECT case_id FROM ({union}) ids ORDER BY case_id LIMIT {int(limit) + 1}"
        return Compiled(sql=sql, params=[], columns=list(unique), term_index=index)


def decode(unit_ids: Any, buckets: Sequence[str], part: Any, mask: Any, n: Any, parts: Sequence[Sequence[int]], terms: int) -> Any:
    """Turn the statement's long rows into a Leaf: one count per (unit, bucket) and term."""
    import numpy as np

    from jiancha.indicators.rollup import Leaf

    unit_ids = np.asarray(unit_ids, dtype=np.int64)
    if len(unit_ids) == 0:
        return Leaf(np.zeros(0, dtype=np.int64), [], np.zeros((0, terms), dtype=np.int64))
    labels, bucket_codes = np.unique(np.asarray(buckets, dtype=object), return_inverse=True)
    keys = unit_ids * len(labels) + bucket_codes
    unique_keys, rows = np.unique(keys, return_inverse=True)
    part = np.asarray(part, dtype=np.int64)
    mask = np.asarray(mask, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    counts = np.zeros((len(unique_keys), terms), dtype=np.int64)
    for number, members in enumerate(parts):
        selected = part == number
        if not selected.any():
            continue
        part_rows, part_mask, part_n = rows[selected], mask[selected], n[selected]
        for bit, term in enumerate(members):
            hit = (part_mask >> bit) & 1 == 1
            counts[:, term] += np.bincount(part_rows[hit], weights=part_n[hit], minlength=len(unique_keys)).astype(np.int64)
    return Leaf((unique_keys // len(labels)).astype(np.int64), [str(labels[code]) for code in unique_keys % len(labels)], counts)


def indicator_terms(indicators: Sequence[Indicator]) -> list[Term]:
    terms: list[Term] = []
    for indicator in indicators:
        terms.extend(indicator.numerator.terms)
        terms.extend(indicator.denominator.terms)
    return terms
