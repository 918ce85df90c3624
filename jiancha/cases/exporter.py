"""Exporting cases in the exchange format (docs/exchange-format.md), one JSON line per case.

The export is what the importer reads: importing an export gives back the same cases,
persons and events. Defaults are written out (``false`` for the booleans, ``null`` for
an open case's ``closed_on``, empty lists); ``matter_id``, ``facts`` and a person's
``name`` are left out when empty, as an exporting business system would. Fields the
importer kept in ``Case.extra``, ``Person.extra`` and ``Event.details`` come back as they
were.

Cases are read in chunks by ascending id (keyset pagination), with one query per chunk
for the persons and one for the events, so memory stays flat whatever the size. The cases
come from ``Case.objects.visible_to(user)`` (the one access path, ADR 0002); without a
user the export runs as the system operator and covers the whole tree.
"""

from collections.abc import Iterator
from typing import Any

import orjson
from django.db import connection

from jiancha.accounts.models import Unit
from jiancha.cases.models import Case
from jiancha.core.audit import audit_record

CHUNK_SIZE = 2000


class UnknownUnit(LookupError):  # noqa: N818 (reads as the condition it reports)
    """The org code names no unit."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def export_cases(
    *, user: Any = None, unit_code: str | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The cases ``user`` may see (all without a user), as exchange lines (with ``\\n``).

    ``unit_code`` restricts the export to that unit's subtree; a unit outside the user's
    scope gives no cases. Raises :class:`UnknownUnit` at once (before the first line) for
    an org code that names no unit. The export is written to the audit log when it starts.
    """
    queryset = Case.objects.all() if user is None else Case.objects.visible_to(user)
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise UnknownUnit(unit_code)
        if unit.parent_id is not None:
            queryset = queryset.filter(unit__path__startswith=unit.path)
    audit_record(
        actor=user,
        verb="cases.export",
        target_type="cases.case",
        target_id=unit_code or "",
        details={"unit": unit_code or "", "format": "jsonl"},
    )
    return _lines(queryset, chunk_size)


CASE_FIELDS = (
    "id",
    "unit_id",
    "case_id",
    "matter_id",
    "business_line",
    "procedure",
    "procurator_id",
    "received_on",
    "closed_on",
    "detained",
    "fast_track",
    "complex",
    "facts",
    "extra",
)


def case_records(
    queryset: Any, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict[str, Any]]:
    """The cases of ``queryset`` as exchange records (dicts), in id order, for code that
    changes cases by importing them again (no access check and no audit entry: the caller
    is a command or a service that has done both)."""
    for line in _lines(queryset, chunk_size):
        yield orjson.loads(line)


def _lines(queryset: Any, chunk_size: int) -> Iterator[bytes]:
    codes = dict(Unit.objects.values_list("id", "code"))
    last_id = 0
    while True:
        # Raw values (no model instances, JSON decoded by orjson) keep the export fast.
        sql, params = (
            queryset.filter(id__gt=last_id)
            .order_by("id")
            .values_list(*CASE_FIELDS)[:chunk_size]
            .query.sql_with_params()
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cases = cursor.fetchall()
        if not cases:
            return
        ids = [row[0] for row in cases]
        persons = _children(
            "SELECT case_id, person_id, name, juvenile, charges, articles, plea_leniency, extra "
            "FROM cases_person WHERE case_id IN ({}) ORDER BY case_id, position",
            ids,
        )
        events = _children(
            'SELECT case_id, type, "on", person, details '
            "FROM cases_event WHERE case_id IN ({}) ORDER BY case_id, position",
            ids,
        )
        dumps = orjson.dumps
        for row in cases:
            yield dumps(
                _record(row, codes, persons.get(row[0], ()), events.get(row[0], ())),
                option=orjson.OPT_APPEND_NEWLINE,
            )
        last_id = ids[-1]


def _children(sql: str, ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    """Rows of a child table for the given cases, grouped by case id, in position order."""
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql.format(", ".join(["%s"] * len(ids))), ids)
        for row in cursor.fetchall():
            grouped.setdefault(row[0], []).append(row)
    return grouped


def _json(value: Any) -> Any:
    """A JSON column's value: text from the database, decoded (already decoded on some)."""
    if isinstance(value, (str, bytes)):
        return orjson.loads(value)
    return value


def _date(value: Any) -> Any:
    """A date column's value as YYYY-MM-DD (SQLite may hand back text)."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def _record(
    row: tuple[Any, ...],
    codes: dict[int, str],
    persons: Any,
    events: Any,
) -> dict[str, Any]:
    (
        _pk,
        unit_id,
        case_id,
        matter_id,
        business_line,
        procedure,
        procurator_id,
        received_on,
        closed_on,
        detained,
        fast_track,
        complex_,
        facts,
        extra,
    ) = row
    record: dict[str, Any] = {"case_id": case_id, "unit_code": codes[unit_id]}
    if matter_id:
        record["matter_id"] = matter_id
    record["business_line"] = business_line
    record["procedure"] = procedure
    record["procurator_id"] = procurator_id
    record["received_on"] = _date(received_on)
    record["closed_on"] = _date(closed_on)
    record["detained"] = bool(detained)
    record["fast_track"] = bool(fast_track)
    record["complex"] = bool(complex_)
    record["persons"] = [_person(person) for person in persons]
    record["events"] = [_event(event) for event in events]
    if facts:
        record["facts"] = facts
    for key, value in (_json(extra) or {}).items():
        record.setdefault(key, value)
    return record


def _person(row: tuple[Any, ...]) -> dict[str, Any]:
    _case_id, person_id, name, juvenile, charges, articles, plea_leniency, extra = row
    person: dict[str, Any] = {"person_id": person_id}
    if name:
        person["name"] = name
    person["juvenile"] = bool(juvenile)
    person["charges"] = _json(charges) or []
    person["articles"] = _json(articles) or []
    person["plea_leniency"] = bool(plea_leniency)
    for key, value in (_json(extra) or {}).items():
        person.setdefault(key, value)
    return person


def _event(row: tuple[Any, ...]) -> dict[str, Any]:
    _case_id, kind, on, person_id, details = row
    event: dict[str, Any] = {"type": kind, "on": _date(on)}
    if person_id:
        event["person"] = person_id
    for key, value in (_json(details) or {}).items():
        event.setdefault(key, value)
    return event
