"""Admin for the law reference data: shown and searchable, changed only by migrations."""

from django.contrib import admin

from jiancha.core.admin import ReadOnlyAdminMixin
from jiancha.law.models import Article, Charge


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "seq",
        "name",
        "articles",
        "chapter",
        "section",
        "current",
        "replaced_by",
    ]
    list_filter = ["current", "chapter"]
    search_fields = ["name", "chapter", "replaced_by"]
    ordering = ["seq", "name"]


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["law", "number", "label", "chapter"]
    list_filter = ["law"]
    search_fields = ["=number", "label", "chapter"]
    ordering = ["law", "id"]
