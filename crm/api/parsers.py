"""JSON bodies with a size limit, checked before anything is read."""

from django.conf import settings
from rest_framework.parsers import JSONParser

from .exceptions import PayloadTooLarge


def max_body_bytes() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


class LimitedJSONParser(JSONParser):
    """JSONParser that refuses a body over API_MAX_BODY_BYTES with 413 (never parses it).

    DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = max_body_bytes()
        if request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise PayloadTooLarge(f"Request body too large: at most {limit} bytes.")
        return super().parse(stream, media_type, parser_context)
