from django.urls import path

from jiancha.reviews.api import views

urlpatterns = [
    path("reviews/", views.ReviewListApi.as_view(), name="api-review-list"),
    path(
        "reviews/<int:pk>/", views.ReviewDetailApi.as_view(), name="api-review-detail"
    ),
]
