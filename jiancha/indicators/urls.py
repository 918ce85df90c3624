from django.urls import path

from jiancha.indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.IndicatorDashboardView.as_view(), name="dashboard"),
    path("cases/", views.IndicatorCasesView.as_view(), name="cases"),
    path("export.xlsx", views.IndicatorExportView.as_view(), name="export"),
    path("publish/", views.ReportPublishView.as_view(), name="publish"),
    path("published/", views.PublishedReportListView.as_view(), name="published_list"),
    path("published/<int:pk>/", views.PublishedReportDetailView.as_view(), name="published_detail"),
]
