from django.urls import path

from jiancha.reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("plans/", views.PlanListView.as_view(), name="plan_list"),
    path("plans/new/", views.PlanCreateView.as_view(), name="plan_create"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("plans/<int:pk>/draw/", views.PlanDrawView.as_view(), name="plan_draw"),
    path("plans/<int:pk>/assign/", views.PlanAssignView.as_view(), name="plan_assign"),
    path(
        "plans/<int:pk>/reassign/",
        views.PlanReassignView.as_view(),
        name="plan_reassign",
    ),
    path("plans/<int:pk>/close/", views.PlanCloseView.as_view(), name="plan_close"),
    path("plans/<int:pk>/cancel/", views.PlanCancelView.as_view(), name="plan_cancel"),
    path("plans/<int:pk>/report/", views.PlanReportView.as_view(), name="plan_report"),
    path(
        "plans/<int:pk>/report.xlsx",
        views.PlanReportExcelView.as_view(),
        name="plan_report_xlsx",
    ),
    path("<int:pk>/", views.ReviewDetailView.as_view(), name="review_detail"),
    path("<int:pk>/objection/", views.ObjectionView.as_view(), name="objection"),
    path("<int:pk>/decision/", views.DecisionView.as_view(), name="decision"),
    path(
        "cases/<int:case_pk>/history/",
        views.CaseHistoryView.as_view(),
        name="case_history",
    ),
    path(
        "cases/<int:case_pk>/report/",
        views.CaseReportView.as_view(),
        name="case_report",
    ),
    path(
        "cases/<int:case_pk>/report.xlsx",
        views.CaseReportExcelView.as_view(),
        name="case_report_xlsx",
    ),
]
