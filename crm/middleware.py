"""Request checks every page and endpoint shares."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.html import escape

_NUL = "\x00"
_MESSAGE = "Null characters are not allowed."


class NullCharactersMiddleware:
    """A NUL character in a query parameter answers 400 naming the parameter.

    PostgreSQL refuses NUL in text (a search for it would fail deep in a query), and no
    name, date, id or word contains one: refuse it at the door, for the API and the admin.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if _NUL in name or any(_NUL in value for value in values):
                field = name.replace(_NUL, "") or "query"
                if request.path.startswith("/api/"):
                    return JsonResponse({field: [_MESSAGE]}, status=400)
                return HttpResponseBadRequest(f"{escape(field)}: {_MESSAGE}")
        return self.get_response(request)
