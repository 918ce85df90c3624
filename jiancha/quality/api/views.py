"""The quality API: findings (filtered), a case's findings and grade, the rule sets.

The same access path and selectors as the pages: a case the user may not see is a 404, and
the finding list only holds findings of cases the user may see.
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
from jiancha.quality.access import access_case_quality
from jiancha.quality.api.serializers import (
    CaseFindingsOutputSerializer,
    FindingOutputSerializer,
    RuleSetOutputSerializer,
)
from jiancha.quality.choices import Severity
from jiancha.quality.models import Finding
from jiancha.quality.rules.registry import rulesets
from jiancha.quality.selectors import (
    FindingFilters,
    case_findings,
    case_grade,
    finding_list,
)

ERROR_RESPONSES = {
    400: ErrorOutputSerializer,
    401: ErrorOutputSerializer,
    403: ErrorOutputSerializer,
}

FINDING_FILTER_PARAMETERS = [
    OpenApiParameter(
        "unit",
        OpenApiTypes.STR,
        description=_("org code: findings of that unit and the units below it"),
    ),
    OpenApiParameter("rule", OpenApiTypes.STR, description=_("rule id, e.g. CR-T04")),
    OpenApiParameter("severity", OpenApiTypes.STR, enum=Severity.values),
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        description=_(
            "closing date of the case: 2024, 2024-03, 2024-Q1 or 2024-01-01..2024-06-30"
        ),
    ),
    OpenApiParameter(
        "period_from",
        OpenApiTypes.DATE,
        description=_("closed on or after (YYYY-MM-DD)"),
    ),
    OpenApiParameter(
        "period_to",
        OpenApiTypes.DATE,
        description=_("closed on or before (YYYY-MM-DD)"),
    ),
    OpenApiParameter(
        "procurator",
        OpenApiTypes.STR,
        description=_("staff number of the handling procurator"),
    ),
]


class FindingListApi(generics.ListAPIView[Finding]):
    """Current findings of the cases the user may see, most serious first."""

    serializer_class = FindingOutputSerializer
    pagination_class = ApiPagination
    filter_backends: list[type] = []  # FindingFilters does the filtering, as in the UI

    def get_queryset(self) -> QuerySet[Finding]:
        filters = FindingFilters.from_params(self.request.query_params)
        if filters.errors:
            raise ValidationError(
                {name: [message] for name, message in filters.errors.items()}
            )
        return finding_list(user=self.request.user, filters=filters)

    @extend_schema(
        parameters=FINDING_FILTER_PARAMETERS,
        responses={200: FindingOutputSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CaseFindingListApi(APIView):
    """A case's current findings and its suggested grade."""

    @extend_schema(
        responses={
            200: CaseFindingsOutputSerializer,
            404: ErrorOutputSerializer,
            401: ErrorOutputSerializer,
            403: ErrorOutputSerializer,
        }
    )
    def get(self, request: Request, pk: int) -> Response:
        case = access_case_quality(request.user, pk)
        grade = case_grade(case)
        findings = [finding for finding in case_findings(case)]
        for finding in findings:
            finding.case = (
                case  # the serializer reads case and unit without another query
            )
            finding.unit = case.unit
        data = {
            "case": case.pk,
            "case_id": case.case_id,
            "unit_code": case.unit.code,
            "grade": {
                "state": grade.state,
                "grade": grade.grade,
                "failures": grade.failures,
                "defects": grade.defects,
                "notices": grade.notices,
                "ruleset_version": grade.ruleset_version,
                "evaluated_at": grade.evaluated_at,
            },
            "findings": findings,
        }
        return Response(
            CaseFindingsOutputSerializer(data, context={"request": request}).data
        )


class RuleSetListApi(APIView):
    """Every rule set with its rules, severities and legal basis."""

    @extend_schema(
        responses={
            200: RuleSetOutputSerializer(many=True),
            401: ErrorOutputSerializer,
            403: ErrorOutputSerializer,
        }
    )
    def get(self, request: Request) -> Response:
        return Response(RuleSetOutputSerializer(list(rulesets()), many=True).data)
