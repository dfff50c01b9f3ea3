"""Every API error is JSON naming what went wrong; no stack trace ever reaches a client.

- DRF's own errors keep their shape: `{"field": ["message"]}` for validation errors,
  `{"detail": "..."}` for authentication, permission, not found and throttling.
- A Django `ValidationError` raised by a service becomes a 400 keyed by the field(s) it
  names (`__all__` is renamed `non_field_errors`, as DRF does).
- Anything else is logged with its traceback and answers `{"detail": "Server error."}`
  with status 500, whatever DEBUG says.
- `not_found` / `server_error` are Django's handler404/handler500 for paths under /api/,
  so an unknown URL there answers JSON too.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from .json_renderer import JSONRenderer
from .parsers import PayloadTooLarge

logger = logging.getLogger("crm.api")


def _answer_json(context) -> None:
    """Errors are JSON whatever the client asked for (`?format=csv`, the browsable API's HTML
    aside): a client parsing an error never has to guess its shape."""
    request = context.get("request")
    if request is not None and getattr(request, "accepted_media_type", "") != "text/html":
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def exception_handler(exc, context):
    _answer_json(context)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, OverflowError | DataError):
        # An id or amount beyond what the database stores (SQLite: OverflowError,
        # PostgreSQL: DataError): the client's input, not a server fault.
        exc = exceptions.ValidationError({"non_field_errors": ["A number is out of range."]})
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    view = context.get("view")
    logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
    return Response({"detail": "Server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception or Http404())


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Permission denied."}, status=403)
    return defaults.permission_denied(request, exception or DjangoPermissionDenied())


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)
