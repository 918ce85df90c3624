"""Admin for cases (read-only; cases change only through the importer) and case grants.

Both lists start from ``Case.objects.visible_to`` like every other view (STYLE.md §4), and
opening a case is audited like in the UI and the API.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from jiancha.accounts.choices import Role
from jiancha.cases.choices import GrantReason
from jiancha.cases.models import Case, CaseGrant, Event, Person
from jiancha.cases.services import case_grants_revoke
from jiancha.core.admin import AuditedAdminMixin, ReadOnlyAdminMixin
from jiancha.core.audit import audit_record


class PersonInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Person
    fields = [
        "position",
        "person_id",
        "name",
        "juvenile",
        "plea_leniency",
        "charges",
        "articles",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Event
    fields = ["on", "type", "person", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "case_id",
        "unit",
        "procedure",
        "business_line",
        "procurator_id",
        "received_on",
        "closed_on",
    ]
    list_filter = ["business_line", "procedure"]
    list_select_related = ["unit"]
    # The search box takes an exact case or matter number, which both have an index.
    search_fields = ["case_id"]
    search_help_text = _("Exact case number or matter number.")
    ordering = ["-received_on", "-id"]
    show_full_result_count = False
    list_per_page = 50
    inlines = [PersonInline, EventInline]
    readonly_fields = [
        "unit",
        "case_id",
        "matter_id",
        "business_line",
        "procedure",
        "procurator_id",
        "received_on",
        "closed_on",
        "detained",
        "fast_track",
        "complex",
        "primary_charge",
        "person_count",
        "facts",
        "extra",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[attr-defined,no-any-return]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Case], search_term: str
    ) -> tuple[QuerySet[Case], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(case_id=term) | Q(matter_id=term)), False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            case = self.get_object(request, unquote(object_id))
            if case is not None:
                audit_record(
                    actor=request.user,
                    verb="cases.view",
                    target=case,
                    request=request,
                    details={"via": "admin"},
                )
        return response


class CaseGrantForm(forms.ModelForm):
    class Meta:
        model = CaseGrant
        fields = ["case", "user", "reason", "reference", "expires_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user = data.get("user")
        if (
            data.get("reason") == GrantReason.SUPERVISOR
            and user is not None
            and user.role != Role.SUPERVISOR
        ):
            self.add_error(
                "user", _("Only a people's supervisor can be assigned a case.")
            )
        return data


@admin.register(CaseGrant)
class CaseGrantAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Grants are made here for people's supervisors and by the review workflow; ending
    one means setting its revocation (a grant is never deleted, see ``CaseGrant``)."""

    form = CaseGrantForm
    list_display = [
        "case",
        "user",
        "reason",
        "reference",
        "granted_by",
        "granted_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["reason"]
    list_select_related = ["case", "user", "granted_by"]
    autocomplete_fields = ["case", "user"]
    readonly_fields = ["granted_by", "granted_at", "revoked_at", "revoked_by"]
    search_fields = ["=case__case_id", "user__username"]
    show_full_result_count = False
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseGrant]:
        return (
            super()
            .get_queryset(request)
            .filter(case__in=Case.objects.visible_to(request.user))
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        # A crafted form must not grant a case the admin user cannot see.
        if db_field.name == "case":
            kwargs["queryset"] = Case.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self,
        request: HttpRequest,
        obj: CaseGrant,
        form: forms.ModelForm,
        change: bool,
    ) -> None:
        if not change:
            obj.granted_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke the selected grants"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[CaseGrant]) -> None:
        for grant in queryset.filter(revoked_at__isnull=True):
            case_grants_revoke(
                case=grant.case,
                user=grant.user,
                reason=grant.reason,
                reference=grant.reference,
                revoked_by=request.user,
            )
