"""Engagement badges for admin templates (the same look as the admin lists)."""

from django import template

from engagement.admin.display import status_badge as _status_badge
from engagement.admin.display import type_badges as _type_badges

register = template.Library()


@register.simple_tag
def status_badge(status, reactivated=False):
    return _status_badge(status, reactivated=bool(reactivated))


@register.simple_tag
def type_badges(types):
    """`types`: one code, or codes, or (code, label) pairs."""
    if isinstance(types, str):
        types = [types]
    codes = [t[0] if isinstance(t, tuple | list) else t for t in types or ()]
    return _type_badges(codes)
