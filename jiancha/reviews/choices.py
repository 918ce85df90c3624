"""Vocabularies of manual case review (人工评查): plan kinds, statuses, grades, ratings."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiancha.accounts.choices import Role


class PlanKind(models.TextChoices):
    """常规抽查 / 重点评查 / 专项评查 (2015 SPP opinions; DOMAIN.md §4.1)."""

    ROUTINE = "routine", _("routine sampling")
    KEY = "key", _("key-case review")
    THEMATIC = "thematic", _("thematic review")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("review plan status", "draft")
    DRAWN = "drawn", pgettext_lazy("review plan status", "drawn")
    CLOSED = "closed", pgettext_lazy("review plan status", "closed")
    CANCELLED = "cancelled", pgettext_lazy("review plan status", "cancelled")


class ReviewStatus(models.TextChoices):
    ASSIGNED = "assigned", pgettext_lazy("review status", "assigned")
    SUBMITTED = "submitted", pgettext_lazy("review status", "submitted")
    OBJECTED = "objected", pgettext_lazy("review status", "objected")
    DECIDED = "decided", pgettext_lazy("review status", "decided")


class ReviewGrade(models.TextChoices):
    """优质 / 合格 / 瑕疵 / 不合格案件 (glossary: excellent / acceptable / flawed / failed)."""

    EXCELLENT = "excellent", pgettext_lazy("case grade", "excellent")
    ACCEPTABLE = "acceptable", pgettext_lazy("case grade", "acceptable")
    FLAWED = "flawed", pgettext_lazy("case grade", "flawed")
    FAILED = "failed", pgettext_lazy("case grade", "failed")


# Best first; the rank orders grades in reports and checks a grade against the ratings.
GRADE_RANK = {
    ReviewGrade.EXCELLENT: 4,
    ReviewGrade.ACCEPTABLE: 3,
    ReviewGrade.FLAWED: 2,
    ReviewGrade.FAILED: 1,
}


class DimensionRating(models.TextChoices):
    """What a reviewer found on one dimension: nothing, a defect (瑕疵) or a failure (不合格)."""

    SOUND = "sound", pgettext_lazy("dimension rating", "no problem")
    DEFECT = "defect", pgettext_lazy("dimension rating", "defect")
    FAILURE = "failure", pgettext_lazy("dimension rating", "failure")
    NOT_APPLICABLE = (
        "not_applicable",
        pgettext_lazy("dimension rating", "not applicable"),
    )


class ObjectionDecision(models.TextChoices):
    """The committee's answer to an objection (异议): the grade stands or is changed."""

    UPHELD = "upheld", pgettext_lazy("objection decision", "grade upheld")
    CHANGED = "changed", pgettext_lazy("objection decision", "grade changed")


# Who organises review plans (draws, assigns, closes): the case-management office (案管)
# and the chief, as the 2017 rules give the organising role to 案件管理部门.
PLAN_ROLES = frozenset({Role.CASE_MANAGER, Role.CHIEF, Role.ADMIN})
# Who sits on the committee that decides objections, at the plan's unit or above.
COMMITTEE_ROLES = frozenset({Role.CHIEF, Role.DEPARTMENT_HEAD, Role.CASE_MANAGER})
# Internal roles that may review a case (people's supervisors are added separately).
REVIEWER_ROLES = frozenset(
    {Role.PROCURATOR, Role.DEPARTMENT_HEAD, Role.CASE_MANAGER, Role.CHIEF}
)
