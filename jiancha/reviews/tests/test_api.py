"""The reviews API: paginated list of visible reviews, one review, errors, schema."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from jiancha.core.testing import BASIC, SIBLING
from jiancha.reviews.choices import ReviewStatus
from jiancha.reviews.models import Review
from jiancha.reviews.tests.factories import (
    ObjectionFactory,
    ReviewFactory,
    closed_case,
    sound_scores,
    staff_user,
)

pytestmark = pytest.mark.django_db


def test_list_is_paginated_and_holds_only_own_reviews(client, plan, reviewer):
    mine = [
        ReviewFactory(plan=plan, case=closed_case(BASIC), reviewer=reviewer)
        for _ in range(3)
    ]
    ReviewFactory(
        plan=plan,
        case=closed_case(BASIC),
        reviewer=staff_user("procurator", SIBLING, "S0200"),
    )
    client.force_login(reviewer)

    first = client.get("/api/v1/reviews/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 3
    assert {row["id"] for row in first["results"] + second["results"]} == {
        review.pk for review in mine
    }


def test_list_filters_by_status(client, plan, reviewer):
    open_review = ReviewFactory(plan=plan, case=closed_case(BASIC), reviewer=reviewer)
    done = ReviewFactory(
        plan=plan,
        case=closed_case(BASIC),
        reviewer=reviewer,
        status=ReviewStatus.SUBMITTED,
        grade="excellent",
        final_grade="excellent",
    )
    client.force_login(reviewer)

    assert [
        row["id"]
        for row in client.get("/api/v1/reviews/", {"status": "submitted"}).json()[
            "results"
        ]
    ] == [done.pk]
    assert [
        row["id"]
        for row in client.get("/api/v1/reviews/", {"status": "assigned"}).json()[
            "results"
        ]
    ] == [open_review.pk]
    assert client.get("/api/v1/reviews/", {"status": "nonsense"}).status_code == 400


def test_detail_shows_ratings_and_objection(client, review, handler):
    Review.objects.filter(pk=review.pk).update(
        status=ReviewStatus.OBJECTED,
        scores=sound_scores(),
        grade="flawed",
        final_grade="",
        findings="问题",
    )
    ObjectionFactory(review=review, filed_by=handler, reason="异议理由")
    client.force_login(handler)

    data = client.get(f"/api/v1/reviews/{review.pk}/").json()

    assert data["case_id"] == review.case.case_id
    assert data["unit_code"] == BASIC
    assert data["plan"]["kind"] == "routine"
    assert data["status"] == "objected"
    assert (data["grade"], data["final_grade"]) == ("flawed", "")
    assert data["scores"]["procedure"] == {"rating": "sound", "comment": ""}
    assert data["objection"]["reason"] == "异议理由"
    assert data["objection"]["decision"] == ""


def test_unknown_and_invisible_reviews_are_404_in_the_error_shape(client, review):
    client.force_login(staff_user("procurator", SIBLING, "S0300"))

    for url in (f"/api/v1/reviews/{review.pk}/", "/api/v1/reviews/999999/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_anonymous_is_refused(client, review):
    response = client.get("/api/v1/reviews/")

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"code", "message", "fields"}


def test_schema_documents_the_reviews_api_without_warnings():
    GENERATOR_STATS.reset()

    schema = SchemaGenerator().get_schema(request=None, public=True)

    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not problems, "\n".join(problems)
    assert {"/api/v1/reviews/", "/api/v1/reviews/{id}/"} <= set(schema["paths"])
