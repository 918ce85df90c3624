"""The cases API: the filtered case list and the full case (STYLE.md §9).

Both go through the same selectors and access checks as the web UI: the list accepts
exactly the filters of the case list page (``CaseFilters``), and a case the user may not
see is a 404.
"""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jiancha.accounts.api.serializers import ErrorOutputSerializer
from jiancha.accounts.api.views import ApiPagination
from jiancha.cases.access import access_case, names_hidden_for
from jiancha.cases.api.serializers import (
    CaseDetailOutputSerializer,
    CaseListOutputSerializer,
)
from jiancha.cases.choices import BusinessLine, CaseStatus, Procedure
from jiancha.cases.models import Case
from jiancha.cases.selectors import (
    SORTS,
    CaseFilters,
    case_events,
    case_list,
    case_persons,
)
from jiancha.core.audit import audit_record

CASE_FILTER_PARAMETERS = [
    OpenApiParameter(
        "unit",
        OpenApiTypes.STR,
        description=_("org code: cases of that unit and the units below it"),
    ),
    OpenApiParameter("business_line", OpenApiTypes.STR, enum=BusinessLine.values),
    OpenApiParameter("procedure", OpenApiTypes.STR, enum=Procedure.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=CaseStatus.values),
    OpenApiParameter(
        "received_from",
        OpenApiTypes.DATE,
        description=_("received on or after (YYYY-MM-DD)"),
    ),
    OpenApiParameter(
        "received_to",
        OpenApiTypes.DATE,
        description=_("received on or before (YYYY-MM-DD)"),
    ),
    OpenApiParameter(
        "procurator",
        OpenApiTypes.STR,
        description=_("staff number of the handling procurator"),
    ),
    OpenApiParameter(
        "charge",
        OpenApiTypes.STR,
        description=_("a charge named on the case, e.g. 故意伤害罪"),
    ),
    OpenApiParameter(
        "q", OpenApiTypes.STR, description=_("case number (prefix) or matter number")
    ),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(SORTS)),
]
ERROR_RESPONSES = {
    400: ErrorOutputSerializer,
    401: ErrorOutputSerializer,
    403: ErrorOutputSerializer,
}


class CaseListApi(generics.ListAPIView[Case]):
    """The cases the user may see, filtered as on the case list page."""

    serializer_class = CaseListOutputSerializer
    pagination_class = ApiPagination
    filter_backends: list[type] = []  # CaseFilters does the filtering, as in the UI

    def get_queryset(self) -> QuerySet[Case]:
        filters = CaseFilters.from_params(self.request.query_params)
        if filters.errors:
            raise ValidationError(
                {name: [message] for name, message in filters.errors.items()}
            )
        return case_list(user=self.request.user, filters=filters)

    @extend_schema(
        parameters=CASE_FILTER_PARAMETERS,
        responses={200: CaseListOutputSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CaseDetailApi(APIView):
    """One case with its persons and events; every read is audited."""

    @extend_schema(
        responses={
            200: CaseDetailOutputSerializer,
            404: ErrorOutputSerializer,
            401: ErrorOutputSerializer,
            403: ErrorOutputSerializer,
        }
    )
    def get(self, request: Request, pk: int) -> Response:
        case = access_case(request.user, pk)
        context = {
            "request": request,
            "hide_names": names_hidden_for(request.user),
            "persons": case_persons(case),
            "events": case_events(case),
        }
        data = CaseDetailOutputSerializer(case, context=context).data
        audit_record(
            actor=request.user,
            verb="cases.view",
            target=case,
            request=request._request,
            details={"via": "api"},
        )
        return Response(data)
