"""The draw: seeded, stratified, reproducible and idempotent (issue 3 item 7)."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiancha.accounts.choices import BusinessLine, Role
from jiancha.accounts.models import Unit
from jiancha.cases.tests.factories import CaseFactory
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, OTHER_BASIC, SIBLING, make_user
from jiancha.reviews.choices import PlanKind, PlanStatus
from jiancha.reviews.models import PlanCase
from jiancha.reviews.selectors import plan_draw_compute, sample_size
from jiancha.reviews.services import plan_create, plan_draw
from jiancha.reviews.tests.factories import closed_case
from jiancha.reviews.tests.factories import routine_plan as routine

pytestmark = pytest.mark.django_db

# (unit, business line) -> number of closed cases in 2024
STRATA = {
    (BASIC, BusinessLine.ORDINARY_CRIME): 23,
    (BASIC, BusinessLine.ECONOMIC_CRIME): 7,
    (SIBLING, BusinessLine.ORDINARY_CRIME): 12,
    (SIBLING, BusinessLine.JUVENILE): 1,
}


@pytest.fixture
def manager(db):
    return make_user(Role.CASE_MANAGER, CITY, username="sampling-manager")


@pytest.fixture
def cases(db):
    created = []
    for (unit_code, line), count in STRATA.items():
        for index in range(count):
            created.append(
                closed_case(
                    unit_code,
                    business_line=line,
                    closed_on=datetime.date(2024, 1 + index % 12, 10),
                )
            )
    return created


def drawn_ids(plan) -> set[int]:
    return set(PlanCase.objects.filter(plan=plan).values_list("case_id", flat=True))


def test_same_seed_draws_the_same_cases(manager, cases):
    first = routine(manager, seed=7, name="一")
    second = routine(manager, seed=7, name="二")
    other = routine(manager, seed=8, name="三")

    plan_draw(plan=first, actor=manager)
    plan_draw(plan=second, actor=manager)
    plan_draw(plan=other, actor=manager)

    assert drawn_ids(first) == drawn_ids(second)
    assert drawn_ids(first) != drawn_ids(other)
    assert list(
        PlanCase.objects.filter(plan=first).values_list("case_id", flat=True)
    ) == list(PlanCase.objects.filter(plan=second).values_list("case_id", flat=True))


@pytest.mark.parametrize("percentage", [5, 20, Decimal("33.5"), 50, 100])
def test_percentage_is_honoured_in_every_stratum(manager, cases, percentage):
    plan = routine(manager, percentage=percentage)

    plan_draw(plan=plan, actor=manager)

    drawn = Counter(
        PlanCase.objects.filter(plan=plan).values_list("stratum", flat=True)
    )
    for (unit_code, line), count in STRATA.items():
        share = count * Decimal(percentage) / 100
        assert abs(drawn[f"{unit_code}/{line}"] - share) <= 1, (unit_code, line)
        assert drawn[f"{unit_code}/{line}"] >= 1  # no stratum goes unsampled


def test_drawing_again_returns_the_same_cases_and_writes_nothing(manager, cases):
    plan = routine(manager)
    first = [row.case_id for row in plan_draw(plan=plan, actor=manager)]
    audit_entries = AuditEntry.objects.count()

    again = [row.case_id for row in plan_draw(plan=plan, actor=manager)]

    assert again == first
    assert PlanCase.objects.filter(plan=plan).count() == len(first)
    assert AuditEntry.objects.count() == audit_entries


def test_stored_draw_is_what_the_seed_recomputes(manager, cases):
    plan = routine(manager, percentage=30)
    plan_draw(plan=plan, actor=manager)
    plan.refresh_from_db()

    recomputed = plan_draw_compute(plan, actor=manager)

    assert [item.case_pk for item in recomputed.cases] == list(
        PlanCase.objects.filter(plan=plan)
        .order_by("position")
        .values_list("case_id", flat=True)
    )
    assert plan.status == PlanStatus.DRAWN
    assert plan.candidate_count == sum(STRATA.values())


def test_a_new_case_in_one_stratum_leaves_the_other_strata_draws_alone(manager, cases):
    plan = routine(manager, percentage=30)
    before = {
        item.case_pk: item.stratum
        for item in plan_draw_compute(plan, actor=manager).cases
    }

    closed_case(BASIC, business_line=BusinessLine.ECONOMIC_CRIME)
    after = {
        item.case_pk: item.stratum
        for item in plan_draw_compute(plan, actor=manager).cases
    }

    untouched = f"{BASIC}/{BusinessLine.ORDINARY_CRIME}"
    assert {pk for pk, stratum in before.items() if stratum == untouched} == {
        pk for pk, stratum in after.items() if stratum == untouched
    }


def test_only_closed_cases_of_the_period_in_the_plan_subtree_are_candidates(
    manager, cases
):
    CaseFactory(unit_code=BASIC, closed_on=None)  # still open
    closed_case(BASIC, closed_on=datetime.date(2023, 12, 31))  # before the period
    outside = closed_case(OTHER_BASIC)  # another province
    plan = routine(manager, percentage=100)

    plan_draw(plan=plan, actor=manager)

    assert drawn_ids(plan) == {case.pk for case in cases}
    assert outside.pk not in drawn_ids(plan)


def test_plan_of_a_basic_unit_draws_only_its_cases(cases):
    manager = make_user(Role.CASE_MANAGER, BASIC, username="basic-manager")
    plan = routine(manager, percentage=100, unit_code=BASIC)

    plan_draw(plan=plan, actor=manager)

    assert drawn_ids(plan) == {case.pk for case in cases if case.unit.code == BASIC}


def test_thematic_review_takes_its_business_line_and_charge(manager, cases):
    fraud = [
        closed_case(
            SIBLING, business_line=BusinessLine.ORDINARY_CRIME, primary_charge="诈骗罪"
        )
        for _ in range(3)
    ]
    plan = plan_create(
        actor=manager,
        unit=Unit.objects.get(code=CITY),
        name="诈骗专项",
        kind=PlanKind.THEMATIC,
        period_from=datetime.date(2024, 1, 1),
        period_to=datetime.date(2024, 12, 31),
        business_line=BusinessLine.ORDINARY_CRIME,
        charge="诈骗罪",
        seed=1,
    )

    plan_draw(plan=plan, actor=manager)

    assert drawn_ids(plan) == {case.pk for case in fraud}


def test_thematic_review_of_a_business_line(manager, cases):
    plan = plan_create(
        actor=manager,
        unit=Unit.objects.get(code=CITY),
        name="未检专项",
        kind=PlanKind.THEMATIC,
        period_from=datetime.date(2024, 1, 1),
        period_to=datetime.date(2024, 12, 31),
        business_line=BusinessLine.JUVENILE,
        seed=1,
    )

    plan_draw(plan=plan, actor=manager)

    assert drawn_ids(plan) == {
        case.pk for case in cases if case.business_line == BusinessLine.JUVENILE
    }


@pytest.mark.parametrize(
    ("count", "percentage", "expected"),
    [
        (0, 10, 0),
        (10, 0, 0),
        (1, 5, 1),
        (23, 20, 5),
        (7, 20, 1),
        (10, 25, 3),
        (10, 100, 10),
        (3, 50, 2),
    ],
)
def test_sample_size(count, percentage, expected):
    assert sample_size(count, Decimal(percentage)) == expected


@given(
    count=st.integers(min_value=1, max_value=5000),
    percentage=st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
)
def test_sample_size_is_within_one_of_the_exact_share(count, percentage):
    size = sample_size(count, percentage)
    assert 1 <= size <= count
    assert abs(size - count * percentage / 100) <= 1
