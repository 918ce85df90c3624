"""Vocabularies of the quality module: severities, grades and evaluation runs."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Severity(models.TextChoices):
    """How serious a finding is (提示 / 瑕疵 / 不合格)."""

    NOTICE = "notice", pgettext_lazy("finding severity", "notice")
    DEFECT = "defect", pgettext_lazy("finding severity", "defect")
    FAILURE = "failure", pgettext_lazy("finding severity", "failure")


# Most serious first: the order of lists and of the grade mapping.
SEVERITY_ORDER = (Severity.FAILURE, Severity.DEFECT, Severity.NOTICE)
SEVERITY_RANK = {Severity.FAILURE: 3, Severity.DEFECT: 2, Severity.NOTICE: 1}


class Grade(models.TextChoices):
    """The suggested quality grade of a case: 优质 / 合格 / 瑕疵 / 不合格案件, with the
    glossary's identifiers, the same as the reviewers' ``reviews.ReviewGrade``."""

    EXCELLENT = "excellent", pgettext_lazy("case grade", "excellent")
    ACCEPTABLE = "acceptable", pgettext_lazy("case grade", "acceptable")
    FLAWED = "flawed", pgettext_lazy("case grade", "flawed")
    FAILED = "failed", pgettext_lazy("case grade", "failed")


class RunKind(models.TextChoices):
    FULL = "full", _("all cases")
    SINCE = "since", _("cases changed since a date")
    CASES = "cases", _("selected cases")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    COMPLETED = "completed", _("completed")
    FAILED = "failed", _("failed")
