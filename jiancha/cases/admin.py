"""Admin for cases (read-only; cases change only through the importer) and supervisor assignments.

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
from jiancha.cases.models import Case, Event, Person, SupervisorAssignment
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


class SupervisorAssignmentForm(forms.ModelForm):
    class Meta:
        model = SupervisorAssignment
        fields = ["case", "supervisor"]

    def clean_supervisor(self) -> Any:
        supervisor = self.cleaned_data["supervisor"]
        if supervisor is not None and supervisor.role != Role.SUPERVISOR:
            raise forms.ValidationError(
                _("Only a people's supervisor can be assigned a case.")
            )
        return supervisor


@admin.register(SupervisorAssignment)
class SupervisorAssignmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = SupervisorAssignmentForm
    list_display = ["case", "supervisor", "assigned_by", "assigned_at"]
    list_select_related = ["case", "supervisor", "assigned_by"]
    autocomplete_fields = ["case", "supervisor"]
    readonly_fields = ["assigned_by", "assigned_at"]
    search_fields = ["=case__case_id", "supervisor__username"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupervisorAssignment]:
        return (
            super()
            .get_queryset(request)
            .filter(case__in=Case.objects.visible_to(request.user))
        )

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        # A crafted form must not assign a case the admin user cannot see.
        if db_field.name == "case":
            kwargs["queryset"] = Case.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self,
        request: HttpRequest,
        obj: SupervisorAssignment,
        form: forms.ModelForm,
        change: bool,
    ) -> None:
        if not change:
            obj.assigned_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
