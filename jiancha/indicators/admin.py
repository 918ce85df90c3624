"""Admin: reference ranges (issued through the service, so they are audited) and published
reports (read-only: a published table never changes)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jiancha.indicators.models import PublishedReport, ReferenceRange
from jiancha.indicators.services import reference_range_issue


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(admin.ModelAdmin):
    list_display = ("indicator", "issued_by_unit", "year", "low", "high", "issued_by", "issued_at")
    list_filter = ("year", "indicator")
    search_fields = ("indicator", "issued_by_unit__code", "issued_by_unit__name")
    raw_id_fields = ("issued_by_unit",)
    readonly_fields = ("issued_by", "issued_at")

    def save_model(self, request: HttpRequest, obj: ReferenceRange, form: Any, change: bool) -> None:
        issued = reference_range_issue(
            indicator_id=obj.indicator, unit=obj.issued_by_unit, year=obj.year, low=obj.low, high=obj.high,
            actor=request.user, note=obj.note,
        )
        obj.pk = issued.pk


@admin.register(PublishedReport)
class PublishedReportAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "date_from", "date_to", "set_name", "published_by", "published_at")
    list_filter = ("set_name",)
    search_fields = ("title", "unit__code", "unit__name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
