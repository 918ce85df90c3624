"""Quality pages: the dashboard, the reviewers' queue of findings, a case's findings (a
fragment the case page loads) and the rule catalogue.

Every page reads through :mod:`jiancha.quality.access` and the case access check
(STYLE.md §4); templates get ready-made rows and chart data and run no queries.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View

from jiancha.accounts.choices import Role
from jiancha.cases.choices import Procedure
from jiancha.cases.exports import EXPORT_LIMIT, xlsx_response
from jiancha.core.audit import audit_record
from jiancha.quality.access import access_case_quality
from jiancha.quality.choices import SEVERITY_ORDER, Grade, Severity
from jiancha.quality.exports import finding_export_workbook
from jiancha.quality.rules.registry import latest_rules, rulesets
from jiancha.quality.rules.render import WORDS, language_key, legal_basis_text
from jiancha.quality.selectors import (
    FindingFilters,
    case_finding_history,
    case_findings,
    case_grade,
    dashboard,
    finding_list,
    finding_view,
    latest_run,
)
from jiancha.quality.services import case_evaluate

PAGE_SIZE = 50

# Severity and grade as the shared badge styles draw them (jiancha.css).
SEVERITY_BADGE = {
    Severity.FAILURE: "missed",
    Severity.DEFECT: "overdue",
    Severity.NOTICE: "running",
}
GRADE_BADGE = {
    Grade.FAILED: "missed",
    Grade.FLAWED: "overdue",
    Grade.ACCEPTABLE: "running",
    Grade.EXCELLENT: "met",
}
# Roles that may ask for a case to be evaluated again (supervisors only read).
EVALUATE_ROLES = frozenset(role for role in Role.values if role != Role.SUPERVISOR)


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@dataclass(frozen=True)
class FindingRow:
    """A finding ready for a template."""

    view: Any
    severity_label: str
    badge: str
    case_url: str


def _rows(findings: list[Any], language: str) -> list[FindingRow]:
    labels = dict(Severity.choices)
    return [
        FindingRow(
            view=finding_view(finding, language=language),
            severity_label=str(labels.get(finding.severity, finding.severity)),
            badge=SEVERITY_BADGE.get(finding.severity, "running"),
            case_url=reverse("cases:case_detail", args=[finding.case_id]),
        )
        for finding in findings
    ]


def _filter_context(filters: FindingFilters) -> dict[str, Any]:
    return {
        "filters": filters,
        "errors": filters.errors,
        "rule_choices": [
            (rule_id, f"{rule_id} {rule.name}")
            for rule_id, rule in latest_rules().items()
        ],
        "severity_choices": [(value, label) for value, label in Severity.choices],
    }


class DashboardView(LoginRequiredMixin, View):
    """Findings by rule, unit, procurator and month, with charts; HTMX gets the body only."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters = FindingFilters.from_params(request.GET)
        data = dashboard(user=request.user, filters=filters)
        severity_labels = dict(Severity.choices)
        grade_labels = dict(Grade.choices)
        charts = {
            "severities": [str(severity_labels[value]) for value in SEVERITY_ORDER],
            "severityKeys": list(SEVERITY_ORDER),
            "byRule": [
                {
                    "name": f"{row['rule_id']} {row['name']}",
                    "value": row["count"],
                    "severity": row["severity"],
                }
                for row in data.by_rule[:25]
            ],
            "byUnit": [
                {"name": row["name"], "value": row["count"]} for row in data.by_unit
            ],
            "byMonth": data.by_month,
            "byGrade": [
                {"name": str(grade_labels[grade]), "value": data.by_grade.get(grade, 0)}
                for grade in Grade.values
                if data.by_grade.get(grade)
            ],
            "labels": {"findings": _("Findings"), "cases": _("Cases")},
        }
        queue_params = filters.as_params()
        context = {
            **_filter_context(filters),
            "data": data,
            "charts": charts,
            "severity_cards": [
                {
                    "value": value,
                    "label": severity_labels[value],
                    "count": data.by_severity.get(value, 0),
                    "badge": SEVERITY_BADGE[value],
                }
                for value in SEVERITY_ORDER
            ],
            "grade_rows": [
                {
                    "label": grade_labels[grade],
                    "count": data.by_grade.get(grade, 0),
                    "badge": GRADE_BADGE[grade],
                }
                for grade in Grade.values
            ],
            "by_rule": [
                {
                    **row,
                    "severity_label": severity_labels.get(
                        row["severity"], row["severity"]
                    ),
                    "queue_url": reverse("quality:finding_list")
                    + "?"
                    + urlencode({**queue_params, "rule": row["rule_id"]}),
                }
                for row in data.by_rule
            ],
            "latest_run": latest_run(),
            "queue_url": reverse("quality:finding_list")
            + ("?" + urlencode(queue_params) if queue_params else ""),
            "dashboard_url": reverse("quality:dashboard"),
        }
        template = (
            "quality/dashboard.html#body"
            if _htmx(request)
            else "quality/dashboard.html"
        )
        response = render(request, template, context)
        patch_vary_headers(response, ["HX-Request"])
        return response


class FindingListView(LoginRequiredMixin, View):
    """The reviewers' queue: current findings, most serious first, filtered and paged."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters = FindingFilters.from_params(request.GET)
        queryset = finding_list(user=request.user, filters=filters)
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        params = filters.as_params()
        base = reverse("quality:finding_list")

        def page_url(number: int) -> str:
            query = {**params, "page": str(number)} if number > 1 else params
            return base + ("?" + urlencode(query) if query else "")

        context = {
            **_filter_context(filters),
            "page": page,
            "rows": _rows(list(page.object_list), get_language() or ""),
            "previous_url": page_url(page.previous_page_number())
            if page.has_previous()
            else "",
            "next_url": page_url(page.next_page_number()) if page.has_next() else "",
            "list_url": base,
            "export_url": reverse("quality:finding_export")
            + ("?" + urlencode(params) if params else ""),
            "filtered": bool(params),
        }
        if _htmx(request):
            response = render(request, "quality/finding_list.html#results", context)
            response["HX-Push-Url"] = page_url(page.number)
        else:
            response = render(request, "quality/finding_list.html", context)
        patch_vary_headers(response, ["HX-Request"])
        return response


def _filters_description(filters: FindingFilters) -> list[tuple[str, str]]:
    """The filters of an export in words, for its info sheet."""
    severities = dict(Severity.choices)
    rules = latest_rules()
    described = [
        (_("Unit (org code)"), filters.unit),
        (
            _("Rule"),
            f"{filters.rule} {rules[filters.rule].name}" if filters.rule else "",
        ),
        (_("Severity"), str(severities.get(filters.severity, filters.severity))),
        (_("Period"), filters.period),
        (_("From"), filters.period_from.isoformat() if filters.period_from else ""),
        (_("To"), filters.period_to.isoformat() if filters.period_to else ""),
        (_("Procurator"), filters.procurator),
    ]
    return [(label, value) for label, value in described if value]


class FindingExportView(LoginRequiredMixin, View):
    """The review queue, with its filters, as an Excel workbook (at most ``EXPORT_LIMIT``
    rows), through the same access path as the list."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters = FindingFilters.from_params(request.GET)
        if filters.errors:
            # Never export a broader list than asked for: the list shows the errors.
            return HttpResponseRedirect(
                reverse("quality:finding_list") + "?" + request.GET.urlencode()
            )
        export = finding_export_workbook(
            finding_list(user=request.user, filters=filters),
            language=get_language() or "",
            limit=EXPORT_LIMIT,
            exported_by=str(request.user),
            filters=_filters_description(filters),
        )
        audit_record(
            actor=request.user,
            verb="quality.findings.export",
            target_type="quality.finding",
            request=request,
            details={
                "filters": filters.as_params(),
                "rows": export.rows,
                "truncated": export.truncated,
            },
        )
        return xlsx_response(export, "findings")


def _case_context(request: HttpRequest, case: Any) -> dict[str, Any]:
    language = get_language() or ""
    grade = case_grade(case)
    return {
        "case": case,
        "rows": _rows(case_findings(case), language),
        "history": _rows(case_finding_history(case), language),
        "grade": grade,
        "grade_badge": GRADE_BADGE.get(grade.grade, "running") if grade.grade else "",
        "may_evaluate": getattr(request.user, "role", None) in EVALUATE_ROLES,
        "fragment_url": reverse("quality:case_findings", args=[case.pk]),
        "evaluate_url": reverse("quality:case_evaluate", args=[case.pk]),
        "case_url": reverse("cases:case_detail", args=[case.pk]),
    }


class CaseFindingsView(LoginRequiredMixin, View):
    """A case's findings, suggested grade and finding history: a fragment for the case page
    (``hx-get``), or a page of its own without JavaScript."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = access_case_quality(request.user, pk)
        context = _case_context(request, case)
        if _htmx(request):
            response = render(request, "quality/case_findings.html#findings", context)
        else:
            audit_record(
                actor=request.user,
                verb="quality.case_findings.view",
                target=case,
                request=request,
            )
            response = render(request, "quality/case_findings.html", context)
        patch_vary_headers(response, ["HX-Request"])
        return response


class CaseEvaluateView(LoginRequiredMixin, View):
    """Evaluate one case again now (idempotent); answers with the refreshed fragment."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = access_case_quality(request.user, pk)
        if getattr(request.user, "role", None) not in EVALUATE_ROLES:
            raise Http404
        result = case_evaluate(case)
        audit_record(
            actor=request.user,
            verb="quality.case.evaluate",
            target=case,
            request=request,
            details={"findings": result.findings},
        )
        context = _case_context(request, case)
        template = (
            "quality/case_findings.html#findings"
            if _htmx(request)
            else "quality/case_findings.html"
        )
        return render(request, template, context)


class RuleListView(LoginRequiredMixin, View):
    """Every rule set and its rules: severity, legal basis, where it applies."""

    def get(self, request: HttpRequest) -> HttpResponse:
        language = get_language() or ""
        severity_labels = dict(Severity.choices)
        procedure_labels = dict(Procedure.choices)
        separator = WORDS[language_key(language)]["list"]
        sets = []
        for item in reversed(rulesets()):
            sets.append(
                {
                    "ruleset": item,
                    "rules": [
                        {
                            "rule": rule,
                            "severity_label": severity_labels.get(
                                rule.severity, rule.severity
                            ),
                            "badge": SEVERITY_BADGE.get(rule.severity, "running"),
                            "legal_basis": legal_basis_text(
                                rule.legal_basis_list(), language
                            ),
                            "procedures": separator.join(
                                str(procedure_labels.get(name, name))
                                for name in rule.procedures
                            )
                            or _("all procedures"),
                        }
                        for rule in item.rules
                    ],
                }
            )
        return render(request, "quality/rule_list.html", {"sets": sets})
