"""Factories for manual review: one per model (STYLE.md §10), plus staff users.

Units come from the procuratorate tree loaded by the accounts migration, so factories take
org codes. A *staff user* is a user linked to a ``Staff`` row, which is how the handling
procurator of a case (``Case.procurator_id`` in the case's unit) is recognised.
"""

import datetime
import secrets

import factory
from factory.django import DjangoModelFactory

from jiancha.accounts.choices import BusinessLine
from jiancha.accounts.models import Staff, Unit, User
from jiancha.cases.choices import EventType
from jiancha.cases.tests.factories import CaseFactory, EventFactory
from jiancha.core.testing import BASIC, CITY
from jiancha.reviews.choices import PlanKind, PlanStatus, ReviewStatus
from jiancha.reviews.dimensions import DIMENSION_IDS
from jiancha.reviews.models import Objection, PlanCase, Review, ReviewPlan


def staff_user(
    role: str, unit_code: str, staff_number: str, *, username: str | None = None
) -> User:
    """A user of ``unit_code`` who is the staff member ``staff_number`` there."""
    unit = Unit.objects.get(code=unit_code)
    staff = Staff.objects.create(
        unit=unit, staff_number=staff_number, name=f"检察官{staff_number}"
    )
    name = username or f"{role}-{unit_code}-{staff_number}-{secrets.token_hex(3)}"
    return User.objects.create_user(
        username=name, password="pass-word-1", unit=unit, role=role, staff=staff
    )


def closed_case(
    unit_code: str = BASIC,
    *,
    business_line: str = BusinessLine.ORDINARY_CRIME,
    procurator_id: str = "P0001",
    closed_on: datetime.date = datetime.date(2024, 5, 10),
    **kwargs: object,
):
    return CaseFactory(
        unit_code=unit_code,
        business_line=business_line,
        procurator_id=procurator_id,
        received_on=closed_on - datetime.timedelta(days=30),
        closed_on=closed_on,
        **kwargs,
    )


def key_event(case, event_type: str, **details: object):
    return EventFactory(case=case, type=event_type, on=case.closed_on, details=details)


EVENT = EventType


class ReviewPlanFactory(DjangoModelFactory):
    """A drawn-free routine plan of the city unit over 2024."""

    class Meta:
        model = ReviewPlan

    class Params:
        unit_code = CITY

    unit = factory.LazyAttribute(lambda plan: Unit.objects.get(code=plan.unit_code))
    name = factory.Sequence(lambda n: f"2024年案件质量评查{n}")
    kind = PlanKind.ROUTINE
    period_from = datetime.date(2024, 1, 1)
    period_to = datetime.date(2024, 12, 31)
    percentage = 100
    seed = 20240101
    status = PlanStatus.DRAFT


class PlanCaseFactory(DjangoModelFactory):
    class Meta:
        model = PlanCase

    plan = factory.SubFactory(ReviewPlanFactory, status=PlanStatus.DRAWN)
    case = factory.SubFactory(CaseFactory)
    position = factory.Sequence(lambda n: n + 1)
    stratum = factory.LazyAttribute(
        lambda row: f"{row.case.unit.code}/{row.case.business_line}"
    )


def sound_scores(comment: str = "") -> dict[str, dict[str, str]]:
    return {
        dimension_id: {"rating": "sound", "comment": comment}
        for dimension_id in DIMENSION_IDS
    }


class ReviewFactory(DjangoModelFactory):
    """An assigned review; its plan has drawn its case."""

    class Meta:
        model = Review
        skip_postgeneration_save = True

    plan = factory.SubFactory(ReviewPlanFactory, status=PlanStatus.DRAWN)
    case = factory.SubFactory(CaseFactory, closed_on=datetime.date(2024, 5, 10))
    case_unit = factory.LazyAttribute(lambda review: review.case.unit)
    procurator_id = factory.LazyAttribute(lambda review: review.case.procurator_id)
    reviewer = None
    status = ReviewStatus.ASSIGNED

    @factory.post_generation
    def drawn(
        review: Review, create: bool, extracted: object, **kwargs: object
    ) -> None:
        if create:
            PlanCase.objects.get_or_create(
                plan=review.plan,
                case=review.case,
                defaults={
                    "position": review.plan.plan_cases.count() + 1,
                    "stratum": f"{review.case.unit.code}/{review.case.business_line}",
                },
            )


class ObjectionFactory(DjangoModelFactory):
    class Meta:
        model = Objection

    review = factory.SubFactory(ReviewFactory, status=ReviewStatus.OBJECTED)
    filed_by = None
    reason = "事实认定并无错误。"
    filed_at = factory.LazyFunction(
        lambda: datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)
    )


def routine_plan(
    manager,
    *,
    seed=7,
    percentage=20,
    unit_code=CITY,
    name="常规抽查",
    cross_review=False,
):
    """A routine plan of ``unit_code`` over the cases closed in 2024, created by ``manager``."""
    from jiancha.reviews.services import plan_create

    return plan_create(
        actor=manager,
        unit=Unit.objects.get(code=unit_code),
        name=name,
        kind=PlanKind.ROUTINE,
        period_from=datetime.date(2024, 1, 1),
        period_to=datetime.date(2024, 12, 31),
        percentage=percentage,
        seed=seed,
        cross_review=cross_review,
    )


def drawn_plan(manager, *, cross_review=False, unit_code=CITY, seed=11, name="评查"):
    """A routine plan over every case closed in 2024 in ``unit_code``'s subtree, drawn."""
    from jiancha.reviews.services import plan_draw

    plan = routine_plan(
        manager,
        seed=seed,
        percentage=100,
        unit_code=unit_code,
        name=name,
        cross_review=cross_review,
    )
    plan_draw(plan=plan, actor=manager)
    plan.refresh_from_db()
    return plan
