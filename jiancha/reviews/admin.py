"""Admin: plans, drawn cases, reviews and objections, read-only (written by the services,
which check the rules and write the audit log)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jiancha.reviews.models import Objection, PlanCase, Review, ReviewPlan


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewPlan)
class ReviewPlanAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "kind",
        "unit",
        "period_from",
        "period_to",
        "status",
        "seed",
        "candidate_count",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["name", "unit__code"]
    raw_id_fields = ["unit", "created_by", "drawn_by"]


@admin.register(PlanCase)
class PlanCaseAdmin(ReadOnlyAdmin):
    list_display = ["plan", "position", "case", "stratum", "reasons"]
    raw_id_fields = ["plan", "case"]
    list_select_related = ["plan", "case"]
    show_full_result_count = False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "plan",
        "reviewer",
        "status",
        "grade",
        "final_grade",
        "submitted_at",
    ]
    list_filter = ["status", "final_grade"]
    search_fields = ["case__case_id", "procurator_id"]
    raw_id_fields = ["plan", "case", "case_unit", "reviewer", "assigned_by"]
    list_select_related = ["case", "plan", "reviewer"]
    show_full_result_count = False


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = [
        "review",
        "filed_by",
        "filed_at",
        "decision",
        "decided_grade",
        "decided_at",
    ]
    list_filter = ["decision"]
    raw_id_fields = ["review", "filed_by", "decided_by"]
