"""Indicator fact tables: a denormalised copy of a snapshot, built once per snapshot.

Like DHIS2's analytics tables, the joins every indicator needs are done once, when the
snapshot changes, not on every query. Next to the snapshot file
(``analytics.duckdb``) this module writes ``analytics.indicators-<hash>.duckdb`` with:

* ``unit`` and ``"case"``: copies of the snapshot's tables;
* ``event_fact``: every event with its case's columns and, per same-case relation of the
  definitions, a 0/1 flag; ``n_same`` counts the case's events of the same type;
* ``person_fact``: every event of a person-counted type once per person it concerns (an
  event without a person concerns every person of its case), with the person's
  attributes, a 0/1 flag per person relation (same person; same matter, on or before) and
  ``n_same``, the person's events of the same type in the case.

Both fact tables are sorted by date, so a period reads only its part of them. ``n_same = 1``
marks a fact that cannot be counted twice for the same person (or case): those are counted
without grouping by person, which is what makes all indicators for all units fast.

The file name carries the snapshot's data hash and the definitions' fingerprint: a new
snapshot or new definitions give a new file; old ones are removed.
"""

import fcntl
import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from jiancha.analytics.snapshot import snapshot_info
from jiancha.indicators.definitions import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    Relation,
    Term,
    definition_sets,
)

PERSON_TYPES_EXTRA: tuple[str, ...] = ()


def matter_columns(condition: Any) -> tuple[str, str]:
    """Column names of the two first-record flags of a matter condition."""
    digest = hashlib.sha256(repr(condition).encode()).hexdigest()[:10]
    return f"count_{digest}", f"first_{digest}"


def relation_column(relation: Relation) -> str:
    """A stable column name for a relation (its kind and event condition)."""
    digest = hashlib.sha256(repr((relation.kind, relation.event)).encode()).hexdigest()[:10]
    return f"rel_{digest}"


def all_terms() -> list[Term]:
    """Every term of every definition set and of the signals."""
    from jiancha.indicators.gaming import MEASURES, signal_measure

    terms: list[Term] = []
    for definitions in definition_sets().values():
        for indicator in definitions.indicators:
            terms.extend(indicator.numerator.terms)
            terms.extend(indicator.denominator.terms)
    for name in MEASURES:
        terms.extend(signal_measure(name).terms)
    return terms


@dataclass(frozen=True)
class FactsPlan:
    person_types: tuple[str, ...]
    person_relations: tuple[Relation, ...]
    case_relations: tuple[Relation, ...]
    matter_conditions: tuple[Any, ...]
    fingerprint: str


def facts_plan(terms: Iterable[Term] | None = None) -> FactsPlan:
    terms = list(terms if terms is not None else all_terms())
    person_types: set[str] = set(PERSON_TYPES_EXTRA)
    person_relations: dict[str, Relation] = {}
    case_relations: dict[str, Relation] = {}
    matter_conditions: dict[str, Any] = {}
    for term in terms:
        if term.source == "case" and term.count == "matters":
            matter_conditions.setdefault(matter_columns(term.case)[0], term.case)
        if term.source != "event":
            continue
        if term.count == "persons":
            person_types.update(term.event_types())
            for relation in term.relations:
                person_relations.setdefault(relation_column(relation), relation)
        else:
            for relation in term.relations:
                case_relations.setdefault(relation_column(relation), relation)
    plan_repr = repr((sorted(person_types), sorted(person_relations), sorted(case_relations), sorted(matter_conditions), 3))
    return FactsPlan(
        tuple(sorted(person_types)),
        tuple(person_relations[key] for key in sorted(person_relations)),
        tuple(case_relations[key] for key in sorted(case_relations)),
        tuple(matter_conditions[key] for key in sorted(matter_conditions)),
        hashlib.sha256(plan_repr.encode()).hexdigest()[:12],
    )


def _relation_sql(relation: Relation, row: str, name: str) -> tuple[list[str], list[str], str]:
    from jiancha.indicators.compiler import DuckDBDialect, QueryBuilder

    builder = QueryBuilder(DuckDBDialect())
    ctes, joins, flag = builder._relation_joins(relation, name, row)
    return [cte.replace(" event x", " s.event x").replace(' "case" cx', ' s."case" cx') for cte in ctes], joins, flag


def build_facts(snapshot: Path, target: Path, plan: FactsPlan) -> float:
    """Write the fact tables of ``snapshot`` to ``target`` (atomically); returns seconds."""
    started = time.perf_counter()
    temporary = target.with_name(target.name + f".{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary))
    try:
        con.execute(f"ATTACH '{snapshot}' AS s (READ_ONLY)")
        con.execute("SET preserve_insertion_order = true")
        con.execute("CREATE TABLE unit AS SELECT id, code, parent_id, path FROM s.unit")
        from jiancha.indicators.compiler import _and, _predicate

        matter_flags = []
        for condition in plan.matter_conditions:
            count_column, first_column = matter_columns(condition)
            holds = _and(_predicate("c", condition, CASE_COLUMNS))
            window = f"PARTITION BY c.unit_id, c.matter_key, ({holds})"
            matter_flags.append(f"COALESCE({holds} AND row_number() OVER ({window} ORDER BY c.received_on, c.id) = 1, false) AS {count_column}")
            matter_flags.append(f"COALESCE({holds} AND c.received_on = min(c.received_on) OVER ({window}), false) AS {first_column}")
        con.execute(
            'CREATE TABLE "case" AS SELECT c.id, c.unit_id, c.matter_key, c.business_line, c.procedure, c.procurator_id, '
            f'c.received_on, c.closed_on, c.detained, c.fast_track, c.complex{"".join(", " + flag for flag in matter_flags)} '
            'FROM s."case" c ORDER BY c.received_on'
        )
        event_columns = "".join(f", e.{column}" for column in EVENT_COLUMNS if column != "type")
        case_columns = "".join(f", c.{column}" for column in CASE_COLUMNS) + ", c.procurator_id, c.matter_key"
        # Events with their case, and the same-case relation flags.
        ctes, joins, flags = [], [], []
        for number, relation in enumerate(plan.case_relations):
            rel_ctes, rel_joins, flag = _relation_sql(relation, "e", f"crel{number}")
            ctes += rel_ctes
            joins += rel_joins
            flags.append(f"{flag} AS {relation_column(relation)}")
        with_clause = ("WITH " + ", ".join(ctes) + " ") if ctes else ""
        con.execute(
            f"CREATE TABLE event_fact AS {with_clause}"
            f'SELECT c.unit_id, e.case_id, e.position, e.type, e."on", e.person{event_columns}{case_columns}'
            f"{''.join(', ' + flag for flag in flags)}, "
            "count(*) OVER (PARTITION BY e.case_id, e.type) AS n_same "
            f'FROM s.event e JOIN s."case" c ON c.id = e.case_id {" ".join(joins)} ORDER BY e.type, e."on"'
        )
        # Person facts: expand events without a person, add attributes and person relations.
        types = ", ".join("'" + value + "'" for value in plan.person_types) or "''"
        ctes, joins, flags = [], [], []
        for number, relation in enumerate(plan.person_relations):
            rel_ctes, rel_joins, flag = _relation_sql(relation, "x", f"prel{number}")
            ctes += rel_ctes
            joins += rel_joins
            flags.append(f"{flag} AS {relation_column(relation)}")
        expanded = (
            f'x AS (SELECT e.*, e.person AS key_person FROM event_fact e WHERE e.person <> \'\' AND e.type IN ({types}) '
            "UNION ALL "
            f"SELECT e.*, COALESCE(p.person_id, '') AS key_person FROM event_fact e LEFT JOIN s.person p ON p.case_id = e.case_id "
            f"WHERE e.person = '' AND e.type IN ({types}))"
        )
        con.execute(
            f"CREATE TABLE person_fact AS WITH {', '.join([expanded, *ctes])} "
            f'SELECT x.* EXCLUDE (n_same{"".join(", " + relation_column(r) for r in plan.case_relations)}), '
            "pa.juvenile AS p_juvenile, pa.plea_leniency AS p_plea_leniency"
            f"{''.join(', ' + flag for flag in flags)}, "
            "count(*) OVER (PARTITION BY x.case_id, x.key_person, x.type) AS n_same "
            f"FROM x LEFT JOIN s.person pa ON pa.case_id = x.case_id AND pa.person_id = x.key_person {' '.join(joins)} "
            'ORDER BY x."on"'
        )
        con.execute("CREATE TABLE facts_info AS SELECT * FROM s.snapshot_info")
        con.execute("DETACH s")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        temporary.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(temporary, target)
    return time.perf_counter() - started


def facts_path(snapshot: Path, data_hash: str, plan: FactsPlan) -> Path:
    digest = hashlib.sha256(data_hash.encode()).hexdigest()[:16]  # the whole hash, not a prefix
    return snapshot.with_name(f"{snapshot.stem}.indicators-{digest}-{plan.fingerprint}.duckdb")


def ensure_facts(snapshot: Path, data_hash: str | None = None, plan: FactsPlan | None = None) -> tuple[Path, float]:
    """The fact tables of ``snapshot``, built first if needed (one builder at a time)."""
    plan = plan or facts_plan()
    if data_hash is None:
        con = duckdb.connect(str(snapshot), read_only=True)
        try:
            data_hash = str(snapshot_info(con)["data_hash"])
        finally:
            con.close()
    target = facts_path(snapshot, data_hash, plan)
    if target.exists():
        return target, 0.0
    lock_path = snapshot.with_name(snapshot.name + ".indicators.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target, 0.0
        seconds = build_facts(snapshot, target, plan)
        for old in snapshot.parent.glob(f"{snapshot.stem}.indicators-*.duckdb"):
            if old != target:
                old.unlink(missing_ok=True)
    return target, seconds


def facts_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute("SELECT built_at, vendor, cases, persons, events, data_hash FROM facts_info").fetchone()
    return dict(zip(["built_at", "vendor", "cases", "persons", "events", "data_hash"], row, strict=True))
