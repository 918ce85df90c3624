"""Indicator definitions as versioned data (``data/definitions.json``).

An indicator is *numerator / denominator*; each side is a **measure**, a filter over the
facts of the case exchange format (cases, persons, events) plus what to count. The grammar
of a measure (JSON)::

    {"count": "persons" | "cases" | "events" | "matters" | "sum",
     "source": "event" (default) | "case",
     "event":  {column: value | [values]},      # event columns: type, decision, kind, ...
     "case":   {column: value | [values]},      # case columns: business_line, procedure, ...
     "person": {"juvenile": true, "plea_leniency": true},
     "same_person": [{"event": {...}, "present": bool}],       # any date, same case + person
     "same_case":   [{"event": {...}, "present": bool}],       # any date, same case
     "earlier_in_matter": [{"event": {...}, "present": bool}], # same matter + person, on or before
     "date": "on" | "received_on" | "closed_on",              # what puts a fact in a period
     "value": "duration_days",                                 # for count = sum
     "last_days_of_month": 3}                                  # events in a month's last days

or ``{"terms": [measure, ...]}``, the sum of several measures (案-件比's 件, the 2023-style
combined indicators). A value ``"@case_proceeding_extra_events"`` stands for the
configurable list of extra procedural events of 案-件比 (setting
``INDICATORS_CASE_PROCEEDING_EVENTS`` overrides the packaged default).

Counting units (docs/apps/indicators.md): a *person* is (case, person_id): the SPP counts
persons per procedural decision, and a matter's arrest review and prosecution review are
separate decisions. An event whose ``person`` is empty concerns the whole case and counts
every person of the case. A *matter* (案) is counted per handling unit, in the period its
first record in that unit was received, so that a unit's subtree is the sum of its units.
"""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

DEFINITIONS_FILE = Path(__file__).resolve().parent / "data" / "definitions.json"
DEFAULT_SET = "current"
EXTRA_EVENTS_TOKEN = "@case_proceeding_extra_events"

COUNTS = frozenset({"persons", "cases", "events", "matters", "sum"})
SOURCES = frozenset({"event", "case"})
FORMATS = frozenset({"rate", "ratio", "days"})
DIRECTIONS = frozenset({"higher", "lower", "context", "band"})
EVENT_COLUMNS = {
    "type": "text",
    "decision": "text",
    "reason": "text",
    "kind": "text",
    "verdict": "text",
    "instance": "int",
    "recommendation_adopted": "bool",
    "changed": "bool",
    "adopted": "bool",
    "supported": "bool",
}
CASE_COLUMNS = {
    "business_line": "text",
    "procedure": "text",
    "detained": "bool",
    "fast_track": "bool",
    "complex": "bool",
}
PERSON_COLUMNS = {"juvenile": "bool", "plea_leniency": "bool"}
CASE_DATES = frozenset({"received_on", "closed_on"})
RELATIONS = ("same_person", "same_case", "earlier_in_matter")
_WORD = re.compile(r"^[a-z0-9_]+$")


class DefinitionError(ValueError):
    """A definition does not follow the measure grammar."""


Condition = tuple[tuple[str, tuple[Any, ...]], ...]  # ((column, allowed values), ...)


@dataclass(frozen=True)
class Relation:
    """Another event that must (or must not) exist for the same person, case or matter."""

    kind: str  # one of RELATIONS
    event: Condition
    present: bool


@dataclass(frozen=True)
class Term:
    """One countable part of a measure."""

    count: str
    source: str = "event"
    event: Condition = ()
    case: Condition = ()
    person: Condition = ()
    relations: tuple[Relation, ...] = ()
    date: str = "on"
    value: str = ""
    last_days_of_month: int = 0  # only events dated in the last N days of their month

    @property
    def uses_person_attributes(self) -> bool:
        return bool(self.person)

    def event_types(self) -> tuple[str, ...]:
        for column, values in self.event:
            if column == "type":
                return tuple(str(value) for value in values)
        return ()


@dataclass(frozen=True)
class Measure:
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Indicator:
    """One indicator of one definition set; ``version`` names what produced a value."""

    id: str
    set_name: str
    revision: int
    name_zh: str
    name_en: str
    counting_unit: str
    format: str
    direction: str
    business_lines: tuple[str, ...]
    min_denominator: int
    numerator: Measure
    denominator: Measure
    explanation_en: str
    explanation_zh: str
    group: str = ""
    published: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    fingerprint: str = ""

    @property
    def version(self) -> str:
        return f"{self.set_name}.{self.revision}"

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def explanation(self) -> str:
        return self.explanation_zh if (get_language() or "").startswith("zh") else self.explanation_en


@dataclass(frozen=True)
class DefinitionSet:
    name: str
    name_zh: str
    name_en: str
    effective_from: str
    effective_to: str | None
    official_count: int | None
    note: str
    indicators: tuple[Indicator, ...]
    fingerprint: str

    @property
    def label(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    def get(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(indicator_id)

    def ids(self) -> list[str]:
        return [indicator.id for indicator in self.indicators]


# Parsing ---------------------------------------------------------------------------------


def _values(raw: Any, extra_events: tuple[str, ...]) -> tuple[Any, ...]:
    items = raw if isinstance(raw, list) else [raw]
    values: list[Any] = []
    for item in items:
        if item == EXTRA_EVENTS_TOKEN:
            values.extend(extra_events)
        elif isinstance(item, bool | int) or item is None:
            values.append(item)
        elif isinstance(item, str) and _WORD.match(item):
            values.append(item)
        else:
            raise DefinitionError(f"value {item!r} is not a plain identifier, number or boolean")
    return tuple(values)


def _condition(raw: Any, columns: dict[str, str], extra_events: tuple[str, ...], where: str) -> Condition:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: expected an object")
    parts = []
    for column, value in sorted(raw.items()):
        if column not in columns:
            raise DefinitionError(f"{where}: unknown column {column!r}")
        parts.append((column, _values(value, extra_events)))
    return tuple(parts)


def parse_measure(raw: Any, extra_events: tuple[str, ...], where: str = "measure") -> Measure:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: expected an object")
    if "terms" in raw:
        terms = [parse_measure(item, extra_events, where).terms[0] for item in raw["terms"]]
        if not terms:
            raise DefinitionError(f"{where}: empty terms")
        return Measure(tuple(terms))
    count = raw.get("count")
    source = raw.get("source", "event")
    if count not in COUNTS:
        raise DefinitionError(f"{where}: count must be one of {sorted(COUNTS)}")
    if source not in SOURCES:
        raise DefinitionError(f"{where}: source must be one of {sorted(SOURCES)}")
    date = raw.get("date", "on" if source == "event" else "received_on")
    if source == "event":
        if date != "on" or count in {"matters", "sum"}:
            raise DefinitionError(f"{where}: an event measure counts persons, cases or events by event date")
        if not any(column == "type" for column, _values in _condition(raw.get("event"), EVENT_COLUMNS, extra_events, where)):
            raise DefinitionError(f"{where}: an event measure must name the event type")
    else:
        if date not in CASE_DATES or count not in {"cases", "matters", "sum"} or raw.get("event") or raw.get("person"):
            raise DefinitionError(f"{where}: a case measure counts cases, matters or a sum by received_on or closed_on")
    value = raw.get("value", "")
    if (count == "sum") != (value == "duration_days"):
        raise DefinitionError(f"{where}: count 'sum' needs value 'duration_days' (and only it)")
    relations = []
    for kind in RELATIONS:
        for item in raw.get(kind, []):
            event = _condition(item.get("event"), EVENT_COLUMNS, extra_events, where)
            relations.append(Relation(kind=kind, event=event, present=bool(item.get("present", True))))
    if relations and source != "event":
        raise DefinitionError(f"{where}: relations apply to event measures only")
    if count not in {"persons"} and any(relation.kind != "same_case" for relation in relations):
        raise DefinitionError(f"{where}: person relations need count 'persons'")
    term = Term(
        count=count,
        source=source,
        event=_condition(raw.get("event"), EVENT_COLUMNS, extra_events, where),
        case=_condition(raw.get("case"), CASE_COLUMNS, extra_events, where),
        person=_condition(raw.get("person"), PERSON_COLUMNS, extra_events, where),
        relations=tuple(relations),
        date=date,
        value=value,
        last_days_of_month=int(raw.get("last_days_of_month", 0)),
    )
    if term.last_days_of_month and source != "event":
        raise DefinitionError(f"{where}: last_days_of_month applies to event measures only")
    if term.person and count != "persons":
        raise DefinitionError(f"{where}: person attributes need count 'persons'")
    return Measure((term,))


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def extra_events(document: dict[str, Any]) -> tuple[str, ...]:
    configured = getattr(settings, "INDICATORS_CASE_PROCEEDING_EVENTS", None)
    events = configured if configured is not None else document["case_proceeding_extra_events"]
    return tuple(str(event) for event in events)


def parse_document(document: dict[str, Any]) -> dict[str, DefinitionSet]:
    """All definition sets of a definitions document, validated."""
    extra = extra_events(document)
    sets: dict[str, list[Indicator]] = {name: [] for name in document["sets"]}
    seen: set[str] = set()
    for raw in document["indicators"]:
        ident = raw["id"]
        if ident in seen or not _WORD.match(ident):
            raise DefinitionError(f"indicator id {ident!r} is duplicated or not an identifier")
        seen.add(ident)
        if raw["format"] not in FORMATS or raw["direction"] not in DIRECTIONS:
            raise DefinitionError(f"{ident}: unknown format or direction")
        overrides = raw.get("overrides", {})
        for set_name in raw["sets"]:
            if set_name not in sets:
                raise DefinitionError(f"{ident}: unknown set {set_name!r}")
            data = {**raw, **overrides.get(set_name, {})}
            fingerprint = _fingerprint({key: data[key] for key in ("numerator", "denominator", "revision", "format")} | {"extra": extra})
            sets[set_name].append(
                Indicator(
                    id=ident,
                    set_name=set_name,
                    revision=int(data.get("revision", 1)),
                    name_zh=data["name_zh"],
                    name_en=data["name_en"],
                    counting_unit=data["counting_unit"],
                    format=data["format"],
                    direction=data["direction"],
                    business_lines=tuple(data.get("business_lines", [])),
                    min_denominator=int(data.get("min_denominator", 20)),
                    numerator=parse_measure(data["numerator"], extra, f"{ident}.numerator"),
                    denominator=parse_measure(data["denominator"], extra, f"{ident}.denominator"),
                    explanation_en=data["explanation_en"],
                    explanation_zh=data["explanation_zh"],
                    group=data.get("group", ""),
                    published=dict(data.get("published") or {}),
                    fingerprint=fingerprint,
                )
            )
    result = {}
    for name, meta in document["sets"].items():
        indicators = tuple(sets[name])
        result[name] = DefinitionSet(
            name=name,
            name_zh=meta["name_zh"],
            name_en=meta["name_en"],
            effective_from=meta["effective_from"],
            effective_to=meta.get("effective_to"),
            official_count=meta.get("official_count"),
            note=meta.get("note", ""),
            indicators=indicators,
            fingerprint=_fingerprint([indicator.fingerprint for indicator in indicators]),
        )
    return result


@cache
def _load(extra: tuple[str, ...] | None) -> dict[str, DefinitionSet]:
    document = json.loads(DEFINITIONS_FILE.read_text(encoding="utf-8"))
    return parse_document(document)


def definition_sets() -> dict[str, DefinitionSet]:
    configured = getattr(settings, "INDICATORS_CASE_PROCEEDING_EVENTS", None)
    return _load(tuple(configured) if configured is not None else None)


def definition_set(name: str = DEFAULT_SET) -> DefinitionSet:
    sets = definition_sets()
    if name not in sets:
        raise KeyError(name)
    return sets[name]


def select_indicators(definitions: DefinitionSet, ids: Iterable[str] | None = None) -> list[Indicator]:
    if not ids:
        return list(definitions.indicators)
    wanted = list(ids)
    return [definitions.get(ident) for ident in wanted]
