"""Small ORM helpers for the API tests (the shared per-model factories live in factories.py)."""

import datetime
import itertools
from typing import Any

from django.utils import timezone

from jiancha.accounts.models import Unit, User
from jiancha.cases.models import Case, CaseCharge, CaseGrant, Event, Person

_numbers = itertools.count(1)


def case_fields(unit_code: str = "330106", **fields: Any) -> dict[str, Any]:
    now = timezone.now()
    number = next(_numbers)
    values: dict[str, Any] = {
        "unit": fields.pop("unit", None) or Unit.objects.get(code=unit_code),
        "case_id": f"API-{number:06d}",
        "business_line": "ordinary_crime",
        "procedure": "prosecution_review",
        "procurator_id": "P001",
        "received_on": datetime.date(2024, 3, 1),
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return values


def make_case(
    unit_code: str = "330106", *, charges: list[str] | None = None, **fields: Any
) -> Case:
    case = Case.objects.create(**case_fields(unit_code, **fields))
    for charge in charges or []:
        CaseCharge.objects.create(case=case, charge=charge)
    if charges and not fields.get("primary_charge"):
        case.primary_charge = charges[0]
        case.save(update_fields=["primary_charge"])
    return case


def make_cases(count: int, unit_code: str = "330106", **fields: Any) -> list[Case]:
    unit = Unit.objects.get(code=unit_code)
    return Case.objects.bulk_create(
        [Case(**case_fields(unit=unit, **fields)) for _ in range(count)]
    )


def add_person(case: Case, person_id: str = "A", **fields: Any) -> Person:
    fields.setdefault("position", case.persons.count())
    return Person.objects.create(case=case, person_id=person_id, **fields)


def add_event(
    case: Case, type: str, on: datetime.date, *, person: str = "", **details: Any
) -> Event:
    return Event.objects.create(
        case=case,
        type=type,
        on=on,
        person=person,
        details=details,
        position=case.events.count(),
    )


def assign_supervisor(case: Case, supervisor: User) -> CaseGrant:
    return CaseGrant.objects.create(case=case, user=supervisor)
