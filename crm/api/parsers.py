"""Request body parsers with one size limit, checked before anything is read.

DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, and
its form and multipart parsers have no cap of their own: each parser here refuses a body
over API_MAX_BODY_BYTES with 413 before parsing it.
"""

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser


class PayloadTooLarge(exceptions.APIException):
    # Here, not in crm.api.exceptions: DRF's APIView reads DEFAULT_PARSER_CLASSES while
    # that module is still importing rest_framework.views.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def max_body_bytes() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def check_body_size(parser_context) -> None:
    """Raise PayloadTooLarge (413) when the request declares a body over the limit."""
    request = (parser_context or {}).get("request")
    if request is None:
        return
    limit = max_body_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise PayloadTooLarge(f"Request body too large: at most {limit} bytes.")


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_body_size(parser_context)
        return super().parse(stream, media_type, parser_context)


class LimitedFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_body_size(parser_context)
        return super().parse(stream, media_type, parser_context)


class LimitedMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_body_size(parser_context)
        return super().parse(stream, media_type, parser_context)
