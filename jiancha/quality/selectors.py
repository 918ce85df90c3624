"""Reading findings and grades: the lists, the case view and the dashboard figures.

Every query starts from :mod:`jiancha.quality.access` (the cases' access path). Messages are
rendered from the stored values in the reader's language (:mod:`jiancha.quality.rules.render`).
"""

import datetime
import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case as When_
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncMonth
from django.utils import translation
from django.utils.translation import gettext as _

from jiancha.accounts.access import user_scope
from jiancha.accounts.models import Unit
from jiancha.cases.models import Case
from jiancha.quality.access import evaluation_visible_to, finding_visible_to
from jiancha.quality.choices import SEVERITY_RANK, Grade, RunKind, RunStatus, Severity
from jiancha.quality.labels import value_label, value_text
from jiancha.quality.models import CaseEvaluation, EvaluationRun, Finding
from jiancha.quality.rules.registry import latest_rules, ruleset_in_force
from jiancha.quality.rules.render import (
    WORDS,
    language_key,
    legal_basis_text,
    render_message,
    rule_for,
)

PERIOD_PATTERNS = (
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
)


def parse_period(value: str) -> tuple[datetime.date, datetime.date]:
    """``2024``, ``2024-03``, ``2024-Q1`` or ``2024-01-01..2024-06-30`` as a date range."""
    value = value.strip()
    if ".." in value:
        start, end = value.split("..", 1)
        return datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    for pattern, kind in PERIOD_PATTERNS:
        match = pattern.match(value)
        if not match:
            continue
        year = int(match.group(1))
        if kind == "year":
            return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        if kind == "month":
            month = int(match.group(2))
            if not 1 <= month <= 12:
                break
            following = datetime.date(year + (month == 12), month % 12 + 1, 1)
            return datetime.date(year, month, 1), following - datetime.timedelta(days=1)
        quarter = int(match.group(2))
        first = datetime.date(year, 3 * quarter - 2, 1)
        following = datetime.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        return first, following - datetime.timedelta(days=1)
    day = datetime.date.fromisoformat(value)
    return day, day


@dataclass
class FindingFilters:
    """Filters of the finding lists (UI, API and export accept the same names)."""

    unit: str = ""  # an org code: that unit and its subtree
    rule: str = ""
    severity: str = ""
    period: str = ""
    period_from: datetime.date | None = None
    period_to: datetime.date | None = None
    procurator: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    NAMES = ("unit", "rule", "severity", "period", "procurator")

    @classmethod
    def from_params(cls, params: Any) -> "FindingFilters":
        filters = cls()
        filters.unit = (params.get("unit") or "").strip()[:12]
        filters.procurator = (params.get("procurator") or "").strip()[:32]
        rule = (params.get("rule") or "").strip().upper()
        if rule and rule not in latest_rules():
            filters.errors["rule"] = _("Unknown rule “%(value)s”.") % {"value": rule}
        else:
            filters.rule = rule
        severity = (params.get("severity") or "").strip()
        if severity and severity not in Severity.values:
            filters.errors["severity"] = _("Unknown value “%(value)s”.") % {
                "value": severity
            }
        else:
            filters.severity = severity
        period = (params.get("period") or "").strip()
        if period:
            try:
                filters.period_from, filters.period_to = parse_period(period)
                filters.period = period
            except ValueError:
                filters.errors["period"] = _(
                    "Enter a period as YYYY, YYYY-MM, YYYY-Q1 or YYYY-MM-DD..YYYY-MM-DD."
                )
        for name in ("period_from", "period_to"):
            value = (params.get(name) or "").strip()
            if value:
                try:
                    setattr(filters, name, datetime.date.fromisoformat(value))
                except ValueError:
                    filters.errors[name] = _("Enter a date as YYYY-MM-DD.")
        return filters

    def as_params(self) -> dict[str, str]:
        params = {
            name: str(getattr(self, name)) for name in self.NAMES if getattr(self, name)
        }
        if not self.period:
            for name in ("period_from", "period_to"):
                value = getattr(self, name)
                if value:
                    params[name] = value.isoformat()
        return params


def _unit_in_scope(user: Any, code: str) -> Unit | None:
    """The unit with this code if the filter may use it (inside the user's scope, or an
    ancestor of the user's own unit, which narrows nothing)."""
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        return None
    scope = user_scope(user)
    if (
        scope.kind == "assigned"
        or scope.contains(unit)
        or (scope.unit is not None and scope.unit.is_within(unit))
    ):
        return unit
    return None


def _filtered(
    queryset: QuerySet[Any],
    user: Any,
    filters: FindingFilters,
    *,
    rule_field: str | None = "rule_id",
) -> QuerySet[Any]:
    if filters.unit:
        unit = _unit_in_scope(user, filters.unit)
        if unit is None:
            return queryset.none()
        if unit.parent_id is not None:
            queryset = queryset.filter(
                unit_id__in=Unit.objects.subtree_of(unit).values("id")
            )
    if filters.rule and rule_field:
        queryset = queryset.filter(**{rule_field: filters.rule})
    if filters.severity and rule_field:
        queryset = queryset.filter(severity=filters.severity)
    if filters.period_from:
        queryset = queryset.filter(period__gte=filters.period_from)
    if filters.period_to:
        queryset = queryset.filter(period__lte=filters.period_to)
    if filters.procurator:
        queryset = queryset.filter(procurator_id=filters.procurator)
    return queryset


SEVERITY_ORDERING = When_(
    *[
        When(severity=severity, then=Value(rank))
        for severity, rank in SEVERITY_RANK.items()
    ],
    default=Value(0),
    output_field=IntegerField(),
)


def finding_list(
    *, user: Any, filters: FindingFilters | None = None
) -> QuerySet[Finding]:
    """Current findings the user may see, most serious and most recent first."""
    filters = filters or FindingFilters()
    queryset = _filtered(finding_visible_to(user).filter(current=True), user, filters)
    return (
        queryset.select_related("case", "unit")
        .annotate(severity_rank=SEVERITY_ORDERING)
        .order_by("-severity_rank", "-period", "-id")
    )


@dataclass(frozen=True)
class FindingView:
    """A finding as it is shown: rule, severity, legal basis and the rendered explanation."""

    finding: Finding
    rule_name: str
    message: str
    legal_basis: str
    values: list[tuple[str, str]]

    @property
    def severity(self) -> str:
        return self.finding.severity


def finding_view(finding: Finding, *, language: str | None = None) -> FindingView:
    rule = rule_for(finding.ruleset_version, finding.rule_id)
    values = finding.values if isinstance(finding.values, dict) else {}
    return FindingView(
        finding=finding,
        rule_name=(rule.name_zh if language_key(language) == "zh" else rule.name_en)
        if rule
        else finding.rule_id,
        message=render_message(rule, values, finding.subject, language=language),
        legal_basis=legal_basis_text(finding.legal_basis, language),
        values=_values_shown(values, language),
    )


def _values_shown(
    values: dict[str, Any], language: str | None
) -> list[tuple[str, str]]:
    """(label, text) of each stored value, in ``language`` (default: the active one)."""
    words = WORDS[language_key(language)]
    with translation.override(language) if language else nullcontext():
        return [
            (value_label(key), value_text(key, value, words))
            for key, value in values.items()
        ]


def case_findings(case: Case) -> list[Finding]:
    """The case's current findings, most serious first."""
    findings = list(Finding.objects.filter(case=case, current=True))
    return sorted(
        findings,
        key=lambda item: (
            -SEVERITY_RANK.get(item.severity, 0),
            item.rule_id,
            item.subject,
        ),
    )


def case_finding_history(case: Case, limit: int = 50) -> list[Finding]:
    """Findings of the case that no longer hold (retired by a later evaluation), newest first."""
    return list(
        Finding.objects.filter(case=case, current=False).order_by("-retired_at", "-id")[
            :limit
        ]
    )


@dataclass(frozen=True)
class GradeSummary:
    """The suggested grade of a case and where it comes from."""

    state: str  # "evaluated" | "clean" | "pending"
    grade: str = ""
    failures: int = 0
    defects: int = 0
    notices: int = 0
    ruleset_version: str = ""
    evaluated_at: datetime.datetime | None = None

    @property
    def label(self) -> str:
        return str(Grade(self.grade).label) if self.grade else ""


def case_grade(case: Case) -> GradeSummary:
    """The stored grade; else clean if a complete run covered the case after its last
    change; else pending (not evaluated yet)."""
    evaluation = CaseEvaluation.objects.filter(case=case).first()
    if evaluation is not None:
        return GradeSummary(
            "evaluated",
            evaluation.grade,
            evaluation.failures,
            evaluation.defects,
            evaluation.notices,
            evaluation.ruleset_version,
            evaluation.evaluated_at,
        )
    run = (
        EvaluationRun.objects.filter(
            status=RunStatus.COMPLETED, started_at__gte=case.updated_at
        )
        .filter(
            Q(kind=RunKind.FULL)
            | Q(kind=RunKind.SINCE, since__lte=case.updated_at.date())
        )
        .order_by("-started_at")
        .first()
    )
    if run is None:
        return GradeSummary("pending")
    ruleset = ruleset_in_force(case.closed_on or run.started_at.date())
    return GradeSummary(
        "clean",
        ruleset.grade_for(0, 0, 0),
        ruleset_version=ruleset.version,
        evaluated_at=run.finished_at,
    )


def latest_run() -> EvaluationRun | None:
    return (
        EvaluationRun.objects.filter(status=RunStatus.COMPLETED)
        .order_by("-started_at")
        .first()
    )


# --- dashboard -----------------------------------------------------------------------------


@dataclass
class Dashboard:
    total: int
    by_severity: dict[str, int]
    cases_with_findings: int
    by_rule: list[dict[str, Any]]
    by_unit: list[dict[str, Any]]
    by_procurator: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    by_grade: dict[str, int]
    base_unit: Unit | None


def _base_unit(user: Any, filters: FindingFilters) -> Unit | None:
    if filters.unit:
        return _unit_in_scope(user, filters.unit)
    scope = user_scope(user)
    return scope.unit if scope.kind in {"subtree", "unit"} else None


def _child_of(path: str, base: Unit | None) -> str:
    """The org code of the child of ``base`` on ``path`` (the unit itself at its level)."""
    parts = [part for part in path.strip("/").split("/") if part]
    if base is None:
        return parts[0] if parts else ""
    depth = len([part for part in base.path.strip("/").split("/") if part])
    return parts[depth] if len(parts) > depth else parts[-1]


def dashboard(
    *, user: Any, filters: FindingFilters | None = None, months: int = 24
) -> Dashboard:
    """Findings by rule, unit, procurator and month, and cases by grade, in the user's scope."""
    filters = filters or FindingFilters()
    findings = _filtered(finding_visible_to(user).filter(current=True), user, filters)
    by_severity = {
        row["severity"]: row["n"]
        for row in findings.values("severity").annotate(n=Count("id"))
    }
    rules = latest_rules()
    by_rule = [
        {
            "rule_id": row["rule_id"],
            "name": rules[row["rule_id"]].name
            if row["rule_id"] in rules
            else row["rule_id"],
            "severity": row["severity"],
            "count": row["n"],
        }
        for row in findings.values("rule_id", "severity")
        .annotate(n=Count("id"))
        .order_by("-n", "rule_id")
    ]
    base = _base_unit(user, filters)
    unit_counts = dict(
        findings.values_list("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    units = {
        unit.pk: unit
        for unit in Unit.objects.filter(pk__in=list(unit_counts)).only(
            "code", "name", "path"
        )
    }
    grouped: Counter[str] = Counter()
    for unit_id, count in unit_counts.items():
        unit = units.get(unit_id)
        if unit is not None:
            grouped[_child_of(unit.path, base)] += count
    names = dict(
        Unit.objects.filter(code__in=list(grouped)).values_list("code", "name")
    )
    by_unit = [
        {"code": code, "name": names.get(code, code), "count": count}
        for code, count in grouped.most_common(30)
    ]
    by_procurator = [
        {
            "unit": row["unit__name"],
            "unit_code": row["unit__code"],
            "procurator_id": row["procurator_id"],
            "count": row["n"],
            "failures": row["failures"],
        }
        for row in findings.values("unit__name", "unit__code", "procurator_id")
        .annotate(
            n=Count("id"), failures=Count("id", filter=Q(severity=Severity.FAILURE))
        )
        .order_by("-n")[:20]
    ]
    month_rows = (
        findings.annotate(month=TruncMonth("period"))
        .values("month", "severity")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    months_seen: dict[str, dict[str, int]] = {}
    for row in month_rows:
        if row["month"] is None:
            continue
        key = row["month"].strftime("%Y-%m")
        months_seen.setdefault(key, {})[row["severity"]] = row["n"]
    by_month = [
        {
            "month": key,
            **{severity: values.get(severity, 0) for severity in Severity.values},
        }
        for key, values in sorted(months_seen.items())
    ][-months:]
    # The grades of the cases with findings: a clean case may have a stored grade too (one
    # evaluated on its own, or whose findings no longer hold), and counting those would
    # depend on how each case happened to be evaluated.
    evaluations = _filtered(
        evaluation_visible_to(user), user, filters, rule_field=None
    ).filter(Q(failures__gt=0) | Q(defects__gt=0) | Q(notices__gt=0))
    by_grade = {
        row["grade"]: row["n"]
        for row in evaluations.values("grade").annotate(n=Count("case_id"))
    }
    return Dashboard(
        total=sum(by_severity.values()),
        by_severity=by_severity,
        cases_with_findings=findings.values("case_id").distinct().count(),
        by_rule=by_rule,
        by_unit=by_unit,
        by_procurator=by_procurator,
        by_month=by_month,
        by_grade=by_grade,
        base_unit=base,
    )
