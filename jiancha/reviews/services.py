"""Writing review plans and reviews: the workflow of manual case review (人工评查).

plan_create → plan_draw → review_assign → review_submit → (objection_file →
objection_decide) → plan_close. Every service is keyword-only, checks who may act and
raises ``BusinessError`` for a rule violation before anything is written, and records an
audit entry (STYLE.md §3).
"""

import datetime
import secrets
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jiancha.accounts.choices import Role
from jiancha.accounts.models import Unit, User
from jiancha.cases.choices import GrantReason
from jiancha.cases.models import Case
from jiancha.cases.services import case_grants_create, case_grants_revoke
from jiancha.core.audit import audit_record
from jiancha.core.errors import BusinessError
from jiancha.reviews.access import (
    is_handling_procurator,
    may_decide,
    may_manage_plan_unit,
)
from jiancha.reviews.choices import (
    REVIEWER_ROLES,
    DimensionRating,
    ObjectionDecision,
    PlanKind,
    PlanStatus,
    ReviewGrade,
    ReviewStatus,
)
from jiancha.reviews.criteria import CRITERION_IDS
from jiancha.reviews.dimensions import DIMENSION_IDS
from jiancha.reviews.models import Objection, PlanCase, Review, ReviewPlan
from jiancha.reviews.selectors import grade_allowed, plan_draw_compute

MAX_SEED = 2**53  # fits a JSON number and a PostgreSQL bigint


def _require_manager(actor: Any, unit: Unit) -> None:
    if not may_manage_plan_unit(actor, unit):
        raise BusinessError(
            _("You may not organise review plans of this unit."), code="forbidden"
        )


@transaction.atomic
def plan_create(
    *,
    actor: User,
    unit: Unit,
    name: str,
    kind: str,
    period_from: datetime.date,
    period_to: datetime.date,
    percentage: Decimal | int | None = None,
    business_line: str = "",
    charge: str = "",
    criteria: Iterable[str] = (),
    seed: int | None = None,
    cross_review: bool = False,
) -> ReviewPlan:
    """Create a draft plan. Routine sampling needs a percentage; thematic review a business
    line or a charge; key-case review at least one criterion. Without a seed one is chosen
    at random and stored, so the draw can be repeated and checked."""
    _require_manager(actor, unit)
    name = (name or "").strip()
    if not name:
        raise BusinessError(_("Give the plan a name."), code="invalid")
    if kind not in PlanKind.values:
        raise BusinessError(
            _("Unknown plan kind “%(kind)s”.") % {"kind": kind}, code="invalid"
        )
    if period_from > period_to:
        raise BusinessError(_("The period ends before it starts."), code="invalid")
    criteria = list(dict.fromkeys(criteria))
    unknown = [item for item in criteria if item not in CRITERION_IDS]
    if unknown:
        raise BusinessError(
            _("Unknown key-case criteria: %(criteria)s.")
            % {"criteria": ", ".join(unknown)},
            code="invalid",
        )
    if kind == PlanKind.ROUTINE:
        if percentage is None or not 0 < Decimal(percentage) <= 100:
            raise BusinessError(
                _("Routine sampling needs a percentage above 0 and at most 100."),
                code="invalid",
            )
        business_line, charge, criteria = "", "", []
    elif kind == PlanKind.THEMATIC:
        if not (business_line or charge):
            raise BusinessError(
                _("A thematic review needs a business line or a charge."),
                code="invalid",
            )
        percentage = Decimal(100) if percentage is None else Decimal(percentage)
        if not 0 < percentage <= 100:
            raise BusinessError(
                _("The percentage must be above 0 and at most 100."), code="invalid"
            )
        criteria = []
    else:
        if not criteria:
            raise BusinessError(
                _("A key-case review needs at least one criterion."), code="invalid"
            )
        percentage, business_line, charge = Decimal(100), "", ""
    if seed is None:
        seed = secrets.randbelow(MAX_SEED)
    elif not 0 <= seed < MAX_SEED:
        raise BusinessError(
            _("The seed must be a whole number from 0 to %(max)s.")
            % {"max": MAX_SEED - 1},
            code="invalid",
        )
    plan = ReviewPlan(
        unit=unit,
        name=name[:120],
        kind=kind,
        period_from=period_from,
        period_to=period_to,
        percentage=Decimal(percentage),
        business_line=business_line,
        charge=charge.strip(),
        criteria=criteria,
        seed=seed,
        cross_review=cross_review,
        created_by=actor,
    )
    plan.full_clean()
    plan.save()
    audit_record(
        actor=actor,
        verb="reviews.plan.create",
        target=plan,
        details={"kind": kind, "unit": unit.code, "seed": seed},
    )
    return plan


@transaction.atomic
def plan_draw(*, plan: ReviewPlan, actor: User) -> list[PlanCase]:
    """Draw the plan's cases (stratified by unit × business line, seeded); idempotent: a plan
    that has drawn keeps its cases and drawing again returns them unchanged."""
    plan = ReviewPlan.objects.select_for_update().select_related("unit").get(pk=plan.pk)
    _require_manager(actor, plan.unit)
    if plan.status != PlanStatus.DRAFT:
        return list(plan.plan_cases.select_related("case").order_by("position"))
    draw = plan_draw_compute(plan, actor=actor)
    plan_cases = PlanCase.objects.bulk_create(
        [
            PlanCase(
                plan=plan,
                case_id=item.case_pk,
                position=position,
                stratum=item.stratum,
                reasons=list(item.reasons),
            )
            for position, item in enumerate(draw.cases, start=1)
        ]
    )
    plan.status = PlanStatus.DRAWN
    plan.candidate_count = draw.candidates
    plan.drawn_at = timezone.now()
    plan.drawn_by = actor
    plan.save(
        update_fields=[
            "status",
            "candidate_count",
            "drawn_at",
            "drawn_by",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        verb="reviews.plan.draw",
        target=plan,
        details={
            "seed": plan.seed,
            "candidates": draw.candidates,
            "drawn": len(draw.cases),
            "strata": {row.stratum: [row.candidates, row.drawn] for row in draw.strata},
        },
    )
    return plan_cases


def _identity(user: User) -> tuple[int, str] | None:
    staff = user.staff if user.staff_id else None
    return (staff.unit_id, staff.staff_number) if staff is not None else None


def _eligible(
    reviewer: User, case: Case, identity: tuple[int, str] | None, *, cross_review: bool
) -> bool:
    """Conflict of interest: never the handling procurator; in a cross-review, never a
    reviewer of the case's own unit."""
    if identity is not None and identity == (case.unit_id, case.procurator_id):
        return False
    return not (cross_review and reviewer.unit_id == case.unit_id)


def _check_reviewer_pool(plan: ReviewPlan, reviewers: Sequence[User]) -> list[User]:
    pool = sorted(
        {reviewer.pk: reviewer for reviewer in reviewers}.values(),
        key=lambda user: user.pk,
    )
    if not pool:
        raise BusinessError(_("Choose at least one reviewer."), code="invalid")
    for reviewer in pool:
        allowed_role = (
            reviewer.role in REVIEWER_ROLES or reviewer.role == Role.SUPERVISOR
        )
        if not (
            reviewer.is_active and allowed_role and reviewer.unit.is_within(plan.unit)
        ):
            raise BusinessError(
                _("%(name)s cannot review cases of this plan.")
                % {"name": str(reviewer)},
                code="invalid",
            )
    return pool


@transaction.atomic
def review_assign(
    *, plan: ReviewPlan, actor: User, reviewers: Sequence[User]
) -> list[Review]:
    """Assign every drawn case that has no review yet, round-robin over ``reviewers``.

    Each case goes to the next reviewer in turn who has no conflict with it (see
    ``_eligible``). Every reviewer is granted its cases (``cases.CaseGrant``, reason
    ``review``, reference :func:`plan_reference`), so that the case access path lets a
    reviewer from another unit or a people's supervisor (names masked) open the case page;
    the grants last until the plan is closed (objections need the case reread). If some
    case has no eligible reviewer, nothing is assigned.
    """
    plan = ReviewPlan.objects.select_for_update().select_related("unit").get(pk=plan.pk)
    _require_manager(actor, plan.unit)
    if plan.status != PlanStatus.DRAWN:
        raise BusinessError(
            _("Only a drawn plan that is not closed can be assigned."),
            code="invalid_state",
        )
    pool = _check_reviewer_pool(plan, reviewers)
    identities = {reviewer.pk: _identity(reviewer) for reviewer in pool}
    assigned = set(plan.reviews.values_list("case_id", flat=True))
    plan_cases = [
        item
        for item in plan.plan_cases.select_related("case").order_by("position")
        if item.case_id not in assigned
    ]
    turn = 0
    choices: list[tuple[Case, User]] = []
    unassignable: list[str] = []
    for plan_case in plan_cases:
        case = plan_case.case
        for offset in range(len(pool)):
            reviewer = pool[(turn + offset) % len(pool)]
            if _eligible(
                reviewer, case, identities[reviewer.pk], cross_review=plan.cross_review
            ):
                choices.append((case, reviewer))
                turn = (turn + offset + 1) % len(pool)
                break
        else:
            unassignable.append(case.case_id)
    if unassignable:
        raise BusinessError(
            ngettext(
                "No eligible reviewer for %(count)s case (%(cases)s): add reviewers from other units or who did not handle it.",
                "No eligible reviewer for %(count)s cases (e.g. %(cases)s): add reviewers from other units or who did not handle them.",
                len(unassignable),
            )
            % {"count": len(unassignable), "cases": "、".join(unassignable[:3])},
            code="no_eligible_reviewer",
        )
    reviews = Review.objects.bulk_create(
        [
            Review(
                plan=plan,
                case=case,
                case_unit_id=case.unit_id,
                procurator_id=case.procurator_id,
                reviewer=reviewer,
                assigned_by=actor,
            )
            for case, reviewer in choices
        ]
    )
    case_grants_create(
        grants=choices,
        reason=GrantReason.REVIEW,
        reference=plan_reference(plan),
        granted_by=actor,
    )
    audit_record(
        actor=actor,
        verb="reviews.review.assign",
        target=plan,
        details={
            "reviews": len(reviews),
            "reviewers": [reviewer.pk for reviewer in pool],
        },
    )
    return reviews


def plan_reference(plan: ReviewPlan) -> str:
    """The reference of the case grants a plan's reviews hold (``cases.CaseGrant``)."""
    return f"reviews.plan:{plan.pk}"


@transaction.atomic
def review_reassign(*, review: Review, actor: User, reviewer: User) -> Review:
    """Give a review not yet submitted to another reviewer: the organiser's rules and the
    conflict-of-interest exclusion of :func:`review_assign` apply. The previous reviewer's
    grant of the case is revoked, the new one's created."""
    review = _lock_review(review)
    plan = review.plan
    _require_manager(actor, plan.unit)
    if plan.status != PlanStatus.DRAWN or review.status != ReviewStatus.ASSIGNED:
        raise BusinessError(
            _(
                "Only a review not yet submitted, in a plan not closed, can be reassigned."
            ),
            code="invalid_state",
        )
    (reviewer,) = _check_reviewer_pool(plan, [reviewer])
    case = review.case
    if reviewer.pk == review.reviewer_id or not _eligible(
        reviewer, case, _identity(reviewer), cross_review=plan.cross_review
    ):
        raise BusinessError(
            _("%(name)s cannot review this case.") % {"name": str(reviewer)},
            code="invalid",
        )
    previous = review.reviewer
    review.reviewer = reviewer
    review.save(update_fields=["reviewer", "updated_at"])
    reference = plan_reference(plan)
    # One review per plan and case: the previous reviewer's grant for this plan ends.
    case_grants_revoke(
        reason=GrantReason.REVIEW,
        reference=reference,
        case=case,
        user=previous,
        revoked_by=actor,
    )
    case_grants_create(
        grants=[(case, reviewer)],
        reason=GrantReason.REVIEW,
        reference=reference,
        granted_by=actor,
    )
    audit_record(
        actor=actor,
        verb="reviews.review.reassign",
        target=review,
        details={"from": previous.pk, "to": reviewer.pk},
    )
    return review


def _require_open_plan(plan: ReviewPlan) -> None:
    if plan.status == PlanStatus.CLOSED:
        raise BusinessError(_("The plan is closed."), code="invalid_state")
    if plan.status == PlanStatus.CANCELLED:
        raise BusinessError(_("The plan is cancelled."), code="invalid_state")


def _lock_review(review: Review) -> Review:
    return (
        Review.objects.select_for_update()
        .select_related("plan", "plan__unit")
        .get(pk=review.pk)
    )


def _clean_scores(scores: dict[str, Any]) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    missing = []
    for dimension_id in DIMENSION_IDS:
        value = scores.get(dimension_id) or {}
        rating = str(value.get("rating", "")).strip()
        comment = str(value.get("comment", "")).strip()
        if rating not in DimensionRating.values:
            missing.append(dimension_id)
            continue
        if rating in {DimensionRating.DEFECT, DimensionRating.FAILURE} and not comment:
            raise BusinessError(
                _(
                    "Say what the problem is for every dimension rated defect or failure (%(dimension)s)."
                )
                % {"dimension": dimension_id},
                code="invalid",
            )
        cleaned[dimension_id] = {"rating": rating, "comment": comment[:2000]}
    if missing:
        raise BusinessError(
            _("Rate every dimension (missing: %(dimensions)s).")
            % {"dimensions": ", ".join(missing)},
            code="invalid",
        )
    unknown = sorted(set(scores) - set(DIMENSION_IDS))
    if unknown:
        raise BusinessError(
            _("Unknown dimensions: %(dimensions)s.")
            % {"dimensions": ", ".join(unknown)},
            code="invalid",
        )
    return cleaned


@transaction.atomic
def review_submit(
    *, review: Review, actor: User, scores: dict[str, Any], findings: str, grade: str
) -> Review:
    """The reviewer submits ratings on every dimension, findings and a grade. The grade may
    not be better than the ratings allow (a failure caps it at flawed, a defect at
    acceptable), and a flawed or failed grade needs written findings."""
    review = _lock_review(review)
    if review.reviewer_id != actor.pk:
        raise BusinessError(
            _("Only the assigned reviewer may submit this review."), code="forbidden"
        )
    if review.status != ReviewStatus.ASSIGNED:
        raise BusinessError(
            _("This review has already been submitted."), code="invalid_state"
        )
    _require_open_plan(review.plan)
    cleaned = _clean_scores(scores)
    if grade not in ReviewGrade.values:
        raise BusinessError(_("Choose a grade."), code="invalid")
    if not grade_allowed(grade, cleaned):
        raise BusinessError(
            _("The grade is better than the ratings allow."), code="invalid"
        )
    findings = (findings or "").strip()
    if grade in {ReviewGrade.FLAWED, ReviewGrade.FAILED} and not findings:
        raise BusinessError(
            _("A flawed or failed grade needs written findings."), code="invalid"
        )
    review.scores = cleaned
    review.findings = findings
    review.grade = grade
    review.final_grade = grade
    review.status = ReviewStatus.SUBMITTED
    review.submitted_at = timezone.now()
    review.save(
        update_fields=[
            "scores",
            "findings",
            "grade",
            "final_grade",
            "status",
            "submitted_at",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        verb="reviews.review.submit",
        target=review,
        details={"grade": grade},
    )
    return review


@transaction.atomic
def objection_file(*, review: Review, actor: User, reason: str) -> Objection:
    """The handling procurator objects (异议) to a submitted review, once, before the plan
    closes. The final grade is withheld until the committee decides."""
    review = _lock_review(review)
    if not is_handling_procurator(actor, review):
        raise BusinessError(
            _("Only the procurator who handled the case may object."), code="forbidden"
        )
    if Objection.objects.filter(review=review).exists():
        raise BusinessError(
            _("An objection to this review has already been filed."),
            code="invalid_state",
        )
    if review.status != ReviewStatus.SUBMITTED:
        raise BusinessError(
            _("An objection can only be filed after the review is submitted."),
            code="invalid_state",
        )
    _require_open_plan(review.plan)
    reason = (reason or "").strip()
    if not reason:
        raise BusinessError(_("Give the reasons for the objection."), code="invalid")
    objection = Objection.objects.create(
        review=review, filed_by=actor, reason=reason, filed_at=timezone.now()
    )
    review.status = ReviewStatus.OBJECTED
    review.final_grade = ""
    review.save(update_fields=["status", "final_grade", "updated_at"])
    audit_record(actor=actor, verb="reviews.objection.file", target=review)
    return objection


@transaction.atomic
def objection_decide(
    *, review: Review, actor: User, decision: str, reason: str, grade: str = ""
) -> Objection:
    """The committee upholds the grade or changes it; the result is the final grade."""
    review = _lock_review(review)
    if not may_decide(actor, review):
        raise BusinessError(
            _("You may not decide objections to this review."), code="forbidden"
        )
    if review.status != ReviewStatus.OBJECTED:
        raise BusinessError(
            _("There is no pending objection to this review."), code="invalid_state"
        )
    _require_open_plan(review.plan)
    objection = Objection.objects.select_for_update().get(review=review)
    reason = (reason or "").strip()
    if not reason:
        raise BusinessError(_("Give the reasons for the decision."), code="invalid")
    if decision == ObjectionDecision.UPHELD:
        final = review.grade
    elif decision == ObjectionDecision.CHANGED:
        if grade not in ReviewGrade.values:
            raise BusinessError(
                _("Choose the grade the committee decided."), code="invalid"
            )
        if grade == review.grade:
            raise BusinessError(
                _("The decided grade is the reviewer's grade: uphold it instead."),
                code="invalid",
            )
        final = grade
    else:
        raise BusinessError(_("Choose a decision."), code="invalid")
    now = timezone.now()
    objection.decision = decision
    objection.decided_grade = final
    objection.decision_reason = reason
    objection.decided_by = actor
    objection.decided_at = now
    objection.save(
        update_fields=[
            "decision",
            "decided_grade",
            "decision_reason",
            "decided_by",
            "decided_at",
        ]
    )
    review.status = ReviewStatus.DECIDED
    review.final_grade = final
    review.save(update_fields=["status", "final_grade", "updated_at"])
    audit_record(
        actor=actor,
        verb="reviews.objection.decide",
        target=review,
        details={"decision": decision, "final_grade": final},
    )
    return objection


@transaction.atomic
def plan_close(*, plan: ReviewPlan, actor: User) -> ReviewPlan:
    """Close a plan whose drawn cases are all reviewed and whose objections are decided;
    the final grades are then settled for appraisal."""
    plan = ReviewPlan.objects.select_for_update().select_related("unit").get(pk=plan.pk)
    _require_manager(actor, plan.unit)
    if plan.status != PlanStatus.DRAWN:
        raise BusinessError(_("Only a drawn plan can be closed."), code="invalid_state")
    if plan.plan_cases.exclude(case_id__in=plan.reviews.values("case_id")).exists():
        raise BusinessError(
            _("Some drawn cases have no reviewer yet."), code="invalid_state"
        )
    if plan.reviews.filter(
        status__in=[ReviewStatus.ASSIGNED, ReviewStatus.OBJECTED]
    ).exists():
        raise BusinessError(
            _("Some reviews are not submitted or have an objection pending."),
            code="invalid_state",
        )
    plan.status = PlanStatus.CLOSED
    plan.closed_at = timezone.now()
    plan.save(update_fields=["status", "closed_at", "updated_at"])
    # The objection window has closed: the reviewers' access to the cases ends.
    case_grants_revoke(
        reason=GrantReason.REVIEW, reference=plan_reference(plan), revoked_by=actor
    )
    audit_record(actor=actor, verb="reviews.plan.close", target=plan)
    return plan


@transaction.atomic
def plan_cancel(*, plan: ReviewPlan, actor: User, reason: str) -> ReviewPlan:
    """Cancel (撤销) a plan that is not closed, giving the reason: its reviews can no longer
    be submitted, objected to or decided, none of them counts for appraisal, and the
    reviewers' access to the cases ends. The drawn cases and reviews stay on record."""
    plan = ReviewPlan.objects.select_for_update().select_related("unit").get(pk=plan.pk)
    _require_manager(actor, plan.unit)
    if plan.status not in {PlanStatus.DRAFT, PlanStatus.DRAWN}:
        raise BusinessError(
            _("Only a plan not yet closed can be cancelled."), code="invalid_state"
        )
    reason = (reason or "").strip()
    if not reason:
        raise BusinessError(_("Give the reason for cancelling."), code="invalid")
    if len(reason) > 2000:
        raise BusinessError(
            _("The reason may have at most 2,000 characters."), code="invalid"
        )
    previous = plan.status
    plan.status = PlanStatus.CANCELLED
    plan.cancelled_at = timezone.now()
    plan.cancel_reason = reason
    plan.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    revoked = case_grants_revoke(
        reason=GrantReason.REVIEW, reference=plan_reference(plan), revoked_by=actor
    )
    audit_record(
        actor=actor,
        verb="reviews.plan.cancel",
        target=plan,
        details={"from": previous, "reason": reason, "grants_revoked": revoked},
    )
    return plan
