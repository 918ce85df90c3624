"""Reading review plans and reviews: the draw, queues, histories and report rows.

Lists start from ``ReviewPlan.objects.visible_to`` / ``Review.objects.visible_to`` (the one
access path, ``access.py``); candidate cases come from ``Case.objects.visible_to``.
"""

import datetime
import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils.translation import get_language

from jiancha.accounts.choices import BusinessLine
from jiancha.accounts.models import Unit, User
from jiancha.cases.access import mask_names, masked_name, names_hidden_for
from jiancha.cases.choices import EventType
from jiancha.cases.models import Case, CaseCharge
from jiancha.cases.selectors import case_events, case_persons
from jiancha.reviews.choices import (
    GRADE_RANK,
    REVIEWER_ROLES,
    PlanKind,
    PlanStatus,
    ReviewGrade,
    ReviewStatus,
)
from jiancha.reviews.criteria import criterion_for
from jiancha.reviews.models import PlanCase, Review, ReviewPlan

# --- the draw ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawnCase:
    """One case a plan draws: its primary key, stratum and (key-case review) criteria met."""

    case_pk: int
    case_number: str
    stratum: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class StratumCount:
    stratum: str
    candidates: int
    drawn: int


@dataclass
class Draw:
    """What a plan draws: the cases, in draw order, and the count per stratum."""

    candidates: int
    cases: list[DrawnCase] = field(default_factory=list)
    strata: list[StratumCount] = field(default_factory=list)


def sample_size(count: int, percentage: Decimal) -> int:
    """How many of ``count`` cases a percentage draws: rounded half up, at least one case
    from a non-empty stratum when the percentage is above zero, never more than ``count``."""
    if count <= 0 or percentage <= 0:
        return 0
    size = int(
        (Decimal(count) * Decimal(percentage) / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )
    return min(count, max(1, size))


def stratum_key(unit_code: str, business_line: str) -> str:
    return f"{unit_code}/{business_line}"


def plan_candidates(plan: ReviewPlan, *, actor: Any) -> QuerySet[Case]:
    """Closed cases of the plan's unit subtree in its period (and, for a thematic plan, of
    its business line and charge), through the case access path."""
    cases = Case.objects.visible_to(actor).filter(
        unit__path__startswith=plan.unit.path,
        closed_on__gte=plan.period_from,
        closed_on__lte=plan.period_to,
    )
    if plan.kind == PlanKind.THEMATIC:
        if plan.business_line:
            cases = cases.filter(business_line=plan.business_line)
        if plan.charge:
            cases = cases.filter(
                id__in=CaseCharge.objects.filter(charge=plan.charge).values("case_id")
            )
    return cases


def key_case_reasons(
    plan: ReviewPlan, cases: QuerySet[Case], *, actor: Any
) -> dict[int, list[str]]:
    """For each case meeting at least one of the plan's criteria, the criteria it meets."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for criterion_id in plan.criteria:
        criterion = criterion_for(criterion_id)
        if criterion is None:
            continue
        for pk in criterion.pick(cases, plan, actor).values_list("id", flat=True):
            reasons[pk].append(criterion_id)
    return dict(reasons)


def plan_draw_compute(plan: ReviewPlan, *, actor: Any) -> Draw:
    """Compute (without writing) the cases the plan draws.

    Candidates are grouped into strata of unit × business line. In each stratum the cases
    are ordered by case number (a property of the data, not of the database), and a
    ``random.Random`` seeded with the plan's seed and the stratum draws the share the plan
    asks for. So the same plan over the same cases always draws the same cases, and a
    change in one stratum never changes the draw in another. Key-case review takes every
    case meeting a criterion.
    """
    candidates = plan_candidates(plan, actor=actor)
    # Only the columns the draw needs, read once (no model instances, no long IN lists).
    rows = list(candidates.values_list("id", "case_id", "unit__code", "business_line"))
    candidate_count = len(rows)
    reasons: dict[int, list[str]] = {}
    if plan.kind == PlanKind.KEY:
        reasons = key_case_reasons(plan, candidates, actor=actor)
        rows = [row for row in rows if row[0] in reasons]
    strata: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for pk, case_number, unit_code, business_line in rows:
        strata[stratum_key(unit_code, business_line)].append((case_number, pk))
    draw = Draw(candidates=candidate_count)
    percentage = Decimal(100) if plan.kind == PlanKind.KEY else Decimal(plan.percentage)
    for stratum in sorted(strata):
        members = sorted(strata[stratum])
        size = sample_size(len(members), percentage)
        generator = random.Random(f"{plan.seed}/{stratum}")
        chosen = sorted(generator.sample(range(len(members)), size))
        for index in chosen:
            case_number, pk = members[index]
            draw.cases.append(
                DrawnCase(pk, case_number, stratum, tuple(reasons.get(pk, ())))
            )
        draw.strata.append(StratumCount(stratum, len(members), size))
    return draw


# --- plans ---------------------------------------------------------------------------------


def plan_list(*, user: Any) -> QuerySet[ReviewPlan]:
    """Plans the user may see, newest first, with their drawn and reviewed counts."""
    return (
        ReviewPlan.objects.visible_to(user)
        .select_related("unit")
        .annotate(
            drawn_count=Count("plan_cases", distinct=True),
            review_count=Count("reviews", distinct=True),
            submitted_count=Count(
                "reviews",
                filter=~Q(reviews__status=ReviewStatus.ASSIGNED),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class PlanCaseRow:
    plan_case: PlanCase
    review: Review | None


def plan_case_rows(plan: ReviewPlan) -> list[PlanCaseRow]:
    """The drawn cases in draw order, each with its review (if assigned)."""
    plan_cases = list(
        plan.plan_cases.select_related("case", "case__unit").order_by("position")
    )
    reviews = {
        review.case_id: review
        for review in plan.reviews.select_related(
            "reviewer", "reviewer__unit", "objection"
        )
    }
    return [
        PlanCaseRow(plan_case, reviews.get(plan_case.case_id))
        for plan_case in plan_cases
    ]


@dataclass(frozen=True)
class StratumRow:
    """A stratum of a plan's draw as the plan page shows it: unit and business line in words."""

    unit_code: str
    unit_name: str
    business_line: str  # the line's label
    drawn: int


@dataclass
class PlanSummary:
    drawn: int
    assigned: int
    by_status: dict[str, int]
    by_final_grade: dict[str, int]
    strata: list[tuple[str, int]]
    objections: int
    strata_rows: list[StratumRow] = field(default_factory=list)


def stratum_rows(strata: list[tuple[str, int]]) -> list[StratumRow]:
    """``(stratum key, count)`` pairs as rows with the unit's name and the line's label."""
    keys = [stratum.split("/", 1) for stratum, _count in strata]  # see stratum_key
    names = dict(
        Unit.objects.filter(code__in={code for code, _line in keys}).values_list(
            "code", "name"
        )
    )
    labels = dict(BusinessLine.choices)
    return [
        StratumRow(code, names.get(code, code), str(labels.get(line, line)), count)
        for (code, line), (_stratum, count) in zip(keys, strata, strict=True)
    ]


def plan_summary(plan: ReviewPlan) -> PlanSummary:
    by_status = dict(
        plan.reviews.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    by_final_grade = dict(
        plan.reviews.exclude(final_grade="")
        .values_list("final_grade")
        .annotate(n=Count("id"))
        .values_list("final_grade", "n")
    )
    strata = list(
        plan.plan_cases.values_list("stratum")
        .annotate(n=Count("id"))
        .order_by("stratum")
        .values_list("stratum", "n")
    )
    return PlanSummary(
        drawn=sum(count for _stratum, count in strata),
        assigned=sum(by_status.values()),
        by_status=by_status,
        by_final_grade=by_final_grade,
        strata=strata,
        objections=plan.reviews.filter(objection__isnull=False).count(),
        strata_rows=stratum_rows(strata),
    )


def eligible_reviewers(plan: ReviewPlan) -> QuerySet[User]:
    """Users who may be assigned reviews of the plan: active internal reviewers and people's
    supervisors of units in the plan's subtree (conflicts are excluded case by case)."""
    from jiancha.accounts.choices import Role

    return (
        User.objects.filter(
            is_active=True,
            unit__path__startswith=plan.unit.path,
            role__in=[*REVIEWER_ROLES, Role.SUPERVISOR],
        )
        .select_related("unit", "staff")
        .order_by("unit__path", "role", "username")
    )


# --- reviews -------------------------------------------------------------------------------


# Rows per page of each section of the queue.
QUEUE_PAGE_SIZE = 50
QUEUE_SECTIONS = ("to_review", "to_decide", "own_cases", "done")


@dataclass
class Queue:
    """A user's work: reviews to write, reviews of its own cases, objections to decide;
    each section one page of its reviews (``pages``: the pages, by section)."""

    to_review: list[Review]
    done: list[Review]
    own_cases: list[Review]
    to_decide: list[Review]
    pages: dict[str, Page] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.to_review or self.done or self.own_cases or self.to_decide)


def _review_rows(queryset: QuerySet[Review]) -> QuerySet[Review]:
    return queryset.select_related(
        "plan", "plan__unit", "case", "case_unit", "reviewer"
    )


def review_queue(
    *,
    user: Any,
    pages: Mapping[str, Any] | None = None,
    per_page: int = QUEUE_PAGE_SIZE,
) -> Queue:
    """The reviewer's queue: open assignments first, then the user's cases under review and
    the objections it may decide. ``pages``: the page wanted of each section (by section
    name; the first when missing, and the nearest when out of range or not a number)."""
    own = Review.objects.visible_to(user, "submit")
    sections = {
        "to_review": _review_rows(
            own.filter(status=ReviewStatus.ASSIGNED, plan__status=PlanStatus.DRAWN)
        ).order_by("created_at", "id"),
        "done": _review_rows(own.exclude(status=ReviewStatus.ASSIGNED)).order_by(
            "-submitted_at", "-id"
        ),
        "own_cases": _review_rows(
            Review.objects.visible_to(user, "object").exclude(
                status=ReviewStatus.ASSIGNED
            )
        ).order_by("-submitted_at", "-id"),
        "to_decide": _review_rows(
            Review.objects.visible_to(user, "decide").filter(
                status=ReviewStatus.OBJECTED, plan__status=PlanStatus.DRAWN
            )
        ).order_by("created_at", "id"),
    }
    wanted = pages or {}
    found = {
        name: Paginator(queryset, per_page).get_page(wanted.get(name))
        for name, queryset in sections.items()
    }
    return Queue(
        **{name: list(page.object_list) for name, page in found.items()},
        pages=found,
    )


def case_reviews(*, user: Any, case: Case) -> list[Review]:
    """The reviews of a case the user may see, newest first (the case's review history)."""
    return list(
        _review_rows(Review.objects.visible_to(user).filter(case=case))
        .select_related("objection")
        .order_by("-created_at", "-id")
    )


def review_list(*, user: Any) -> QuerySet[Review]:
    """Every review the user may see, newest first (the API list)."""
    return (
        _review_rows(Review.objects.visible_to(user))
        .select_related("objection")
        .order_by("-created_at", "-id")
    )


def settled_reviews(
    *,
    unit_path: str = "",
    procurator_id: str = "",
    submitted_from: datetime.date | None = None,
    submitted_to: datetime.date | None = None,
) -> QuerySet[Review]:
    """Reviews whose ``final_grade`` will not change any more, for appraisal: decided after
    an objection, or submitted in a plan that is closed (no objection can follow); never
    those of a cancelled plan.

    No user filter: appraisal runs as the system and applies its own access path.
    """
    reviews = (
        Review.objects.exclude(final_grade="")
        .filter(
            Q(status=ReviewStatus.DECIDED)
            | Q(status=ReviewStatus.SUBMITTED, plan__status=PlanStatus.CLOSED)
        )
        .exclude(plan__status=PlanStatus.CANCELLED)
    )
    if unit_path:
        reviews = reviews.filter(case_unit__path__startswith=unit_path)
    if procurator_id:
        reviews = reviews.filter(procurator_id=procurator_id)
    if submitted_from:
        reviews = reviews.filter(submitted_at__date__gte=submitted_from)
    if submitted_to:
        reviews = reviews.filter(submitted_at__date__lte=submitted_to)
    return reviews.select_related("case_unit")


def grade_counts(reviews: list[Review]) -> list[tuple[str, str, int]]:
    """(grade, label, count) best first, for the final grades of ``reviews``."""
    counts = Counter(review.final_grade for review in reviews if review.final_grade)
    return [
        (grade, str(label), counts.get(grade, 0))
        for grade, label in ReviewGrade.choices
    ]


def suggested_grade(scores: dict[str, Any]) -> str:
    """The best grade the ratings allow: a failure caps the grade at flawed, a defect at
    acceptable (the service refuses a better grade)."""
    ratings = {
        str((value or {}).get("rating", ""))
        for value in scores.values()
        if isinstance(value, dict)
    }
    if "failure" in ratings:
        return ReviewGrade.FLAWED
    if "defect" in ratings:
        return ReviewGrade.ACCEPTABLE
    return ReviewGrade.EXCELLENT


def grade_allowed(grade: str, scores: dict[str, Any]) -> bool:
    return (
        GRADE_RANK.get(ReviewGrade(grade), 0)
        <= GRADE_RANK[ReviewGrade(suggested_grade(scores))]
    )


# --- the case as a reviewer sees it --------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    person_id: str
    name: str
    charges: str


@dataclass
class CaseSummary:
    """The case facts a reviewer needs, with names masked for people's supervisors."""

    case: Case
    names_hidden: bool
    persons: list[PersonRow]
    facts: str
    events: list[tuple[Any, str, str]]
    machine_findings: list[Any]
    machine_grade: Any


def case_summary(*, user: Any, case: Case) -> CaseSummary:
    """The case summary for the review form; the caller has checked access to the review."""
    hidden = names_hidden_for(user)
    persons = case_persons(case)
    names = [person.name for person in persons if person.name]
    rows = [
        PersonRow(
            person.person_id,
            masked_name(person.name) if hidden else person.name,
            "、".join(str(charge) for charge in person.charges or []),
        )
        for person in persons
    ]
    facts = mask_names(case.facts, names) if hidden else case.facts
    labels = dict(EventType.choices)
    events = [
        (event.on, str(labels.get(event.type, event.type)), event.person)
        for event in case_events(case)
    ]
    machine_findings, machine_grade = _machine_findings(case)
    return CaseSummary(
        case, hidden, rows, facts, events, machine_findings, machine_grade
    )


def _machine_findings(case: Case) -> tuple[list[Any], Any]:
    """The automatic checks' current findings and suggested grade, if quality provides them."""
    try:
        from jiancha.quality.selectors import case_findings, case_grade, finding_view
    except ImportError:  # pragma: no cover - the quality app is optional for reviews
        return [], None
    language = get_language() or ""
    return [
        finding_view(finding, language=language) for finding in case_findings(case)
    ], case_grade(case)
