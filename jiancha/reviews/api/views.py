"""The reviews API: the reviews the user may see, and one review.

Same access path as the pages (``Review.objects.visible_to`` / ``access_review``): a review
the user may not see is a 404.
"""

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jiancha.accounts.api.serializers import ErrorOutputSerializer
from jiancha.accounts.api.views import ApiPagination
from jiancha.reviews.access import access_review
from jiancha.reviews.api.serializers import ReviewOutputSerializer
from jiancha.reviews.choices import ReviewGrade, ReviewStatus
from jiancha.reviews.models import Review
from jiancha.reviews.selectors import review_list

ERROR_RESPONSES = {
    400: ErrorOutputSerializer,
    401: ErrorOutputSerializer,
    403: ErrorOutputSerializer,
}


class ReviewFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    final_grade = django_filters.ChoiceFilter(choices=ReviewGrade.choices)
    plan = django_filters.NumberFilter(field_name="plan_id")
    case = django_filters.NumberFilter(field_name="case_id")

    class Meta:
        model = Review
        fields = ["status", "final_grade", "plan", "case"]


class ReviewListApi(generics.ListAPIView[Review]):
    """The reviews the user may see, newest first."""

    serializer_class = ReviewOutputSerializer
    pagination_class = ApiPagination
    filterset_class = ReviewFilter

    def get_queryset(self) -> QuerySet[Review]:
        return review_list(user=self.request.user)

    @extend_schema(
        responses={200: ReviewOutputSerializer(many=True), **ERROR_RESPONSES}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ReviewDetailApi(APIView):
    """One review with its ratings and objection."""

    @extend_schema(
        responses={
            200: ReviewOutputSerializer,
            404: ErrorOutputSerializer,
            401: ErrorOutputSerializer,
            403: ErrorOutputSerializer,
        }
    )
    def get(self, request: Request, pk: int) -> Response:
        review = access_review(request.user, pk)
        return Response(
            ReviewOutputSerializer(review, context={"request": request}).data
        )
