"""Engagement badges for admin templates (the same look as the admin lists)."""

import datetime as dt

from django import template

from engagement.admin.display import status_badge as _status_badge
from engagement.admin.display import type_badges as _type_badges

register = template.Library()

# A mark older than this means no drain ran for it: the sweep runs every minute.
BACKLOG_LATE_AFTER = dt.timedelta(minutes=2)


@register.simple_tag
def status_badge(status, reactivated=False):
    return _status_badge(status, reactivated=bool(reactivated))


@register.simple_tag
def type_badges(types):
    """`types`: one code, or a list of codes."""
    return _type_badges([types] if isinstance(types, str) else types)


@register.simple_tag
def refresh_backlog(user):
    """For the admin index: the refresh outbox's backlog, for CRM admins (None for others).

    {"customers": n, "since": oldest mark's time or None, "late": True when the oldest has
    waited past LATE_AFTER: drains are not running (broker or worker down)}.
    """
    from django.utils import timezone

    from crm import permissions
    from customers.outbox import customer_changes_backlog

    if not permissions.can_manage_configuration(user):
        return None
    customers, since = customer_changes_backlog()
    late = since is not None and timezone.now() - since > BACKLOG_LATE_AFTER
    return {"customers": customers, "since": since, "late": late}
