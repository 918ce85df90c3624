from django.urls import path

from jiancha.quality.api import views

urlpatterns = [
    path(
        "cases/<int:pk>/findings/",
        views.CaseFindingListApi.as_view(),
        name="api-case-findings",
    ),
    path("quality/findings/", views.FindingListApi.as_view(), name="api-finding-list"),
    path("quality/rulesets/", views.RuleSetListApi.as_view(), name="api-ruleset-list"),
]
