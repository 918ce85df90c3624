"""改派 over HTTP: the plan page's reassign form, a role matrix for the action, and the
refusals (the handling procurator, a submitted review) leaving everything unchanged."""

import pytest
from django.urls import reverse

from jiancha.accounts.choices import Role
from jiancha.cases.models import CaseGrant
from jiancha.core.testing import BASIC, SIBLING, role_matrix
from jiancha.reviews.choices import ReviewStatus
from jiancha.reviews.models import Review
from jiancha.reviews.tests.factories import staff_user
from jiancha.reviews.tests.test_access import expect_plan

pytestmark = pytest.mark.django_db

MATRIX = role_matrix(BASIC)
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def replacement(db):
    """Another procurator of the sibling unit."""
    return staff_user(Role.PROCURATOR, SIBLING, "S0008")


def reviews_state():
    return list(Review.objects.order_by("pk").values("pk", "reviewer_id", "status"))


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_reassign_matrix(client_for, review, replacement, role, unit):
    client = client_for(role, unit)
    before = reviews_state()

    response = client.post(
        reverse("reviews:plan_reassign", args=[review.plan_id]),
        {"review": review.pk, "reviewer": replacement.pk},
    )

    review.refresh_from_db()
    if expect_plan(role, unit, "manage"):
        assert response.status_code == 302
        assert review.reviewer_id == replacement.pk
        assert CaseGrant.objects.filter(
            case=review.case, user=replacement, revoked_at__isnull=True
        ).exists()
    else:
        assert response.status_code == 404
        assert reviews_state() == before
        assert not CaseGrant.objects.filter(user=replacement).exists()


def test_the_plan_page_offers_reassignment_of_open_reviews_only(
    client, manager, review, replacement, handler
):
    client.force_login(manager)
    page = client.get(
        reverse("reviews:plan_detail", args=[review.plan_id]), headers=ENGLISH
    )
    body = page.content.decode()
    assert reverse("reviews:plan_reassign", args=[review.plan_id]) in body
    assert f'<option value="{replacement.pk}">' in body
    # The current reviewer is not offered again.
    assert f'<option value="{review.reviewer_id}">' not in body

    Review.objects.filter(pk=review.pk).update(status=ReviewStatus.SUBMITTED)
    body = client.get(
        reverse("reviews:plan_detail", args=[review.plan_id])
    ).content.decode()
    assert reverse("reviews:plan_reassign", args=[review.plan_id]) not in body


def test_reassigning_to_the_handler_or_a_submitted_review_is_refused(
    client, manager, review, replacement, handler
):
    client.force_login(manager)
    url = reverse("reviews:plan_reassign", args=[review.plan_id])
    before = reviews_state()

    # The handling procurator is in the plan's subtree but never reviews their own case.
    response = client.post(
        url,
        {"review": review.pk, "reviewer": handler.pk},
        headers={"HX-Request": "true", **ENGLISH},
    )
    assert response.status_code == 400
    assert "cannot review this case" in response.content.decode()
    assert reviews_state() == before

    Review.objects.filter(pk=review.pk).update(status=ReviewStatus.SUBMITTED)
    before = reviews_state()
    response = client.post(
        url,
        {"review": review.pk, "reviewer": replacement.pk},
        headers={"HX-Request": "true", **ENGLISH},
    )
    assert response.status_code == 400
    assert "Choose a review not yet submitted" in response.content.decode()
    assert reviews_state() == before
    assert not CaseGrant.objects.filter(user=replacement).exists()
