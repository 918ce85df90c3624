"""The one access path for plans and reviews, against every role (STYLE.md §4, §10)."""

import pytest
from django.http import Http404

from jiancha.accounts.choices import Role
from jiancha.core.testing import (
    BASIC,
    CITY,
    SIBLING,
    SUBTREE_ROLE_VALUES,
    make_user,
    may_see,
    role_matrix,
)
from jiancha.reviews.access import access_plan, access_review
from jiancha.reviews.models import Review, ReviewPlan
from jiancha.reviews.tests.factories import ReviewFactory, closed_case, staff_user

pytestmark = pytest.mark.django_db

PLAN_UNIT, CASE_UNIT = CITY, BASIC


def expect_plan(role: str, unit: str, action: str = "view") -> bool:
    """Written out from the rules in docs/apps/reviews.md, independently of the code."""
    roles = {"view": SUBTREE_ROLE_VALUES, "manage": {"case_manager", "chief", "admin"}}[
        action
    ]
    return role in roles and may_see(role, unit, PLAN_UNIT)


def expect_review(role: str, unit: str, action: str = "view") -> bool:
    """Users of the matrix are neither reviewer nor handler."""
    if action == "view":
        return role in SUBTREE_ROLE_VALUES and (
            may_see(role, unit, PLAN_UNIT) or may_see(role, unit, CASE_UNIT)
        )
    if action == "decide":
        return role in {"chief", "department_head", "case_manager"} and may_see(
            role, unit, PLAN_UNIT
        )
    return False


@pytest.mark.parametrize(("role", "unit"), role_matrix(CASE_UNIT))
def test_plan_access_matrix(plan, role, unit):
    user = make_user(role, unit)
    for action in ("view", "manage"):
        assert ReviewPlan.objects.visible_to(user, action).filter(
            pk=plan.pk
        ).exists() is expect_plan(role, unit, action), action
        if not expect_plan(role, unit, action):
            with pytest.raises(Http404):
                access_plan(user, plan.pk, action=action)


@pytest.mark.parametrize(("role", "unit"), role_matrix(CASE_UNIT))
def test_review_access_matrix(review, role, unit):
    user = make_user(role, unit)
    for action in ("view", "submit", "object", "decide"):
        assert Review.objects.visible_to(user, action).filter(
            pk=review.pk
        ).exists() is expect_review(role, unit, action), action
        if not expect_review(role, unit, action):
            with pytest.raises(Http404):
                access_review(user, review.pk, action=action)


def test_reviewer_sees_only_its_own_assignments(review, reviewer, plan):
    other = ReviewFactory(
        plan=plan,
        case=closed_case(BASIC),
        reviewer=staff_user(Role.PROCURATOR, SIBLING, "S0100"),
    )

    assert list(Review.objects.visible_to(reviewer)) == [review]
    assert access_review(reviewer, review.pk, action="submit") == review
    with pytest.raises(Http404):
        access_review(reviewer, other.pk)


def test_handling_procurator_sees_reviews_of_its_cases_only(review, handler, plan):
    other = ReviewFactory(
        plan=plan,
        case=closed_case(BASIC, procurator_id="P0002"),
        reviewer=review.reviewer,
    )

    assert list(Review.objects.visible_to(handler)) == [review]
    assert access_review(handler, review.pk, action="object") == review
    with pytest.raises(Http404):
        access_review(handler, other.pk)
    with pytest.raises(Http404):
        access_review(handler, review.pk, action="submit")


def test_same_staff_number_in_another_unit_is_not_the_handler(review):
    namesake = staff_user(Role.PROCURATOR, SIBLING, "P0001")

    assert not Review.objects.visible_to(namesake).exists()


def test_supervisor_sees_only_its_assignments(plan, review):
    supervisor = make_user(Role.SUPERVISOR, CITY, username="supervisor-1")
    own = ReviewFactory(plan=plan, case=closed_case(BASIC), reviewer=supervisor)

    assert list(Review.objects.visible_to(supervisor)) == [own]
    assert not ReviewPlan.objects.visible_to(supervisor).exists()
    with pytest.raises(Http404):
        access_review(supervisor, review.pk)
    with pytest.raises(Http404):
        access_review(supervisor, own.pk, action="object")


def test_inactive_reviewer_sees_nothing(review, reviewer):
    reviewer.is_active = False
    reviewer.save(update_fields=["is_active"])

    assert not Review.objects.visible_to(reviewer).exists()
