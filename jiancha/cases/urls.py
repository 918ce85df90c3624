from django.urls import path

from jiancha.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="case_list"),
    path("count/", views.CaseCountView.as_view(), name="case_count"),
    path("export.xlsx", views.CaseExportView.as_view(), name="case_export"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
]
