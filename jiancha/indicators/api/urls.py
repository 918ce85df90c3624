from django.urls import path

from jiancha.indicators.api import views

urlpatterns = [
    path("indicators/", views.IndicatorListApi.as_view(), name="api-indicator-list"),
    path("indicators/definitions/", views.IndicatorDefinitionListApi.as_view(), name="api-indicator-definitions"),
]
