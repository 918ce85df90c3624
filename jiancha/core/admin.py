"""Admin for the audit log (fully read-only) and a mixin that audits admin writes."""

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from jiancha.core.audit import audit_record
from jiancha.core.models import AuditEntry


class AuditedAdminMixin:
    """Writes an audit entry for every add, change and delete made through the admin.

    The verb is ``<app>.<model>_<create|change|delete>``; the details name the changed
    fields, never their values (a form may carry a password).
    """

    def save_model(
        self, request: HttpRequest, obj: Model, form: ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        action = "change" if change else "create"
        audit_record(
            actor=request.user,
            verb=f"{obj._meta.app_label}.{obj._meta.model_name}_{action}",
            target=obj,
            request=request,
            details={"via": "admin", "fields": sorted(form.changed_data)},
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        target_type, target_id = obj._meta.label_lower, str(obj.pk)
        super().delete_model(request, obj)  # type: ignore[misc]
        audit_record(
            actor=request.user,
            verb=f"{obj._meta.app_label}.{obj._meta.model_name}_delete",
            target_type=target_type,
            target_id=target_id,
            request=request,
            details={"via": "admin"},
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdminMixin:
    """View-only admin: nothing can be added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log is append-only: the admin shows it and offers no way to change it."""

    list_display = [
        "sequence",
        "created_at",
        "actor_username",
        "verb",
        "target_type",
        "target_id",
        "remote_addr",
    ]
    list_filter = ["verb"]
    search_fields = ["=actor_username", "=target_id", "=verb"]
    ordering = ["-sequence"]
    show_full_result_count = False
    date_hierarchy = None
    readonly_fields = [field.name for field in AuditEntry._meta.fields]
    actions = None
