"""Factories for the case registry: one per model (STYLE.md §10).

Units come from the procuratorate tree loaded by the accounts migration, so a factory
takes an org code (``unit_code``) rather than creating units.
"""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from jiancha.accounts.choices import BusinessLine
from jiancha.accounts.models import Unit
from jiancha.cases.choices import EventType, Procedure
from jiancha.cases.models import Case, CaseCharge, CaseGrant, Event, Person
from jiancha.core.testing import BASIC


class CaseFactory(DjangoModelFactory):
    """A prosecution review received at a basic unit; its primary charge gets a CaseCharge row."""

    class Meta:
        model = Case
        skip_postgeneration_save = True

    class Params:
        unit_code = BASIC

    unit = factory.LazyAttribute(lambda case: Unit.objects.get(code=case.unit_code))
    case_id = factory.Sequence(lambda n: f"杭西检刑诉受〔2024〕{n + 1:05d}号")
    business_line = BusinessLine.ORDINARY_CRIME
    procedure = Procedure.PROSECUTION_REVIEW
    procurator_id = "P0001"
    received_on = datetime.date(2024, 3, 1)
    closed_on = None
    primary_charge = "盗窃罪"
    person_count = 0
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def charge_rows(
        case: Case, create: bool, extracted: list[str] | None, **kwargs: object
    ) -> None:
        if not create:
            return
        charges = (
            extracted
            if extracted is not None
            else ([case.primary_charge] if case.primary_charge else [])
        )
        for charge in charges:
            CaseCharge.objects.get_or_create(case=case, charge=charge)


class CaseChargeFactory(DjangoModelFactory):
    class Meta:
        model = CaseCharge

    case = factory.SubFactory(CaseFactory)
    charge = "盗窃罪"


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    case = factory.SubFactory(CaseFactory)
    position = factory.Sequence(lambda n: n)
    person_id = factory.Sequence(lambda n: chr(ord("A") + n % 26))
    name = "张三丰"
    charges = factory.LazyFunction(lambda: ["盗窃罪"])
    articles = factory.LazyFunction(lambda: ["264"])


class EventFactory(DjangoModelFactory):
    class Meta:
        model = Event

    case = factory.SubFactory(CaseFactory)
    position = factory.Sequence(lambda n: n)
    type = EventType.RECEIVED
    on = factory.LazyAttribute(lambda event: event.case.received_on)
    person = ""
    details = factory.LazyFunction(dict)


class CaseGrantFactory(DjangoModelFactory):
    """A grant of a case to a user (default: a people's supervisor's assignment)."""

    class Meta:
        model = CaseGrant

    case = factory.SubFactory(CaseFactory)
    user = None
