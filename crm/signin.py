"""Sign-in lockout (django-axes): the client address it counts by and the answer it gives.

A username that fails 10 times from one address is locked there for 15 minutes
(settings AXES_*). Attempts live in the database, so every gunicorn worker and every
server sees the same count. The API answers 429 JSON; the admin login page says so.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import JsonResponse
from django.template.response import TemplateResponse


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return (
        "Too many failed sign-in attempts: this username is locked from your address for "
        f"{lockout_minutes()} minutes."
    )


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind NUM_PROXIES trusted reverse proxies the
    address the outermost of them saw (X-Forwarded-For), as DRF's throttles count it."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 for a locked sign-in, JSON under /api/, else the login page."""
    message = lockout_message()
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        context = {
            **admin.site.each_context(request),
            "title": "Log in",
            "app_path": request.get_full_path(),
            "form": AdminAuthenticationForm(request),
            "next": request.POST.get("next") or request.GET.get("next") or "",
            "lockout_message": message,
        }
        response = TemplateResponse(request, "admin/login_locked.html", context, status=429)
        response.render()
    response["Retry-After"] = str(seconds)
    return response
