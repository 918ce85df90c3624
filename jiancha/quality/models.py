"""Findings of the automatic quality checks, the suggested grade of each case, and runs.

A *finding* is one broken rule on one case (or one person or review period of it), pinned to
the rule-set version that raised it. Findings are never edited: when a case is evaluated
again, findings that still hold are kept as they are (same row, so a later manual review can
refer to it), findings that no longer hold are retired (``current`` false), and new ones are
added, all in one transaction per batch of cases. So every case always has exactly one
current set of findings, even when an evaluation is killed halfway (docs/apps/quality.md).

The unit, procurator and period of the case are copied onto each finding so that the
dashboard and the filtered lists need no join with the case table.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiancha.quality.choices import Grade, RunKind, RunStatus, Severity


class EvaluationRun(models.Model):
    """One evaluation of a set of cases: the whole registry, the cases changed since a date,
    or a few cases (an import, an edit)."""

    kind = models.CharField(_("kind"), max_length=8, choices=RunKind.choices)
    since = models.DateField(_("changed since"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    rulesets = models.JSONField(_("rule sets"), default=list)
    skipped_rules = models.JSONField(_("skipped rules"), default=list, blank=True)
    cases = models.PositiveIntegerField(_("cases evaluated"), default=0)
    cases_changed = models.PositiveIntegerField(
        _("cases whose findings changed"), default=0
    )
    findings_raised = models.PositiveIntegerField(_("findings raised"), default=0)
    findings_retired = models.PositiveIntegerField(_("findings retired"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # What the run did with the event facts store (jiancha.quality.rules.eventfacts.StoreUse;
    # set by evaluation_run, not stored).
    event_facts: Any = None

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["kind", "status", "started_at"],
                name="evaluationrun_kind_status",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


class FindingQuerySet(models.QuerySet["Finding"]):
    def current(self) -> "FindingQuerySet":
        return self.filter(current=True)


class Finding(models.Model):
    """A rule a case broke: which rule (and rule-set version), how serious, on what legal
    basis, and the dates and values that broke it (``values``)."""

    # No index of their own on the foreign keys: finding_case and finding_one_current lead
    # with case_id; units and runs are never looked up from here (deleting a unit or a run
    # is rare enough to scan for), and each index costs every bulk evaluation its writes.
    case = models.ForeignKey(
        "cases.Case",
        models.CASCADE,
        related_name="findings",
        db_index=False,
        verbose_name=_("case"),
    )
    unit = models.ForeignKey(
        "accounts.Unit",
        models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("unit"),
    )
    procurator_id = models.CharField(_("procurator"), max_length=32, blank=True)
    period = models.DateField(
        _("period"),
        help_text=_("the day the case closed, or was received while it is open"),
    )
    rule_id = models.CharField(_("rule"), max_length=32)
    ruleset_version = models.CharField(_("rule set"), max_length=16)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    subject = models.CharField(
        _("subject"),
        max_length=64,
        blank=True,
        help_text=_("the person or review period the finding concerns"),
    )
    values = models.JSONField(_("values"), default=dict)
    legal_basis = models.JSONField(_("legal basis"), default=list)
    fingerprint = models.CharField(_("fingerprint"), max_length=32)
    current = models.BooleanField(_("current"), default=True)
    run = models.ForeignKey(
        EvaluationRun,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("raised by run"),
    )
    raised_at = models.DateTimeField(_("raised at"))
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        indexes = [
            models.Index(fields=["case", "current"], name="finding_case"),
            models.Index(
                fields=["current", "unit", "period"], name="finding_unit_period"
            ),
            models.Index(fields=["current", "period"], name="finding_period"),
            models.Index(
                fields=["current", "rule_id", "period"], name="finding_rule_period"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "fingerprint"],
                condition=Q(current=True),
                name="finding_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.subject}".strip()


class CaseEvaluation(models.Model):
    """The latest evaluation of a case that has (or had) findings: its suggested grade.

    A case with no row and no finding was found clean by the latest complete run: its grade
    is the grade of a case without findings (see ``selectors.case_grade``). Writing a row
    only for cases with findings keeps a national evaluation to a few hundred thousand
    writes instead of millions.
    """

    case = models.OneToOneField(
        "cases.Case",
        models.CASCADE,
        primary_key=True,
        related_name="quality_evaluation",
        verbose_name=_("case"),
    )
    # As for Finding: no index of their own on the unit and the run.
    unit = models.ForeignKey(
        "accounts.Unit",
        models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("unit"),
    )
    procurator_id = models.CharField(_("procurator"), max_length=32, blank=True)
    period = models.DateField(_("period"))
    ruleset_version = models.CharField(_("rule set"), max_length=16)
    grade = models.CharField(_("suggested grade"), max_length=12, choices=Grade.choices)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    defects = models.PositiveIntegerField(_("defects"), default=0)
    notices = models.PositiveIntegerField(_("notices"), default=0)
    run = models.ForeignKey(
        EvaluationRun,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("run"),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))

    class Meta:
        verbose_name = _("case evaluation")
        verbose_name_plural = _("case evaluations")
        indexes = [
            models.Index(
                fields=["grade", "unit", "period"], name="caseevaluation_grade"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.grade}"
