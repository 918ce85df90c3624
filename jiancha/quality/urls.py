from django.urls import path

from jiancha.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("findings/", views.FindingListView.as_view(), name="finding_list"),
    path(
        "findings/export.xlsx",
        views.FindingExportView.as_view(),
        name="finding_export",
    ),
    path("rules/", views.RuleListView.as_view(), name="rule_list"),
    path(
        "cases/<int:pk>/findings/",
        views.CaseFindingsView.as_view(),
        name="case_findings",
    ),
    path(
        "cases/<int:pk>/evaluate/",
        views.CaseEvaluateView.as_view(),
        name="case_evaluate",
    ),
]
