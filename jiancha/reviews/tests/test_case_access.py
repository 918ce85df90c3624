"""A reviewer may open the case page of the cases assigned to it, also in another unit
(cross-review), through case grants (``cases.CaseGrant``) that end when the plan closes or
the review is reassigned."""

import datetime
from typing import Any

import pytest
from django.urls import reverse

from jiancha.accounts.choices import Role
from jiancha.cases.models import Case, CaseGrant
from jiancha.core.errors import BusinessError
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, SIBLING, make_user
from jiancha.reviews.choices import ReviewGrade
from jiancha.reviews.models import Review
from jiancha.reviews.services import (
    plan_close,
    plan_reference,
    review_assign,
    review_reassign,
    review_submit,
)
from jiancha.reviews.tests.factories import closed_case, sound_scores, staff_user

pytestmark = pytest.mark.django_db


def opens(client: Any, user: Any, case: Case) -> int:
    client.force_login(user)
    return client.get(reverse("cases:case_detail", args=[case.pk])).status_code


def test_cross_unit_reviewers_open_exactly_their_cases_until_the_plan_closes(
    client: Any, manager: Any, drawn: Any
) -> None:
    plan, cases = drawn
    never_drawn = closed_case(BASIC, closed_on=datetime.date(2023, 5, 10))
    first = staff_user(Role.PROCURATOR, SIBLING, "S0101")
    second = staff_user(Role.PROCURATOR, SIBLING, "S0102")
    assert {opens(client, first, case) for case in cases} == {404}

    review_assign(plan=plan, actor=manager, reviewers=[first, second])

    mine = {
        reviewer.pk: Review.objects.get(plan=plan, reviewer=reviewer)
        for reviewer in (first, second)
    }
    for reviewer, other in ((first, second), (second, first)):
        own_case, other_case = mine[reviewer.pk].case, mine[other.pk].case
        assert opens(client, reviewer, own_case) == 200
        assert opens(client, reviewer, other_case) == 404
        assert opens(client, reviewer, never_drawn) == 404
        assert set(Case.objects.visible_to(reviewer).filter(unit__code=BASIC)) == {
            own_case
        }

    # Submitted: the case can still be reread (objections) until the plan closes.
    for reviewer in (first, second):
        review_submit(
            review=mine[reviewer.pk],
            actor=reviewer,
            scores=sound_scores(),
            findings="",
            grade=ReviewGrade.EXCELLENT,
        )
    assert opens(client, first, mine[first.pk].case) == 200

    plan_close(plan=plan, actor=manager)

    assert opens(client, first, mine[first.pk].case) == 404
    assert opens(client, second, mine[second.pk].case) == 404
    assert (
        not CaseGrant.objects.active().filter(reference=plan_reference(plan)).exists()
    )
    assert CaseGrant.objects.filter(reference=plan_reference(plan)).count() == 2
    # The review page itself stays the reviewer's (reviews' own access path).
    client.force_login(first)
    assert client.get(f"/reviews/{mine[first.pk].pk}/").status_code == 200


def test_reassigning_moves_the_grant(client: Any, manager: Any, drawn: Any) -> None:
    plan, _cases = drawn
    first = staff_user(Role.PROCURATOR, SIBLING, "S0201")
    replacement = staff_user(Role.PROCURATOR, SIBLING, "S0202")
    review_assign(plan=plan, actor=manager, reviewers=[first])
    review = Review.objects.filter(plan=plan).order_by("pk").first()
    assert opens(client, first, review.case) == 200

    review_reassign(review=review, actor=manager, reviewer=replacement)

    review.refresh_from_db()
    assert review.reviewer_id == replacement.pk
    assert opens(client, replacement, review.case) == 200
    assert opens(client, first, review.case) == 404
    # first still reviews the plan's other case
    other = Review.objects.filter(plan=plan).exclude(pk=review.pk).get()
    assert opens(client, first, other.case) == 200
    assert AuditEntry.objects.filter(
        verb="reviews.review.reassign", target_id=str(review.pk)
    ).exists()


def test_reassigning_is_refused_after_submission_to_the_handler_or_by_others(
    manager: Any, drawn: Any, handler: Any
) -> None:
    plan, _cases = drawn
    first = staff_user(Role.PROCURATOR, SIBLING, "S0301")
    review_assign(plan=plan, actor=manager, reviewers=[first])
    review = Review.objects.filter(plan=plan).order_by("pk").first()
    grants = list(CaseGrant.objects.order_by("pk").values())

    with pytest.raises(
        BusinessError
    ):  # the handling procurator, and of the case's unit
        review_reassign(review=review, actor=manager, reviewer=handler)
    with pytest.raises(BusinessError):  # not the organiser
        review_reassign(
            review=review,
            actor=make_user(Role.PROCURATOR, CITY, username="city-procurator"),
            reviewer=staff_user(Role.PROCURATOR, SIBLING, "S0302"),
        )
    review_submit(
        review=review,
        actor=first,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    grants = list(CaseGrant.objects.order_by("pk").values())
    with pytest.raises(BusinessError):
        review_reassign(
            review=review,
            actor=manager,
            reviewer=staff_user(Role.PROCURATOR, SIBLING, "S0303"),
        )
    assert list(CaseGrant.objects.order_by("pk").values()) == grants
    review.refresh_from_db()
    assert review.reviewer_id == first.pk
