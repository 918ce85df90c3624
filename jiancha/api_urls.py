"""Every app's API under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("jiancha.accounts.api.urls")),
    path("", include("jiancha.cases.api.urls")),
    path("", include("jiancha.quality.api.urls")),
    path("", include("jiancha.indicators.api.urls")),
    path("", include("jiancha.reviews.api.urls")),
]
