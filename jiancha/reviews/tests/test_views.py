"""The review pages over HTTP: a role matrix for every page and action (STYLE.md §10),
the reviewer's, handler's and committee's paths, masking for supervisors, HTMX fragments."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jiancha.accounts.choices import BusinessLine, Role
from jiancha.accounts.models import Unit
from jiancha.core.testing import BASIC, CITY, make_user, may_see, role_matrix
from jiancha.reviews.choices import PlanKind, PlanStatus, ReviewGrade, ReviewStatus
from jiancha.reviews.dimensions import DIMENSION_IDS
from jiancha.reviews.models import Objection, Review, ReviewPlan
from jiancha.reviews.tests.factories import (
    ObjectionFactory,
    ReviewFactory,
    ReviewPlanFactory,
    closed_case,
    sound_scores,
)
from jiancha.reviews.tests.test_access import expect_plan, expect_review

pytestmark = pytest.mark.django_db

MATRIX = role_matrix(BASIC)
ENGLISH = {"Accept-Language": "en"}  # the assertions read English labels


def review_form_data(grade="excellent", **overrides):
    data = {f"rating_{dimension_id}": "sound" for dimension_id in DIMENSION_IDS}
    data.update({f"comment_{dimension_id}": "" for dimension_id in DIMENSION_IDS})
    data.update({"findings": "", "grade": grade})
    data.update(overrides)
    return data


@pytest.fixture
def submitted(review):
    Review.objects.filter(pk=review.pk).update(
        status=ReviewStatus.SUBMITTED,
        scores=sound_scores(),
        grade="acceptable",
        final_grade="acceptable",
    )
    review.refresh_from_db()
    return review


@pytest.fixture
def objected(submitted, handler):
    ObjectionFactory(review=submitted, filed_by=handler)
    Review.objects.filter(pk=submitted.pk).update(
        status=ReviewStatus.OBJECTED, final_grade=""
    )
    submitted.refresh_from_db()
    return submitted


def state(*models):
    return [list(model.objects.order_by("pk").values()) for model in models]


# --- role matrices -------------------------------------------------------------------------


def test_pages_need_a_login(client, review):
    for url in [
        reverse("reviews:queue"),
        reverse("reviews:plan_list"),
        reverse("reviews:review_detail", args=[review.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_queue_and_plan_list_matrix(client_for, plan, role, unit):
    client = client_for(role, unit)

    assert client.get(reverse("reviews:queue")).status_code == 200
    response = client.get(reverse("reviews:plan_list"))
    assert response.status_code == 200
    assert (plan.name in response.content.decode()) is expect_plan(role, unit)


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_plan_pages_matrix(client_for, review, role, unit):
    client = client_for(role, unit)
    plan = review.plan
    expected = 200 if expect_plan(role, unit) else 404

    for name in ("plan_detail", "plan_report", "plan_report_xlsx"):
        assert (
            client.get(reverse(f"reviews:{name}", args=[plan.pk])).status_code
            == expected
        ), name


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_plan_create_matrix(client_for, role, unit):
    client = client_for(role, unit)
    may_create = role in {"case_manager", "chief", "admin"}
    data = {
        "name": "新计划",
        "unit": CITY,
        "kind": PlanKind.ROUTINE,
        "period_from": "2024-01-01",
        "period_to": "2024-12-31",
        "percentage": "10",
    }

    assert client.get(reverse("reviews:plan_create")).status_code == (
        200 if may_create else 404
    )
    response = client.post(reverse("reviews:plan_create"), data)

    created = ReviewPlan.objects.filter(name="新计划")
    if expect_plan(role, unit, "manage"):
        assert response.status_code == 302
        assert created.get().unit.code == CITY
    else:
        assert response.status_code == (400 if may_create else 404)
        assert not created.exists()


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_plan_draw_matrix(client_for, role, unit):
    closed_case(BASIC)
    plan = ReviewPlanFactory(unit_code=CITY)
    client = client_for(role, unit)

    response = client.post(reverse("reviews:plan_draw", args=[plan.pk]))

    plan.refresh_from_db()
    if expect_plan(role, unit, "manage"):
        assert response.status_code == 302
        assert plan.status == PlanStatus.DRAWN
        assert plan.plan_cases.count() == 1
    else:
        assert response.status_code == 404
        assert plan.status == PlanStatus.DRAFT
        assert not plan.plan_cases.exists()


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_plan_assign_matrix(client_for, plan, reviewer, role, unit):
    from jiancha.reviews.tests.factories import PlanCaseFactory

    PlanCaseFactory(plan=plan, case=closed_case(BASIC))
    client = client_for(role, unit)

    response = client.post(
        reverse("reviews:plan_assign", args=[plan.pk]), {"reviewers": [reviewer.pk]}
    )

    if expect_plan(role, unit, "manage"):
        assert response.status_code == 302
        assert Review.objects.filter(plan=plan, reviewer=reviewer).count() == 1
    else:
        assert response.status_code == 404
        assert not Review.objects.exists()


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_plan_close_matrix(client_for, submitted, role, unit):
    client = client_for(role, unit)

    response = client.post(reverse("reviews:plan_close", args=[submitted.plan_id]))

    status = ReviewPlan.objects.get(pk=submitted.plan_id).status
    if expect_plan(role, unit, "manage"):
        assert (response.status_code, status) == (302, PlanStatus.CLOSED)
    else:
        assert (response.status_code, status) == (404, PlanStatus.DRAWN)


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_review_pages_matrix(client_for, submitted, role, unit):
    client = client_for(role, unit)
    expected = 200 if expect_review(role, unit) else 404

    assert (
        client.get(reverse("reviews:review_detail", args=[submitted.pk])).status_code
        == expected
    )
    assert client.get(f"/api/v1/reviews/{submitted.pk}/").status_code == expected
    listed = [row["id"] for row in client.get("/api/v1/reviews/").json()["results"]]
    assert (submitted.pk in listed) is expect_review(role, unit)


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_submit_matrix(client_for, review, role, unit):
    client = client_for(role, unit)
    before = state(Review)

    response = client.post(
        reverse("reviews:review_detail", args=[review.pk]), review_form_data()
    )

    assert response.status_code == 404  # only the assigned reviewer may submit
    assert state(Review) == before


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_objection_matrix(client_for, submitted, role, unit):
    client = client_for(role, unit)
    before = state(Review, Objection)

    response = client.post(
        reverse("reviews:objection", args=[submitted.pk]), {"reason": "理由"}
    )

    assert response.status_code == 404  # only the handling procurator may object
    assert state(Review, Objection) == before


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_decision_matrix(client_for, objected, role, unit):
    client = client_for(role, unit)
    before = state(Review, Objection)

    response = client.post(
        reverse("reviews:decision", args=[objected.pk]),
        {"decision": "upheld", "reason": "维持"},
    )

    objected.refresh_from_db()
    if expect_review(role, unit, "decide"):
        assert response.status_code == 302
        assert (objected.status, objected.final_grade) == (
            ReviewStatus.DECIDED,
            "acceptable",
        )
    else:
        assert response.status_code == 404
        assert state(Review, Objection) == before


@pytest.mark.parametrize(("role", "unit"), MATRIX)
def test_case_pages_matrix(client_for, submitted, role, unit):
    client = client_for(role, unit)
    case_visible = may_see(role, unit, BASIC)

    for name in ("case_history", "case_report", "case_report_xlsx"):
        response = client.get(reverse(f"reviews:{name}", args=[submitted.case_id]))
        assert response.status_code == (200 if case_visible else 404), name
    if case_visible:
        response = client.get(reverse("reviews:case_history", args=[submitted.case_id]))
        assert (submitted.plan.name in response.content.decode()) is expect_review(
            role, unit
        )


# --- the paths of reviewer, handler and committee ------------------------------------------


def test_reviewer_submits_through_the_form(client, review, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("reviews:review_detail", args=[review.pk]))
    assert page.status_code == 200
    assert 'name="rating_fact_finding"' in page.content.decode()

    response = client.post(
        reverse("reviews:review_detail", args=[review.pk]),
        review_form_data(
            grade="flawed",
            rating_documents="defect",
            comment_documents="起诉书引用法条错误",
            findings="文书瑕疵。",
        ),
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.grade, review.final_grade) == (
        ReviewStatus.SUBMITTED,
        ReviewGrade.FLAWED,
        ReviewGrade.FLAWED,
    )
    assert review.scores["documents"] == {
        "rating": "defect",
        "comment": "起诉书引用法条错误",
    }


def test_refused_submission_shows_the_reason_and_writes_nothing(
    client, review, reviewer
):
    client.force_login(reviewer)
    before = state(Review)

    response = client.post(
        reverse("reviews:review_detail", args=[review.pk]),
        review_form_data(grade="failed"),
        headers=ENGLISH,
    )

    assert response.status_code == 400
    assert (
        "A flawed or failed grade needs written findings." in response.content.decode()
    )
    assert state(Review) == before


def test_handler_objects_and_committee_decides(client, submitted, handler, committee):
    client.force_login(handler)
    page = client.get(reverse("reviews:review_detail", args=[submitted.pk]))
    assert (
        f'action="{reverse("reviews:objection", args=[submitted.pk])}"'
        in page.content.decode()
    )

    assert (
        client.post(
            reverse("reviews:objection", args=[submitted.pk]), {"reason": "已依法告知"}
        ).status_code
        == 302
    )
    again = client.post(
        reverse("reviews:objection", args=[submitted.pk]), {"reason": "再次"}
    )
    assert again.status_code == 400
    assert Objection.objects.filter(review=submitted).count() == 1

    client.force_login(committee)
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert submitted.case.case_id in queue
    response = client.post(
        reverse("reviews:decision", args=[submitted.pk]),
        {"decision": "changed", "grade": "excellent", "reason": "改定"},
    )

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.status, submitted.final_grade) == (
        ReviewStatus.DECIDED,
        ReviewGrade.EXCELLENT,
    )


def test_queue_lists_open_assignments(client, review, reviewer):
    client.force_login(reviewer)

    content = client.get(reverse("reviews:queue")).content.decode()

    assert review.case.case_id in content
    assert reverse("reviews:review_detail", args=[review.pk]) in content


def test_supervisor_sees_the_case_anonymised(client, plan, case):
    supervisor = make_user(Role.SUPERVISOR, CITY, username="supervisor-view")
    review = ReviewFactory(plan=plan, case=case, reviewer=supervisor)
    client.force_login(supervisor)

    page = client.get(
        reverse("reviews:review_detail", args=[review.pk])
    ).content.decode()
    api = client.get(f"/api/v1/reviews/{review.pk}/").content.decode("utf-8")
    history = client.get(reverse("reviews:case_history", args=[case.pk]))

    assert "张**" in page
    assert "张三丰" not in page
    assert "张三丰" not in api
    assert history.status_code == 404  # no CaseGrant was made by the factory


def test_internal_reviewer_sees_the_names(client, review, reviewer):
    client.force_login(reviewer)

    assert (
        "张三丰"
        in client.get(
            reverse("reviews:review_detail", args=[review.pk])
        ).content.decode()
    )


def test_assigning_a_supervisor_opens_the_case_history_to_it(client, manager, plan):
    from jiancha.reviews.tests.factories import PlanCaseFactory

    case = closed_case(BASIC)
    PlanCaseFactory(plan=plan, case=case)
    supervisor = make_user(Role.SUPERVISOR, CITY, username="supervisor-assigned")
    client.force_login(manager)
    client.post(
        reverse("reviews:plan_assign", args=[plan.pk]), {"reviewers": [supervisor.pk]}
    )

    client.force_login(supervisor)
    response = client.get(reverse("reviews:case_history", args=[case.pk]))

    assert response.status_code == 200
    assert plan.name in response.content.decode()


# --- HTMX, reports, query budgets ----------------------------------------------------------


def test_case_history_fragment_for_htmx(client, submitted, committee):
    client.force_login(committee)

    response = client.get(
        reverse("reviews:case_history", args=[submitted.case_id]),
        headers={"HX-Request": "true"},
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="review-history"' in content
    assert "<html" not in content
    assert "HX-Request" in response["Vary"]


def test_plan_draw_with_htmx_answers_with_the_plan_body(client, manager):
    closed_case(BASIC)
    plan = ReviewPlanFactory(unit_code=CITY)
    client.force_login(manager)

    response = client.post(
        reverse("reviews:plan_draw", args=[plan.pk]),
        headers={"HX-Request": "true", **ENGLISH},
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="plan-body">')
    assert "1 case drawn." in content


def test_plan_page_lists_the_strata_by_unit_name_and_business_line(client, manager):
    """The draw per stratum reads as a table of unit names and business lines, not as
    stratum keys (``330106/ordinary_crime``)."""
    closed_case(BASIC)
    closed_case(BASIC)
    closed_case(BASIC, business_line=BusinessLine.CIVIL)
    plan = ReviewPlanFactory(unit_code=CITY)
    client.force_login(manager)
    client.post(reverse("reviews:plan_draw", args=[plan.pk]))

    response = client.get(
        reverse("reviews:plan_detail", args=[plan.pk]),
        headers={"Accept-Language": "zh-hans"},
    )
    rows = response.context["summary"].strata_rows
    basic = Unit.objects.get(code=BASIC)
    assert [(row.unit_code, row.unit_name, row.business_line) for row in rows] == [
        (BASIC, basic.name, "民事检察"),
        (BASIC, basic.name, "普通犯罪检察"),
    ]
    assert sum(row.drawn for row in rows) == response.context["summary"].drawn
    content = response.content.decode()
    assert f"{BASIC}/ordinary_crime" not in content
    assert "<td>普通犯罪检察</td>" in content


def test_plan_report_excel_has_one_row_per_review(client, manager, plan, reviewer):
    reviews = []
    for index, grade in enumerate(["excellent", "flawed", "flawed"]):
        review = ReviewFactory(
            plan=plan,
            case=closed_case(BASIC, closed_on=datetime.date(2024, 4, 1 + index)),
            reviewer=reviewer,
        )
        Review.objects.filter(pk=review.pk).update(
            status=ReviewStatus.SUBMITTED,
            scores=sound_scores(),
            grade=grade,
            final_grade=grade,
            findings="问题" if grade == "flawed" else "",
        )
        reviews.append(review)
    client.force_login(manager)

    response = client.get(
        reverse("reviews:plan_report_xlsx", args=[plan.pk]), headers=ENGLISH
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(
        io.BytesIO(b"".join(response.streaming_content)), read_only=True
    )
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 3
    assert sorted(row[header.index("Case number")] for row in body) == sorted(
        review.case.case_id for review in reviews
    )
    assert sorted(row[header.index("Final grade")] for row in body) == [
        "excellent",
        "flawed",
        "flawed",
    ]
    assert header.index("fact finding") > header.index("Objection")
    totals = dict(list(workbook.worksheets[1].iter_rows(values_only=True))[1:])
    assert totals == {"excellent": 1, "acceptable": 0, "flawed": 2, "failed": 0}


def test_case_report_page_is_printable(client, submitted, committee):
    client.force_login(committee)

    response = client.get(reverse("reviews:case_report", args=[submitted.case_id]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "@media print" in content
    assert submitted.plan.name in content
    assert "window.print()" in content


def test_queue_query_budget(client, django_assert_max_num_queries, plan, reviewer):
    for _ in range(15):
        ReviewFactory(plan=plan, case=closed_case(BASIC), reviewer=reviewer)
    client.force_login(reviewer)

    with django_assert_max_num_queries(12):
        assert client.get(reverse("reviews:queue")).status_code == 200


def test_plan_detail_query_budget(
    client, django_assert_max_num_queries, plan, reviewer, manager
):
    for _ in range(15):
        ReviewFactory(plan=plan, case=closed_case(BASIC), reviewer=reviewer)
    client.force_login(manager)

    with django_assert_max_num_queries(20):
        assert (
            client.get(reverse("reviews:plan_detail", args=[plan.pk])).status_code
            == 200
        )


def test_review_form_reads_well_in_chinese_and_english(client, review, reviewer):
    """The findings text field is 评查发现的问题 (not the count 问题数 of the quality
    tables), and a dimension's Chinese name is shown once in Chinese, beside the English
    name in English."""
    client.force_login(reviewer)
    url = reverse("reviews:review_detail", args=[review.pk])
    zh = client.get(url, headers={"Accept-Language": "zh-hans"}).content.decode()
    assert '">评查发现的问题</label>' in zh
    assert "问题数" not in zh
    assert zh.count("事实认定") == 1
    en = client.get(url, headers=ENGLISH).content.decode()
    assert '">Findings</label>' in en
    assert 'lang="zh-Hans">事实认定</span>' in en


def test_queue_sections_are_paged(client, monkeypatch, plan, reviewer):
    """Each section shows one page of its reviews, with links to the others; a section's
    links keep the other sections' pages, and a page out of range shows the nearest."""
    from jiancha.reviews import selectors

    reviews = [
        ReviewFactory(plan=plan, case=closed_case(BASIC), reviewer=reviewer)
        for _ in range(3)
    ]
    client.force_login(reviewer)
    url = reverse("reviews:queue")
    page = client.get(url, headers=ENGLISH)
    assert len(page.context["queue"].to_review) == 3
    assert 'rel="next"' not in page.content.decode()

    default = selectors.review_queue
    monkeypatch.setattr(
        "jiancha.reviews.views.review_queue",
        lambda *, user, pages: default(user=user, pages=pages, per_page=2),
    )
    page = client.get(url, {"done_page": "4"}, headers=ENGLISH)
    queue = page.context["queue"]
    assert [review.pk for review in queue.to_review] == [
        review.pk for review in reviews[:2]
    ]
    html = page.content.decode()
    assert "Reviews 1–2 of 3 · page 1 of 2" in html
    next_url = page.context["pagers"]["to_review"]["next_url"]
    assert next_url.startswith("?")
    assert next_url.endswith("#to-review-title")
    assert {"done_page=4", "to_review_page=2"} <= set(
        next_url[1:].split("#")[0].split("&")
    )
    assert 'rel="prev"' not in html

    second = client.get(url + next_url.split("#")[0], headers=ENGLISH)
    assert [review.pk for review in second.context["queue"].to_review] == [
        reviews[2].pk
    ]
    assert "Reviews 3–3 of 3 · page 2 of 2" in second.content.decode()
    assert 'rel="prev"' in second.content.decode()

    # Past either end: the last page; not a number: the first.
    for wrong, expected in (
        ("9", reviews[2:]),
        ("-1", reviews[2:]),
        ("x", reviews[:2]),
    ):
        shown = client.get(url, {"to_review_page": wrong}, headers=ENGLISH)
        assert [review.pk for review in shown.context["queue"].to_review] == [
            review.pk for review in expected
        ]
