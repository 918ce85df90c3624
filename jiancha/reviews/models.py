"""Manual case review (人工评查): plans, the cases they draw, reviews and objections.

A *plan* (评查计划) says which closed cases of a unit's subtree are reviewed: a seeded,
stratified sample (常规抽查), every case meeting key-case criteria (重点评查), or the cases of
a business line or charge (专项评查). Drawing a plan stores the drawn cases (``PlanCase``),
so the draw is fixed and auditable: the seed and the candidate count are kept on the plan and
the same plan always draws the same cases (docs/apps/reviews.md).

Each drawn case gets one *review* by one reviewer, rated on the dimensions of
:mod:`jiancha.reviews.dimensions` and graded. The handling procurator may object once; a
committee then upholds or changes the grade. ``Review.final_grade`` is what later appraisal
reads (``selectors.settled_reviews``).
"""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiancha.accounts.choices import BusinessLine
from jiancha.core.models import TimeStampedModel
from jiancha.reviews.choices import (
    ObjectionDecision,
    PlanKind,
    PlanStatus,
    ReviewGrade,
    ReviewStatus,
)


class ReviewPlanQuerySet(models.QuerySet["ReviewPlan"]):
    def visible_to(self, user: Any, action: str = "view") -> "ReviewPlanQuerySet":
        """Plans the user may see (``view``) or organise (``manage``); see ``access.py``."""
        from jiancha.reviews.access import plan_filter

        return self.filter(plan_filter(user, action))


class ReviewPlan(TimeStampedModel):
    """A review plan (评查计划) of an organising unit over a period of closed cases."""

    unit = models.ForeignKey(
        "accounts.Unit",
        models.PROTECT,
        related_name="+",
        verbose_name=_("organising unit"),
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=PlanKind.choices)
    period_from = models.DateField(_("closed from"))
    period_to = models.DateField(_("closed to"))
    percentage = models.DecimalField(
        _("percentage"),
        max_digits=5,
        decimal_places=2,
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("share of each stratum (unit × business line) that is drawn"),
    )
    business_line = models.CharField(
        _("business line"), max_length=20, choices=BusinessLine.choices, blank=True
    )
    charge = models.CharField(_("charge"), max_length=60, blank=True)
    criteria = models.JSONField(_("key-case criteria"), default=list, blank=True)
    seed = models.PositiveBigIntegerField(_("seed"))
    cross_review = models.BooleanField(
        _("cross-review"),
        default=False,
        help_text=_("reviewers come from another unit than the case's"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    candidate_count = models.PositiveIntegerField(_("candidates"), default=0)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("drawn by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    objects = ReviewPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("review plan")
        verbose_name_plural = _("review plans")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "status"], name="reviewplan_unit_status")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_from__lte=models.F("period_to")),
                name="reviewplan_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlanCase(models.Model):
    """A case a plan drew, with the stratum it was drawn from and, for key-case review,
    the criteria it met."""

    plan = models.ForeignKey(
        ReviewPlan, models.CASCADE, related_name="plan_cases", verbose_name=_("plan")
    )
    case = models.ForeignKey(
        "cases.Case", models.PROTECT, related_name="+", verbose_name=_("case")
    )
    position = models.PositiveIntegerField(_("position"))
    stratum = models.CharField(_("stratum"), max_length=40)
    reasons = models.JSONField(_("criteria met"), default=list, blank=True)

    class Meta:
        verbose_name = _("drawn case")
        verbose_name_plural = _("drawn cases")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "case"], name="plancase_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.case_id}"


class ReviewQuerySet(models.QuerySet["Review"]):
    def visible_to(self, user: Any, action: str = "view") -> "ReviewQuerySet":
        """Reviews the user may see or act on; the one access path (``access.py``)."""
        from jiancha.reviews.access import review_filter

        return self.filter(review_filter(user, action))


class Review(TimeStampedModel):
    """One reviewer's review of one drawn case: ratings per dimension, findings and a grade.

    The case's unit and handling procurator are copied here so that appraisal and the
    access check need no join with the case table.
    """

    plan = models.ForeignKey(
        ReviewPlan, models.PROTECT, related_name="reviews", verbose_name=_("plan")
    )
    case = models.ForeignKey(
        "cases.Case", models.PROTECT, related_name="+", verbose_name=_("case")
    )
    case_unit = models.ForeignKey(
        "accounts.Unit",
        models.PROTECT,
        related_name="+",
        verbose_name=_("unit of the case"),
    )
    procurator_id = models.CharField(_("handling procurator"), max_length=32)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="reviews",
        verbose_name=_("reviewer"),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReviewStatus.choices,
        default=ReviewStatus.ASSIGNED,
    )
    scores = models.JSONField(_("ratings"), default=dict, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    grade = models.CharField(
        _("grade"), max_length=10, choices=ReviewGrade.choices, blank=True
    )
    final_grade = models.CharField(
        _("final grade"),
        max_length=10,
        choices=ReviewGrade.choices,
        blank=True,
        help_text=_(
            "the reviewer's grade, or the committee's after an objection; empty while an objection is pending"
        ),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    if TYPE_CHECKING:
        objection: "Objection"

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "case"], name="review_one_per_plan_case"
            )
        ]
        indexes = [
            models.Index(fields=["reviewer", "status"], name="review_reviewer_status"),
            models.Index(fields=["case_unit", "procurator_id"], name="review_handler"),
            models.Index(fields=["case", "plan"], name="review_case"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.case_id}"


class Objection(models.Model):
    """The handling procurator's objection (异议) to a review and the committee's decision."""

    review = models.OneToOneField(
        Review, models.CASCADE, related_name="objection", verbose_name=_("review")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="+",
        verbose_name=_("filed by"),
    )
    reason = models.TextField(_("reason"))
    filed_at = models.DateTimeField(_("filed at"))
    decision = models.CharField(
        _("decision"), max_length=8, choices=ObjectionDecision.choices, blank=True
    )
    decided_grade = models.CharField(
        _("decided grade"), max_length=10, choices=ReviewGrade.choices, blank=True
    )
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.review_id}"
