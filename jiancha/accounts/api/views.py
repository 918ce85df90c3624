"""The accounts API: API tokens and the unit tree (STYLE.md §9)."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jiancha.accounts.access import unit_visible_to
from jiancha.accounts.api.serializers import (
    ErrorOutputSerializer,
    TokenCreateInputSerializer,
    TokenCreateOutputSerializer,
    UnitOutputSerializer,
)
from jiancha.accounts.choices import Level
from jiancha.accounts.models import Unit
from jiancha.accounts.services import token_obtain


class ApiPagination(PageNumberPagination):
    """Page-number pagination shared by the list endpoints; ``page_size`` is capped at 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class TokenCreateApi(APIView):
    """Exchange a username and password for an API token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenCreateInputSerializer,
        responses={200: TokenCreateOutputSerializer, 400: ErrorOutputSerializer, 429: ErrorOutputSerializer},
        description=_("Refused with 429 `login_locked` after too many failed logins of the username."),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = token_obtain(request=request._request, **serializer.validated_data)
        return Response(
            TokenCreateOutputSerializer({"token": token.key}).data,
            status=status.HTTP_200_OK,
        )


class UnitFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(
        field_name="parent__code", help_text=_("org code of the parent unit")
    )
    level = django_filters.TypedChoiceFilter(choices=Level.choices, coerce=int)

    class Meta:
        model = Unit
        fields = ["parent", "level"]


class UnitListApi(generics.ListAPIView[Unit]):
    """The units whose records the user may see, in tree order."""

    serializer_class = UnitOutputSerializer
    pagination_class = ApiPagination
    filterset_class = UnitFilter

    def get_queryset(self) -> QuerySet[Unit]:
        return (
            unit_visible_to(self.request.user).select_related("parent").order_by("path")
        )

    @extend_schema(
        responses={
            200: UnitOutputSerializer(many=True),
            400: ErrorOutputSerializer,
            401: ErrorOutputSerializer,
        }
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
