"""``jiancha demo-reviews``: a drawn and assigned review plan for the demo (make demo)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiancha.accounts.choices import BusinessLine, Role
from jiancha.cases.models import CaseGrant
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC
from jiancha.reviews.choices import PlanStatus
from jiancha.reviews.models import Review, ReviewPlan
from jiancha.reviews.tests.factories import closed_case

pytestmark = pytest.mark.django_db


def _cases() -> list:
    cases = [
        closed_case(BASIC, closed_on=datetime.date(2023, 3, 1 + day))
        for day in range(6)
    ]
    cases.append(
        closed_case(
            BASIC, business_line=BusinessLine.CIVIL, closed_on=datetime.date(2025, 7, 1)
        )
    )
    return cases


def test_demo_plan_is_drawn_and_assigned_through_the_services() -> None:
    cases = _cases()
    call_command("demo-users", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo-reviews", stdout=out)

    plan = ReviewPlan.objects.get()
    assert plan.unit.code == BASIC
    assert plan.status == PlanStatus.DRAWN
    assert (plan.period_from, plan.period_to) == (
        datetime.date(2023, 3, 1),
        datetime.date(2025, 7, 1),
    )
    # Half of each stratum, at least one: 3 of the 6 ordinary crimes, the civil case.
    assert plan.plan_cases.count() == 4
    reviews = list(Review.objects.select_related("reviewer", "case"))
    assert len(reviews) == 4
    assert {review.case for review in reviews} <= set(cases)
    reviewers = {review.reviewer.username for review in reviews}
    assert reviewers == {"xihu-head", "xihu-chief", "xihu-supervisor"}
    # The supervisor reads its cases through review grants, as on the plan page.
    supervisor = next(r for r in reviews if r.reviewer.role == Role.SUPERVISOR)
    assert CaseGrant.objects.filter(
        user=supervisor.reviewer, case=supervisor.case, reason="review"
    ).exists()
    assert AuditEntry.objects.filter(verb__startswith="reviews.").exists()
    assert "4" in out.getvalue()

    again = io.StringIO()
    call_command("demo-reviews", "--if-empty", stdout=again)
    assert ReviewPlan.objects.count() == 1
    assert again.getvalue().strip()


def test_demo_plan_needs_the_demo_accounts_and_cases() -> None:
    with pytest.raises(CommandError, match="demo-users"):
        call_command("demo-reviews", stdout=io.StringIO())
    call_command("demo-users", stdout=io.StringIO())
    with pytest.raises(CommandError, match="demo-data"):
        call_command("demo-reviews", stdout=io.StringIO())
    assert not ReviewPlan.objects.exists()
