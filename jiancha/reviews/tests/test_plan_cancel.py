"""撤销: cancelling a review plan — a role matrix over HTTP, the rules of the service, and
what a cancelled plan no longer allows (submitting, objecting, deciding, case access,
counting for appraisal)."""

import json
from typing import Any

import pytest
from django.urls import reverse

from jiancha.accounts.choices import Role
from jiancha.cases.models import CaseGrant
from jiancha.core.errors import BusinessError
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, SIBLING, role_matrix
from jiancha.reviews.choices import ObjectionDecision, PlanStatus, ReviewStatus
from jiancha.reviews.models import Review, ReviewPlan
from jiancha.reviews.selectors import review_queue, settled_reviews
from jiancha.reviews.services import (
    objection_decide,
    objection_file,
    plan_cancel,
    plan_close,
    plan_reference,
    review_assign,
    review_submit,
)
from jiancha.reviews.tests.factories import sound_scores, staff_user
from jiancha.reviews.tests.test_access import expect_plan
from jiancha.reviews.tests.test_case_access import opens

pytestmark = pytest.mark.django_db

MATRIX = role_matrix(BASIC)
ENGLISH = {"Accept-Language": "en"}


def plan_state(plan: ReviewPlan) -> tuple[str, Any, str]:
    plan.refresh_from_db()
    return plan.status, plan.cancelled_at, plan.cancel_reason


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_cancel_matrix(client_for, review, role, unit):
    client = client_for(role, unit)
    plan = review.plan
    before = plan_state(plan)

    response = client.post(
        reverse("reviews:plan_cancel", args=[plan.pk]), {"reason": "抽样范围有误"}
    )

    if expect_plan(role, unit, "manage"):
        assert response.status_code == 302
        status, cancelled_at, reason = plan_state(plan)
        assert (status, reason) == (PlanStatus.CANCELLED, "抽样范围有误")
        assert cancelled_at is not None
    else:
        assert response.status_code == 404
        assert plan_state(plan) == before


def test_cancelling_needs_a_reason_and_an_open_plan(client, manager, review):
    client.force_login(manager)
    url = reverse("reviews:plan_cancel", args=[review.plan_id])
    before = plan_state(review.plan)

    response = client.post(
        url, {"reason": "  "}, headers={"HX-Request": "true", **ENGLISH}
    )
    assert response.status_code == 400
    assert "Give the reason for cancelling." in response.content.decode()
    assert plan_state(review.plan) == before

    response = client.post(
        url, {"reason": "理" * 2001}, headers={"HX-Request": "true", **ENGLISH}
    )
    assert response.status_code == 400
    assert "at most 2,000 characters" in response.content.decode()
    assert plan_state(review.plan) == before

    ReviewPlan.objects.filter(pk=review.plan_id).update(status=PlanStatus.CLOSED)
    with pytest.raises(BusinessError, match="not yet closed"):
        plan_cancel(plan=review.plan, actor=manager, reason="太晚了")
    assert plan_state(review.plan)[0] == PlanStatus.CLOSED
    assert not AuditEntry.objects.filter(verb="reviews.plan.cancel").exists()


def test_the_plan_page_offers_cancelling_and_shows_the_reason(client, manager, review):
    client.force_login(manager)
    url = reverse("reviews:plan_detail", args=[review.plan_id])
    body = client.get(url, headers=ENGLISH).content.decode()
    assert reverse("reviews:plan_cancel", args=[review.plan_id]) in body

    plan_cancel(plan=review.plan, actor=manager, reason="重复立项")

    body = client.get(url, headers=ENGLISH).content.decode()
    assert reverse("reviews:plan_cancel", args=[review.plan_id]) not in body
    assert "重复立项" in body
    assert "cancelled" in body
    chinese = client.get(url, headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "已撤销" in chinese


@pytest.fixture
def objected(manager: Any, drawn: Any, handler: Any) -> Any:
    """The drawn plan's two cases assigned to one reviewer; the first review submitted and
    objected to by the handling procurator. Returns the plan, the reviewer, a committee
    member and the two reviews."""
    plan, _cases = drawn
    reviewer = staff_user(Role.PROCURATOR, SIBLING, "S0301")
    committee = staff_user(Role.CHIEF, CITY, "C0001")
    review_assign(plan=plan, actor=manager, reviewers=[reviewer])
    first, second = Review.objects.filter(plan=plan).order_by("pk")
    review_submit(
        review=first,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade="excellent",
    )
    objection_file(review=first, actor=handler, reason="评查结论有误")
    return plan, reviewer, committee, first, second


def test_a_cancelled_plan_ends_access_reviews_objections_and_appraisal(
    client: Any, manager: Any, objected: Any
) -> None:
    plan, reviewer, committee, first, second = objected
    assert opens(client, reviewer, second.case) == 200
    assert [row.pk for row in review_queue(user=reviewer).to_review] == [second.pk]

    plan_cancel(plan=plan, actor=manager, reason="评查标准调整，重新组织")

    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED
    # The reviewers' access to the cases ends, as when a plan closes.
    assert not CaseGrant.objects.filter(
        reference=plan_reference(plan), revoked_at__isnull=True
    ).exists()
    assert opens(client, reviewer, second.case) == 404
    assert review_queue(user=reviewer).to_review == []
    with pytest.raises(BusinessError, match="cancelled"):
        review_submit(
            review=second,
            actor=reviewer,
            scores=sound_scores(),
            findings="",
            grade="excellent",
        )
    with pytest.raises(BusinessError, match="cancelled"):
        objection_decide(
            review=first,
            actor=committee,
            decision=ObjectionDecision.UPHELD,
            reason="维持",
        )
    with pytest.raises(BusinessError, match="closed"):
        plan_close(plan=plan, actor=manager)
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, second.status) == (
        ReviewStatus.OBJECTED,
        ReviewStatus.ASSIGNED,
    )
    assert not settled_reviews().filter(plan=plan).exists()
    entry = AuditEntry.objects.get(verb="reviews.plan.cancel", target_id=str(plan.pk))
    details = json.loads(entry.details)
    assert details["reason"] == "评查标准调整，重新组织"
    assert details["grants_revoked"] == 2


def test_a_review_decided_before_the_plan_was_cancelled_does_not_count(
    manager: Any, objected: Any
) -> None:
    plan, _reviewer, committee, first, _second = objected
    objection_decide(
        review=first, actor=committee, decision=ObjectionDecision.UPHELD, reason="维持"
    )
    assert settled_reviews().filter(pk=first.pk).exists()

    plan_cancel(plan=plan, actor=manager, reason="整体撤销")

    assert not settled_reviews().filter(pk=first.pk).exists()
