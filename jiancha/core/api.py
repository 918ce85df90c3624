"""One JSON error shape for the API: {"code", "message", "fields"} (STYLE.md §9)."""

from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jiancha.core.errors import BusinessError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BusinessError):
        return Response({"code": exc.code, "message": exc.message, "fields": {}}, status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404 | exceptions.NotFound):
        code, message, fields = "not_found", "Not found.", {}
    elif isinstance(exc, exceptions.ValidationError):
        code, message = "invalid", "Invalid input."
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
    elif isinstance(exc, exceptions.APIException):
        code = str(exc.default_code)
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        message, fields = str(detail), {}
    else:  # pragma: no cover - drf only handles APIException and Http404
        code, message, fields = "error", str(exc), {}
    response.data = {"code": code, "message": message, "fields": fields}
    return response
