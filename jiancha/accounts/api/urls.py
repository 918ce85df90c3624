from django.urls import path

from jiancha.accounts.api import views

urlpatterns = [
    path("auth/token/", views.TokenCreateApi.as_view(), name="api-token-create"),
    path("units/", views.UnitListApi.as_view(), name="api-unit-list"),
]
