from django.urls import path

from jiancha.cases.api import views

urlpatterns = [
    path("cases/", views.CaseListApi.as_view(), name="api-case-list"),
    path("cases/<int:pk>/", views.CaseDetailApi.as_view(), name="api-case-detail"),
]
