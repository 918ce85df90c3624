"""Admin: evaluation runs, findings and grades, read-only (they are written by the engine)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jiancha.quality.models import CaseEvaluation, EvaluationRun, Finding


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "kind",
        "status",
        "cases",
        "cases_changed",
        "findings_raised",
        "findings_retired",
        "seconds",
    ]
    list_filter = ["kind", "status"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "rule_id",
        "severity",
        "subject",
        "ruleset_version",
        "period",
        "current",
        "raised_at",
    ]
    list_filter = ["current", "severity", "ruleset_version"]
    search_fields = ["rule_id", "case__case_id"]
    raw_id_fields = ["case", "unit", "run"]
    list_select_related = ["case"]
    show_full_result_count = False


@admin.register(CaseEvaluation)
class CaseEvaluationAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "grade",
        "failures",
        "defects",
        "notices",
        "ruleset_version",
        "evaluated_at",
    ]
    list_filter = ["grade", "ruleset_version"]
    raw_id_fields = ["case", "unit", "run"]
    list_select_related = ["case"]
    show_full_result_count = False
