"""JSON of the API: money (Decimal) is a string, as DRF's serializer fields render it.

Views that answer plain dicts (metrics, summaries) would otherwise get floats from DRF's
encoder, and the same amount would change type between endpoints.
"""

from decimal import Decimal

from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder


class DecimalAsStringEncoder(JSONEncoder):
    def default(self, obj):
        if isinstance(obj, Decimal):
            return str(obj)
        return super().default(obj)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = DecimalAsStringEncoder
