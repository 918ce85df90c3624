"""Admin for the organisation: units (read-mostly), departments, staff and users."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from jiancha.accounts.models import Department, Staff, Unit, User
from jiancha.core.admin import AuditedAdminMixin


@admin.register(Unit)
class UnitAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The procuratorate tree is loaded by a migration; only names may be corrected here."""

    list_display = ["code", "name", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name", "full_name"]
    list_select_related = ["parent"]
    readonly_fields = ["code", "parent", "level", "kind", "path"]
    fields = ["code", "name", "full_name", "parent", "level", "kind", "path"]
    ordering = ["path"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "unit", "order"]
    search_fields = ["name", "unit__code", "unit__name"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]


@admin.register(Staff)
class StaffAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "staff_number",
        "unit",
        "department",
        "kind",
        "quota",
        "active",
    ]
    list_filter = ["kind", "quota", "active"]
    search_fields = ["name", "=staff_number", "unit__code"]
    autocomplete_fields = ["unit", "department"]
    list_select_related = ["unit", "department"]
    show_full_result_count = False


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    """Django's user admin plus the unit, the role and the staff record."""

    list_display = ["username", "display_name", "unit", "role", "is_active", "is_staff"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "display_name", "email", "unit__code"]
    list_select_related = ["unit"]
    autocomplete_fields = ["unit", "staff"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Unit and role"), {"fields": ("unit", "role", "staff", "display_name")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "unit",
                    "role",
                    "staff",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """A case grant (cases.CaseGrant) may only pick active users; the grant form checks
        that a supervisor assignment goes to a people's supervisor."""
        queryset, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        if (
            request.GET.get("model_name") == "casegrant"
            and request.GET.get("field_name") == "user"
        ):
            queryset = queryset.filter(is_active=True)
        return queryset, may_have_duplicates
