"""Assignment with conflict-of-interest exclusion, the review workflow and its refusals
(issue 3 items 8-9). Every refusal is a ``BusinessError`` that leaves nothing written."""

import datetime
from collections import Counter

import pytest

from jiancha.accounts.choices import Role
from jiancha.accounts.models import Unit
from jiancha.cases.models import Case, CaseGrant
from jiancha.core.errors import BusinessError
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, OTHER_BASIC, SIBLING, make_user
from jiancha.reviews.choices import (
    ObjectionDecision,
    PlanKind,
    PlanStatus,
    ReviewGrade,
    ReviewStatus,
)
from jiancha.reviews.models import Objection, PlanCase, Review, ReviewPlan
from jiancha.reviews.selectors import settled_reviews
from jiancha.reviews.services import (
    objection_decide,
    objection_file,
    plan_close,
    plan_create,
    plan_draw,
    review_assign,
    review_submit,
)
from jiancha.reviews.tests.factories import (
    ReviewFactory,
    closed_case,
    drawn_plan,
    sound_scores,
    staff_user,
)

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything a refused service could have written."""
    return (
        list(Review.objects.order_by("pk").values()),
        list(Objection.objects.order_by("pk").values()),
        list(ReviewPlan.objects.order_by("pk").values()),
        PlanCase.objects.count(),
        CaseGrant.objects.count(),
        AuditEntry.objects.count(),
    )


def refused(call, **kwargs):
    """Run a service that must be refused; assert nothing was written."""
    before = snapshot()
    with pytest.raises(BusinessError) as error:
        call(**kwargs)
    assert snapshot() == before
    return error.value


def with_flaw(dimension="procedure", rating="defect"):
    scores = sound_scores()
    scores[dimension] = {"rating": rating, "comment": "未在三日内告知诉讼权利"}
    return scores


# --- assignment ----------------------------------------------------------------------------


def test_handling_procurator_never_reviews_own_case(manager, handler):
    colleague = staff_user(Role.PROCURATOR, BASIC, "P0002")
    cases = [closed_case(BASIC, procurator_id="P0001") for _ in range(5)]
    plan = drawn_plan(manager)

    reviews = review_assign(plan=plan, actor=manager, reviewers=[handler, colleague])

    assert len(reviews) == len(cases)
    assert {review.reviewer_id for review in reviews} == {colleague.pk}


def test_assignment_is_round_robin(manager):
    reviewers = [staff_user(Role.PROCURATOR, SIBLING, f"S{n}") for n in range(3)]
    for _ in range(10):
        closed_case(BASIC)
    plan = drawn_plan(manager)

    reviews = review_assign(plan=plan, actor=manager, reviewers=reviewers)

    loads = Counter(review.reviewer_id for review in reviews)
    assert set(loads) == {reviewer.pk for reviewer in reviewers}
    assert max(loads.values()) - min(loads.values()) <= 1


def test_cross_review_takes_reviewers_from_another_unit(manager):
    basic_reviewer = staff_user(Role.PROCURATOR, BASIC, "B0009")
    sibling_reviewer = staff_user(Role.PROCURATOR, SIBLING, "S0009")
    for unit_code in [BASIC, SIBLING] * 4:
        closed_case(unit_code)
    plan = drawn_plan(manager, cross_review=True)

    reviews = review_assign(
        plan=plan, actor=manager, reviewers=[basic_reviewer, sibling_reviewer]
    )

    assert len(reviews) == 8
    for review in Review.objects.filter(plan=plan).select_related("reviewer"):
        assert review.reviewer.unit_id != review.case_unit_id


def test_without_cross_review_a_reviewer_of_the_same_unit_is_allowed(manager):
    basic_reviewer = staff_user(Role.PROCURATOR, BASIC, "B0009")
    closed_case(BASIC)
    plan = drawn_plan(manager)

    reviews = review_assign(plan=plan, actor=manager, reviewers=[basic_reviewer])

    assert [review.reviewer_id for review in reviews] == [basic_reviewer.pk]


def test_no_eligible_reviewer_assigns_nothing(manager, handler):
    closed_case(BASIC, procurator_id="P0001")
    closed_case(BASIC, procurator_id="P0003")
    plan = drawn_plan(manager)

    error = refused(review_assign, plan=plan, actor=manager, reviewers=[handler])

    assert error.code == "no_eligible_reviewer"


def test_cross_review_with_reviewers_of_the_case_unit_only_is_refused(manager):
    closed_case(BASIC)
    plan = drawn_plan(manager, cross_review=True)

    refused(
        review_assign,
        plan=plan,
        actor=manager,
        reviewers=[staff_user(Role.PROCURATOR, BASIC, "B0001")],
    )


def test_reviewers_outside_the_plan_subtree_are_refused(manager):
    closed_case(BASIC)
    plan = drawn_plan(manager)

    refused(
        review_assign,
        plan=plan,
        actor=manager,
        reviewers=[staff_user(Role.PROCURATOR, OTHER_BASIC, "X1")],
    )
    refused(
        review_assign,
        plan=plan,
        actor=manager,
        reviewers=[make_user(Role.POLITICAL, BASIC, username="political")],
    )


def test_supervisor_gets_the_assigned_cases_and_only_those(manager):
    supervisor = make_user(Role.SUPERVISOR, CITY, username="people-supervisor")
    colleague = staff_user(Role.PROCURATOR, SIBLING, "S0001")
    for _ in range(4):
        closed_case(BASIC)
    plan = drawn_plan(manager)

    review_assign(plan=plan, actor=manager, reviewers=[supervisor, colleague])

    assigned = set(
        Review.objects.filter(reviewer=supervisor).values_list("case_id", flat=True)
    )
    assert len(assigned) == 2
    assert (
        set(Case.objects.visible_to(supervisor).values_list("id", flat=True))
        == assigned
    )
    assert (
        set(
            CaseGrant.objects.active()
            .filter(user=supervisor, reason="review")
            .values_list("case_id", flat=True)
        )
        == assigned
    )


def test_assigning_twice_adds_nothing(manager, reviewer):
    closed_case(BASIC)
    plan = drawn_plan(manager)
    review_assign(plan=plan, actor=manager, reviewers=[reviewer])

    assert review_assign(plan=plan, actor=manager, reviewers=[reviewer]) == []
    assert Review.objects.filter(plan=plan).count() == 1


def test_only_an_organiser_of_the_plan_unit_may_draw_and_assign(manager, reviewer):
    closed_case(BASIC)
    plan = drawn_plan(manager)
    draft = ReviewPlan.objects.create(
        unit=plan.unit,
        name="草案",
        kind=PlanKind.ROUTINE,
        period_from=plan.period_from,
        period_to=plan.period_to,
        percentage=10,
        seed=1,
    )
    for role, unit_code in [
        (Role.CASE_MANAGER, BASIC),
        (Role.DEPARTMENT_HEAD, CITY),
        (Role.PROCURATOR, CITY),
        (Role.SUPERVISOR, CITY),
    ]:
        actor = make_user(role, unit_code, username=f"{role}-{unit_code}-x")
        refused(review_assign, plan=plan, actor=actor, reviewers=[reviewer])
        refused(plan_draw, plan=draft, actor=actor)


# --- plan creation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": PlanKind.ROUTINE, "percentage": None},
        {"kind": PlanKind.ROUTINE, "percentage": 0},
        {"kind": PlanKind.ROUTINE, "percentage": 101},
        {"kind": PlanKind.THEMATIC},
        {"kind": PlanKind.KEY},
        {"kind": PlanKind.KEY, "criteria": ["no_such_criterion"]},
        {"kind": "other"},
        {"name": "  "},
        {"period_from": datetime.date(2025, 1, 1)},
        {"seed": -1},
    ],
)
def test_invalid_plans_are_refused(manager, overrides):
    arguments = {
        "actor": manager,
        "unit": Unit.objects.get(code=CITY),
        "name": "评查",
        "kind": PlanKind.ROUTINE,
        "period_from": datetime.date(2024, 1, 1),
        "period_to": datetime.date(2024, 12, 31),
        "percentage": 10,
        **overrides,
    }
    refused(plan_create, **arguments)


def test_plan_of_a_unit_outside_the_scope_is_refused(manager):
    refused(
        plan_create,
        actor=manager,
        unit=Unit.objects.get(code=OTHER_BASIC),
        name="评查",
        kind=PlanKind.ROUTINE,
        period_from=datetime.date(2024, 1, 1),
        period_to=datetime.date(2024, 12, 31),
        percentage=10,
    )


def test_plan_without_seed_gets_one(manager):
    plan = plan_create(
        actor=manager,
        unit=Unit.objects.get(code=CITY),
        name="评查",
        kind=PlanKind.ROUTINE,
        period_from=datetime.date(2024, 1, 1),
        period_to=datetime.date(2024, 12, 31),
        percentage=10,
    )
    assert plan.seed >= 0
    assert AuditEntry.objects.filter(
        verb="reviews.plan.create", target_id=str(plan.pk)
    ).exists()


# --- the workflow --------------------------------------------------------------------------


def test_whole_workflow_from_assignment_to_final_grade(
    manager, handler, reviewer, committee, case
):
    plan = drawn_plan(manager)
    [review] = review_assign(plan=plan, actor=manager, reviewers=[reviewer, handler])
    assert review.reviewer_id == reviewer.pk
    assert review.status == ReviewStatus.ASSIGNED

    review = review_submit(
        review=review,
        actor=reviewer,
        scores=with_flaw(),
        findings="告知程序存在瑕疵。",
        grade=ReviewGrade.ACCEPTABLE,
    )
    assert (review.status, review.grade, review.final_grade) == (
        ReviewStatus.SUBMITTED,
        "acceptable",
        "acceptable",
    )

    objection = objection_file(
        review=review, actor=handler, reason="已当日口头告知，有笔录为证。"
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.OBJECTED
    assert review.final_grade == ""
    assert objection.filed_by_id == handler.pk

    objection = objection_decide(
        review=review,
        actor=committee,
        decision=ObjectionDecision.CHANGED,
        grade=ReviewGrade.EXCELLENT,
        reason="笔录证明已依法告知。",
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.DECIDED
    assert review.grade == ReviewGrade.ACCEPTABLE  # the reviewer's grade is kept
    assert review.final_grade == ReviewGrade.EXCELLENT
    assert objection.decided_grade == ReviewGrade.EXCELLENT
    assert list(settled_reviews(procurator_id="P0001")) == [review]

    plan_close(plan=plan, actor=manager)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CLOSED
    verbs = list(
        AuditEntry.objects.filter(verb__startswith="reviews.")
        .order_by("sequence")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "reviews.plan.create",
        "reviews.plan.draw",
        "reviews.review.assign",
        "reviews.review.submit",
        "reviews.objection.file",
        "reviews.objection.decide",
        "reviews.plan.close",
    ]


def test_upheld_objection_keeps_the_reviewer_grade(
    review, reviewer, handler, committee
):
    review_submit(
        review=review,
        actor=reviewer,
        scores=with_flaw(rating="failure"),
        findings="证据不足。",
        grade=ReviewGrade.FAILED,
    )
    objection_file(review=review, actor=handler, reason="理由")

    objection_decide(
        review=review, actor=committee, decision=ObjectionDecision.UPHELD, reason="维持"
    )

    review.refresh_from_db()
    assert review.final_grade == ReviewGrade.FAILED


def test_submitted_review_is_settled_only_once_the_plan_closes(
    review, reviewer, manager
):
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    assert list(settled_reviews()) == []

    plan_close(plan=review.plan, actor=manager)

    assert list(settled_reviews()) == [review]


# --- refusals ------------------------------------------------------------------------------


def test_submit_by_someone_other_than_the_reviewer_is_refused(
    review, handler, committee
):
    other = staff_user(Role.PROCURATOR, SIBLING, "S0099")
    for actor in (other, handler, committee):
        error = refused(
            review_submit,
            review=review,
            actor=actor,
            scores=sound_scores(),
            findings="",
            grade=ReviewGrade.EXCELLENT,
        )
        assert error.code == "forbidden"


def test_submitting_twice_is_refused(review, reviewer):
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )

    refused(
        review_submit,
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.FLAWED,
    )


@pytest.mark.parametrize(
    ("scores", "findings", "grade"),
    [
        pytest.param(
            {**sound_scores(), "procedure": {"rating": "", "comment": ""}},
            "",
            "excellent",
            id="unrated-dimension",
        ),
        pytest.param(
            {**sound_scores(), "unknown": {"rating": "sound", "comment": ""}},
            "",
            "excellent",
            id="unknown-dimension",
        ),
        pytest.param(
            {**sound_scores(), "evidence": {"rating": "defect", "comment": ""}},
            "x",
            "acceptable",
            id="defect-without-comment",
        ),
        pytest.param(
            with_flaw(rating="defect"),
            "x",
            "excellent",
            id="grade-better-than-a-defect",
        ),
        pytest.param(
            with_flaw(rating="failure"),
            "x",
            "acceptable",
            id="grade-better-than-a-failure",
        ),
        pytest.param(sound_scores(), "", "flawed", id="flawed-without-findings"),
        pytest.param(sound_scores(), "", "perfect", id="unknown-grade"),
    ],
)
def test_invalid_reviews_are_refused(review, reviewer, scores, findings, grade):
    refused(
        review_submit,
        review=review,
        actor=reviewer,
        scores=scores,
        findings=findings,
        grade=grade,
    )


def test_objection_before_submission_is_refused(review, handler):
    error = refused(objection_file, review=review, actor=handler, reason="理由")
    assert error.code == "invalid_state"


def test_objection_by_someone_else_is_refused(review, reviewer, committee):
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    namesake = staff_user(
        Role.PROCURATOR, SIBLING, "P0001"
    )  # same staff number, other unit
    colleague = staff_user(Role.PROCURATOR, BASIC, "P0002")
    chief = make_user(Role.CHIEF, BASIC, username="basic-chief")
    for actor in (reviewer, committee, namesake, colleague, chief):
        error = refused(objection_file, review=review, actor=actor, reason="理由")
        assert error.code == "forbidden"


def test_second_objection_is_refused(review, reviewer, handler, committee):
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    objection_file(review=review, actor=handler, reason="理由")

    refused(objection_file, review=review, actor=handler, reason="再次")
    objection_decide(
        review=review, actor=committee, decision=ObjectionDecision.UPHELD, reason="维持"
    )
    refused(objection_file, review=review, actor=handler, reason="决定之后")


def test_objection_without_reason_or_after_closing_is_refused(
    review, reviewer, handler, manager
):
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    refused(objection_file, review=review, actor=handler, reason="  ")

    plan_close(plan=review.plan, actor=manager)

    refused(objection_file, review=review, actor=handler, reason="理由")


def test_decision_by_outsiders_is_refused(review, reviewer, handler):
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    objection_file(review=review, actor=handler, reason="理由")
    actors = [
        reviewer,
        handler,
        make_user(Role.CHIEF, BASIC, username="basic-chief"),  # below the plan's unit
        make_user(Role.CHIEF, SIBLING, username="sibling-chief"),
        make_user(Role.ADMIN, "000000", username="root-admin"),
        make_user(Role.PROCURATOR, CITY, username="city-procurator"),
        make_user(Role.POLITICAL, CITY, username="city-political"),
    ]
    for actor in actors:
        refused(
            objection_decide,
            review=review,
            actor=actor,
            decision=ObjectionDecision.UPHELD,
            reason="维持",
        )


def test_committee_member_who_reviewed_the_case_may_not_decide(plan, case, handler):
    head = staff_user(Role.DEPARTMENT_HEAD, CITY, "C0001")
    review = ReviewFactory(plan=plan, case=case, reviewer=head)
    review_submit(
        review=review,
        actor=head,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    objection_file(review=review, actor=handler, reason="理由")

    refused(
        objection_decide,
        review=review,
        actor=head,
        decision=ObjectionDecision.UPHELD,
        reason="维持",
    )


@pytest.mark.parametrize(
    ("decision", "grade", "reason"),
    [
        ("changed", "", "理由"),
        ("changed", "excellent", "理由"),
        ("upheld", "", " "),
        ("maybe", "", "理由"),
    ],
)
def test_invalid_decisions_are_refused(
    review, reviewer, handler, committee, decision, grade, reason
):
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    objection_file(review=review, actor=handler, reason="理由")

    refused(
        objection_decide,
        review=review,
        actor=committee,
        decision=decision,
        grade=grade,
        reason=reason,
    )


def test_deciding_without_a_pending_objection_is_refused(review, reviewer, committee):
    refused(
        objection_decide,
        review=review,
        actor=committee,
        decision=ObjectionDecision.UPHELD,
        reason="维持",
    )
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    refused(
        objection_decide,
        review=review,
        actor=committee,
        decision=ObjectionDecision.UPHELD,
        reason="维持",
    )


def test_closing_with_open_reviews_is_refused(review, reviewer, handler, manager):
    refused(plan_close, plan=review.plan, actor=manager)
    review_submit(
        review=review,
        actor=reviewer,
        scores=sound_scores(),
        findings="",
        grade=ReviewGrade.EXCELLENT,
    )
    objection_file(review=review, actor=handler, reason="理由")

    refused(plan_close, plan=review.plan, actor=manager)


def test_closing_with_unassigned_cases_is_refused(manager):
    closed_case(BASIC)
    plan = drawn_plan(manager)

    refused(plan_close, plan=plan, actor=manager)
