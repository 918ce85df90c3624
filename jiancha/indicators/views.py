"""The indicator dashboard: values with context, trends, units below, the cases behind a
number, signals of managed numbers, Excel export and published reports.

Every page starts from ``access_indicator_unit`` (a unit outside the user's scope is a
404) and lists cases only through the cases app's ``case_list`` selector. Templates get ready-made
rows and links (STYLE.md §11).
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from jiancha.accounts.access import user_scope
from jiancha.accounts.choices import BusinessLine
from jiancha.accounts.models import Unit
from jiancha.cases.choices import Procedure
from jiancha.cases.selectors import case_list
from jiancha.core.audit import audit_record
from jiancha.core.errors import BusinessError
from jiancha.indicators.access import (
    access_indicator_unit,
    access_published_report,
    may_publish,
    published_visible_to,
)
from jiancha.indicators.definitions import Indicator, definition_set, definition_sets
from jiancha.indicators.engines import get_engine
from jiancha.indicators.exports import XLSX_CONTENT_TYPE, indicator_export_workbook
from jiancha.indicators.forms import IndicatorQuery, parse_query
from jiancha.indicators.gaming import SIGNAL_KINDS, gaming_signals, signal_measure
from jiancha.indicators.services import (
    CASE_LIST_LIMIT,
    IndicatorFilters,
    IndicatorReport,
    IndicatorValue,
    format_value,
    indicator_case_ids,
    indicator_report,
    published_report_verify,
    rankings_enabled,
    report_publish,
)

DEFAULT_FOCUS = "non_arrest_rate"
GROUP_LABELS = {
    "criminal": gettext_lazy("Criminal procuratorial work"),
    "juvenile": gettext_lazy("Juvenile cases"),
    "civil_administrative": gettext_lazy("Civil and administrative supervision"),
    "public_interest": gettext_lazy("Public interest litigation"),
    "cross_cutting": gettext_lazy("All business lines"),
}
DIRECTION_LABELS = {
    "higher": gettext_lazy("higher is better"),
    "lower": gettext_lazy("lower is better"),
    "context": gettext_lazy("no better direction: read with related indicators"),
    "band": gettext_lazy("within the reference range is best"),
}
COUNTING_LABELS = {
    "persons": gettext_lazy("persons"),
    "cases": gettext_lazy("cases"),
    "matters": gettext_lazy("matters (案) and proceedings (件)"),
}


def dashboard_url(params: dict[str, str], **changes: str) -> str:
    merged = {**params, **changes}
    merged = {key: value for key, value in merged.items() if value}
    return reverse("indicators:dashboard") + ("?" + urlencode(merged) if merged else "")


def cases_url(params: dict[str, str], **changes: str) -> str:
    merged = {key: value for key, value in {**params, **changes}.items() if value}
    return reverse("indicators:cases") + "?" + urlencode(merged)


@dataclass
class SummaryRow:
    indicator: Indicator
    value: IndicatorValue
    numerator_url: str
    denominator_url: str
    focus_url: str
    direction_label: str
    counting_label: str
    published_display: str
    reference_display: str
    focused: bool


@dataclass
class ChildRow:
    unit: Unit
    value: IndicatorValue
    drill_url: str
    rank: int | None


def _reference_display(indicator: Indicator, row: IndicatorValue) -> str:
    if row.reference_low is None and row.reference_high is None:
        return ""
    low = format_value(indicator, row.reference_low) if row.reference_low is not None else "…"
    high = format_value(indicator, row.reference_high) if row.reference_high is not None else "…"
    return _("%(low)s – %(high)s (issued by %(unit)s)") % {"low": low, "high": high, "unit": row.reference_issued_by}


def _published_display(indicator: Indicator) -> str:
    published = indicator.published
    if not published:
        return ""
    text = format_value(indicator, float(published["value"]))
    if published.get("floor"):
        text = _("over %(value)s") % {"value": text}
    return _("%(value)s (%(period)s)") % {"value": text, "period": published.get("period", "")}


def _chart_value(indicator: Indicator, value: float | None) -> float | None:
    if value is None:
        return None
    return round(value * 100, 3) if indicator.format == "rate" else round(value, 3)


def unit_path(user: Any, unit: Unit, params: dict[str, str]) -> list[tuple[str, str]]:
    """Breadcrumbs from the user's own unit down to ``unit`` (drill-down back links)."""
    scope = user_scope(user)
    top = scope.unit
    codes = [code for code in unit.path.strip("/").split("/") if code]
    if top is None or scope.kind != "subtree":
        return [(unit.name, dashboard_url(params, unit=unit.code))]
    start = codes.index(top.code) if top.code in codes else len(codes) - 1
    chain = list(Unit.objects.filter(code__in=codes[start:]).order_by("level"))
    return [(item.name, dashboard_url(params, unit=item.code)) for item in chain]


class IndicatorDashboardView(LoginRequiredMixin, View):
    """Values for a unit and period with context; drill down the tree to the cases."""

    def get(self, request: HttpRequest) -> HttpResponse:
        query = parse_query(request.GET, default_by="month")
        access = access_indicator_unit(request.user, query.unit or None)
        unit, subtree = access.unit, access.subtree
        query.unit = unit.code
        errors = dict(query.errors)
        if query.department is not None and query.department.unit_id != unit.pk:
            errors["department"] = _("Choose a department of the selected unit.")
        definitions = definition_set(query.set_name)
        focus_id = request.GET.get("focus") or (DEFAULT_FOCUS if DEFAULT_FOCUS in definitions.ids() else definitions.ids()[0])
        if focus_id not in definitions.ids():
            focus_id = definitions.ids()[0]
        params = query.as_params()
        context: dict[str, Any] = {
            "query": query,
            "errors": errors,
            "unit": unit,
            "subtree": subtree,
            "params": params,
            "definition_sets": [(name, item.label) for name, item in definition_sets().items()],
            "definitions": definitions,
            "business_line_choices": BusinessLine.choices,
            "departments": list(unit.departments.all()),
            "by_choices": [("month", _("month")), ("quarter", _("quarter")), ("year", _("year"))],
            "breadcrumbs": unit_path(request.user, unit, params),
            "focus_id": focus_id,
            "may_publish": may_publish(request.user),
            "export_url": reverse("indicators:export") + "?" + urlencode(params),
            "publish_url": reverse("indicators:publish") + "?" + urlencode(params),
            "published_url": reverse("indicators:published_list"),
        }
        if errors:
            return render(request, "indicators/dashboard.html", context)
        filters = IndicatorFilters(business_line=query.business_line, department=query.department, procurator=query.procurator)
        date_from, date_to = query.dates
        try:
            with get_engine() as engine:
                summary = indicator_report(
                    unit=unit, subtree=subtree, date_from=date_from, date_to=date_to, by=None, engine=engine,
                    set_name=query.set_name, indicator_ids=query.indicators, filters=filters, children=True, compare=True,
                )
                trend = indicator_report(
                    unit=unit, subtree=subtree, date_from=date_from, date_to=date_to, by=query.by or "month",
                    engine=engine, set_name=query.set_name, indicator_ids=[focus_id], filters=filters, compare=True,
                )
                signals = gaming_signals(
                    unit=unit, subtree=summary.subtree, date_from=date_from, date_to=date_to, engine=engine, filters=filters,
                )
        except BusinessError as error:
            context["errors"] = {"procurator": error.message}
            return render(request, "indicators/dashboard.html", context)
        context.update(self._summary_context(summary, params, focus_id))
        context.update(self._focus_context(summary, trend, params, focus_id))
        context["signals"] = [
            {
                "finding": finding,
                "cases_url": cases_url(params, signal=finding.code, unit=finding.unit.code),
                "drill_url": dashboard_url(params, unit=finding.unit.code),
            }
            for finding in signals
        ]
        context["report"] = summary
        return render(request, "indicators/dashboard.html", context)

    def _summary_context(self, summary: IndicatorReport, params: dict[str, str], focus_id: str) -> dict[str, Any]:
        by_id = {indicator.id: indicator for indicator in summary.indicators}
        groups: dict[str, list[SummaryRow]] = {}
        for row in summary.rows:
            indicator = by_id[row.indicator]
            groups.setdefault(indicator.group or "cross_cutting", []).append(
                SummaryRow(
                    indicator=indicator,
                    value=row,
                    numerator_url=cases_url(params, indicator=indicator.id, side="numerator"),
                    denominator_url=cases_url(params, indicator=indicator.id, side="denominator"),
                    focus_url=dashboard_url(params, focus=indicator.id) + "#focus",
                    direction_label=str(DIRECTION_LABELS.get(indicator.direction, "")),
                    counting_label=str(COUNTING_LABELS.get(indicator.counting_unit, indicator.counting_unit)),
                    published_display=_published_display(indicator),
                    reference_display=_reference_display(indicator, row),
                    focused=indicator.id == focus_id,
                )
            )
        order = ["criminal", "juvenile", "civil_administrative", "public_interest", "cross_cutting"]
        return {
            "groups": [(str(GROUP_LABELS.get(name, name)), groups[name]) for name in order if name in groups],
            "as_of": summary.as_of,
            "engine": summary.engine,
        }

    def _focus_context(self, summary: IndicatorReport, trend: IndicatorReport, params: dict[str, str], focus_id: str) -> dict[str, Any]:
        indicator = trend.indicators[0]
        focus_row = next((row for row in summary.rows if row.indicator == focus_id), None)
        children = [
            ChildRow(
                unit=child,
                value=next(row for row in summary.child_rows if row.unit_code == child.code and row.indicator == focus_id),
                drill_url=dashboard_url(params, unit=child.code, focus=focus_id),
                rank=None,
            )
            for child in summary.children
        ] if focus_row is not None else []
        ranking = rankings_enabled(focus_id)
        if ranking:
            ranked = [child for child in children if child.value.sufficient and child.value.value is not None]
            reverse_order = indicator.direction == "higher"
            ranked.sort(key=lambda child: child.value.value or 0.0, reverse=reverse_order)
            for position, child in enumerate(ranked, start=1):
                child.rank = position
            children = ranked + [child for child in children if child.rank is None]
        chart_trend = {
            "name": indicator.name,
            "format": indicator.format,
            "labels": [row.period for row in trend.rows],
            "values": [_chart_value(indicator, row.value) if row.sufficient else None for row in trend.rows],
            "previous": [_chart_value(indicator, row.previous_year_value) for row in trend.rows],
            "national": [_chart_value(indicator, row.national_value) for row in trend.rows],
            "series": {"unit": trend.unit.name, "previous": _("Previous year"), "national": _("National")},
        }
        shown = [child for child in children if child.value.denominator > 0]
        chart_units = {
            "name": indicator.name,
            "format": indicator.format,
            "labels": [child.unit.name for child in shown],
            "codes": [child.unit.code for child in shown],
            "values": [_chart_value(indicator, child.value.value) if child.value.sufficient else None for child in shown],
            "urls": [child.drill_url for child in shown],
            "national": _chart_value(indicator, focus_row.national_value) if focus_row else None,
        }
        return {
            "focus": indicator,
            "focus_row": focus_row,
            "focus_direction": str(DIRECTION_LABELS.get(indicator.direction, "")),
            "children": children,
            "ranking": ranking,
            "trend_rows": trend.rows,
            "chart_trend": chart_trend,
            "chart_units": chart_units,
        }


class IndicatorCasesView(LoginRequiredMixin, View):
    """The cases behind a numerator, a denominator or a signal, each linked to its page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        query = parse_query(request.GET)
        if query.errors:
            raise Http404("invalid query")
        access = access_indicator_unit(request.user, query.unit or None)
        unit = access.unit
        date_from, date_to = query.dates
        filters = IndicatorFilters(business_line=query.business_line, department=query.department, procurator=query.procurator)
        signal = request.GET.get("signal", "")
        subtree = access.subtree and not query.procurator and query.department is None
        with get_engine() as engine:
            if signal:
                kind = SIGNAL_KINDS.get(signal)
                if kind is None:
                    raise Http404("unknown signal")
                measure = signal_measure(kind.cases_measure)
                title = str(kind.title)
                explanation = str(kind.explanation)
                indicator = None
                from jiancha.indicators.compiler import QueryBuilder
                from jiancha.indicators.services import case_scope

                scope = case_scope(targets=[unit.pk], filters=filters, unit_only=None if subtree else unit.pk)
                compiled = QueryBuilder(engine.dialect).compile_cases(
                    measure.terms, date_from=date_from, date_to=date_to, scope=scope, limit=CASE_LIST_LIMIT
                )
                ids = engine.case_ids(compiled.sql)
                side_label = ""
            else:
                definitions = definition_set(query.set_name)
                try:
                    indicator = definitions.get(request.GET.get("indicator", ""))
                except KeyError:
                    raise Http404("unknown indicator") from None
                side = request.GET.get("side", "numerator")
                if side not in {"numerator", "denominator"}:
                    raise Http404("unknown side")
                ids = indicator_case_ids(
                    indicator=indicator, side=side, unit=unit, subtree=subtree, date_from=date_from,
                    date_to=date_to, engine=engine, filters=filters,
                )
                title = indicator.name
                explanation = indicator.explanation
                side_label = _("Numerator") if side == "numerator" else _("Denominator")
        truncated = len(ids) > CASE_LIST_LIMIT
        ids = ids[:CASE_LIST_LIMIT]
        cases = list(
            case_list(user=request.user)
            .filter(pk__in=ids)
            .select_related("unit")
            .only("id", "case_id", "unit__name", "unit__code", "business_line", "procedure", "procurator_id", "received_on", "closed_on")
            .order_by("unit__code", "received_on", "id")
        )
        procedures = dict(Procedure.choices)
        lines = dict(BusinessLine.choices)
        rows = [
            {
                "case": case,
                "url": reverse("cases:case_detail", args=[case.pk]),
                "procedure": procedures.get(case.procedure, case.procedure),
                "business_line": lines.get(case.business_line, case.business_line),
            }
            for case in cases
        ]
        params = query.as_params()
        params["unit"] = unit.code
        return render(
            request,
            "indicators/cases.html",
            {
                "unit": unit,
                "query": query,
                "title": title,
                "explanation": explanation,
                "indicator": indicator,
                "side_label": side_label,
                "signal": signal,
                "rows": rows,
                "count": len(ids),
                "truncated": truncated,
                "limit": CASE_LIST_LIMIT,
                "back_url": dashboard_url(params),
            },
        )


def _report_for(request: HttpRequest) -> tuple[IndicatorQuery, IndicatorReport]:
    query = parse_query(request.GET)
    if query.errors:
        raise BusinessError("; ".join(query.errors.values()), code="invalid")
    access = access_indicator_unit(request.user, query.unit or None)
    if query.department is not None and query.department.unit_id != access.unit.pk:
        raise BusinessError(_("Choose a department of the selected unit."), code="invalid")
    date_from, date_to = query.dates
    filters = IndicatorFilters(business_line=query.business_line, department=query.department, procurator=query.procurator)
    with get_engine() as engine:
        report = indicator_report(
            unit=access.unit, subtree=access.subtree, date_from=date_from, date_to=date_to, by=query.by,
            engine=engine, set_name=query.set_name, indicator_ids=query.indicators, filters=filters, children=True, compare=True,
        )
    return query, report


class IndicatorExportView(LoginRequiredMixin, View):
    """The table of the dashboard's query as an Excel file; every export is audited."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            query, report = _report_for(request)
        except BusinessError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("indicators:dashboard"))
        export = indicator_export_workbook(report, exported_by=str(request.user))
        audit_record(
            actor=request.user,
            verb="indicators.export",
            target=report.unit,
            request=request,
            details={"params": query.as_params(), "rows": export.rows, "data_hash": report.data_hash},
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return FileResponse(export.file, as_attachment=True, filename=f"indicators-{report.unit.code}-{stamp}.xlsx", content_type=XLSX_CONTENT_TYPE)


class ReportPublishView(LoginRequiredMixin, View):
    """Freeze the table of the current query as a published report (POST only)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if not may_publish(request.user):
            raise Http404("not a publisher")
        try:
            _query, report = _report_for(request)
            published = report_publish(report=report, title=request.POST.get("title", ""), actor=request.user, note=request.POST.get("note", ""))
        except BusinessError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("indicators:dashboard") + "?" + request.GET.urlencode())
        messages.success(request, _("Report “%(title)s” published.") % {"title": published.title})
        return HttpResponseRedirect(reverse("indicators:published_detail", args=[published.pk]))


class PublishedReportListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        reports = list(published_visible_to(request.user).order_by("-published_at", "-id")[:200])
        return render(request, "indicators/published_list.html", {"reports": reports, "dashboard_url": reverse("indicators:dashboard")})


class PublishedReportDetailView(LoginRequiredMixin, View):
    """A published report exactly as it was circulated, with its integrity check."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = access_published_report(request.user, pk)
        return render(
            request,
            "indicators/published_detail.html",
            {
                "report": report,
                "intact": published_report_verify(report),
                "rows": report.table,
                "definitions_changed": report.definition_fingerprint != definition_sets().get(report.set_name, definition_set()).fingerprint,
                "list_url": reverse("indicators:published_list"),
            },
        )
