"""The indicators API: figures per unit and period, and the definitions behind them.

Both go through the access path of the dashboard (``access_indicator_unit``): a unit
outside the user's scope is a 404.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jiancha.accounts.api.serializers import ErrorOutputSerializer
from jiancha.indicators.access import access_indicator_unit
from jiancha.indicators.api.serializers import (
    IndicatorDefinitionOutputSerializer,
    IndicatorValueOutputSerializer,
)
from jiancha.indicators.definitions import definition_set
from jiancha.indicators.engines import get_engine
from jiancha.indicators.forms import parse_query
from jiancha.indicators.services import IndicatorFilters, indicator_report

ERRORS = {400: ErrorOutputSerializer, 401: ErrorOutputSerializer, 403: ErrorOutputSerializer, 404: ErrorOutputSerializer}


class IndicatorListApi(APIView):
    """Indicator values of a unit (its whole subtree) per period."""

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", OpenApiTypes.STR, description=_("org code (default: the user's unit)")),
            OpenApiParameter("from", OpenApiTypes.DATE, description=_("first day (default: 1 January of this year)")),
            OpenApiParameter("to", OpenApiTypes.DATE, description=_("last day (default: today)")),
            OpenApiParameter("by", OpenApiTypes.STR, enum=["month", "quarter", "year"], description=_("one row per period; without it one row for the whole range")),
            OpenApiParameter("set", OpenApiTypes.STR, enum=["2021", "2023", "2024", "current"]),
            OpenApiParameter("indicator", OpenApiTypes.STR, many=True, description=_("indicator ids (default: all of the set)")),
            OpenApiParameter("business_line", OpenApiTypes.STR),
            OpenApiParameter("department", OpenApiTypes.INT, description=_("a department of the unit (its business lines, the unit's own cases)")),
            OpenApiParameter("procurator", OpenApiTypes.STR, description=_("staff number: that procurator's cases in the unit")),
            OpenApiParameter("compare", OpenApiTypes.BOOL, description=_("add previous-year, parent and national values")),
        ],
        responses={200: IndicatorValueOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = parse_query(request.query_params)
        if query.errors:
            raise ValidationError({name: [message] for name, message in query.errors.items()})
        access = access_indicator_unit(request.user, query.unit or None)
        if query.department is not None and query.department.unit_id != access.unit.pk:
            raise ValidationError({"department": [str(_("Choose a department of the selected unit."))]})
        compare = str(request.query_params.get("compare", "")).lower() in {"1", "true", "yes"}
        date_from, date_to = query.dates
        with get_engine() as engine:
            report = indicator_report(
                unit=access.unit, subtree=access.subtree, date_from=date_from, date_to=date_to, by=query.by,
                engine=engine, set_name=query.set_name, indicator_ids=query.indicators,
                filters=IndicatorFilters(business_line=query.business_line, department=query.department, procurator=query.procurator),
                compare=compare,
            )
        return Response(IndicatorValueOutputSerializer([row.as_dict() for row in report.rows], many=True).data)


class IndicatorDefinitionListApi(APIView):
    """The definitions of a set: formulas' metadata and plain-language explanations."""

    @extend_schema(
        parameters=[OpenApiParameter("set", OpenApiTypes.STR, enum=["2021", "2023", "2024", "current"])],
        responses={200: IndicatorDefinitionOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            definitions = definition_set(request.query_params.get("set") or "current")
        except KeyError:
            raise ValidationError({"set": [str(_("Unknown definition set."))]}) from None
        return Response(IndicatorDefinitionOutputSerializer(definitions.indicators, many=True).data)
