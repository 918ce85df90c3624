"""Shared set-up for the review tests: a city-level plan over a basic unit's closed case,
its reviewer, the handling procurator and a committee member."""

import datetime

import pytest

from jiancha.accounts.choices import Role
from jiancha.core.testing import BASIC, CITY, SIBLING, make_user
from jiancha.reviews.choices import PlanStatus
from jiancha.reviews.tests.factories import (
    ReviewFactory,
    ReviewPlanFactory,
    closed_case,
    drawn_plan,
    staff_user,
)


@pytest.fixture
def handler(db):
    """The procurator P0001 of the basic unit, who handled the reviewed case."""
    return staff_user(Role.PROCURATOR, BASIC, "P0001")


@pytest.fixture
def reviewer(db):
    """A procurator of the sibling unit (a cross-reviewer)."""
    return staff_user(Role.PROCURATOR, SIBLING, "S0007")


@pytest.fixture
def committee(db):
    """The chief of the city unit, which organises the plan."""
    return make_user(Role.CHIEF, CITY, username="committee-chief")


@pytest.fixture
def manager(db):
    """The case manager (案管) of the city unit, who organises plans."""
    return make_user(Role.CASE_MANAGER, CITY, username="city-case-manager")


@pytest.fixture
def plan(db):
    return ReviewPlanFactory(
        unit_code=CITY, status=PlanStatus.DRAWN, name="杭州市2024年常规抽查"
    )


@pytest.fixture
def case(db):
    case = closed_case(
        BASIC,
        procurator_id="P0001",
        closed_on=datetime.date(2024, 5, 10),
        facts="犯罪嫌疑人张三丰盗窃财物。",
    )
    from jiancha.cases.tests.factories import PersonFactory

    PersonFactory(case=case, person_id="A", name="张三丰", position=0)
    return case


@pytest.fixture
def review(plan, case, reviewer):
    return ReviewFactory(plan=plan, case=case, reviewer=reviewer)


@pytest.fixture
def drawn(manager):
    """A cross-review plan of the city that drew both closed cases of the basic unit."""
    cases = [closed_case(BASIC, procurator_id="P0001") for _ in range(2)]
    return drawn_plan(manager, cross_review=True, seed=3, name="交叉评查"), cases
