"""The data migration that gives existing reviews their case grants."""

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from jiancha.accounts.choices import Role
from jiancha.cases.models import CaseGrant
from jiancha.core.testing import CITY, SIBLING, make_user
from jiancha.reviews.choices import PlanStatus
from jiancha.reviews.tests.factories import (
    ReviewFactory,
    ReviewPlanFactory,
    closed_case,
    staff_user,
)

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "jiancha.reviews.migrations.0002_review_case_grants"
)


def test_existing_reviews_get_their_grants(manager: Any) -> None:
    open_plan = ReviewPlanFactory(unit_code=CITY, status=PlanStatus.DRAWN)
    closed_at = timezone.now()
    closed_plan = ReviewPlanFactory(
        unit_code=CITY, status=PlanStatus.CLOSED, closed_at=closed_at
    )
    supervisor = make_user(Role.SUPERVISOR, CITY, username="old-supervisor")
    reviewer = staff_user(Role.PROCURATOR, SIBLING, "S0401")
    cases = [closed_case() for _ in range(4)]
    # Before the migration review_assign gave supervisors a plain assignment.
    for case in cases[:2]:
        CaseGrant.objects.create(case=case, user=supervisor)
    ReviewFactory(plan=open_plan, case=cases[0], reviewer=supervisor)
    ReviewFactory(plan=closed_plan, case=cases[1], reviewer=supervisor)
    ReviewFactory(plan=open_plan, case=cases[2], reviewer=reviewer)
    ReviewFactory(plan=closed_plan, case=cases[3], reviewer=reviewer)

    migration.forwards(apps, None)
    migration.forwards(apps, None)  # again: nothing more

    grants = {
        (grant.case_id, grant.user_id): grant for grant in CaseGrant.objects.all()
    }
    assert len(grants) == 3
    converted = grants[(cases[0].pk, supervisor.pk)]
    assert (converted.reason, converted.reference, converted.revoked_at) == (
        "review",
        f"reviews.plan:{open_plan.pk}",
        None,
    )
    ended = grants[(cases[1].pk, supervisor.pk)]
    assert (ended.reason, ended.revoked_at) == ("review", closed_at)
    added = grants[(cases[2].pk, reviewer.pk)]
    assert (added.reason, added.revoked_at) == ("review", None)
    assert (cases[3].pk, reviewer.pk) not in grants  # closed: nothing to open

    migration.backwards(apps, None)
    assert set(
        CaseGrant.objects.values_list("case_id", "user_id", "reason", "revoked_at")
    ) == {(cases[0].pk, supervisor.pk, "supervisor", None)}
