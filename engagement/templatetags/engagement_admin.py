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
    """`types`: one code, or a list of codes."""
    return _type_badges([types] if isinstance(types, str) else types)
