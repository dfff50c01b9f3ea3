"""How engagement values look in the admin: coloured status badges, type badges, links."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join

from engagement.models.results import CustomerType, Status

STATUS_COLOURS = {
    Status.NEW: "#2563eb",
    Status.ACTIVE: "#15803d",
    Status.PASSIVE: "#64748b",
    Status.AT_RISK: "#b45309",
    Status.INACTIVE: "#b91c1c",
    Status.CHURNED: "#44403c",
}
TYPE_COLOUR = "#475569"
STATUS_LABELS = dict(Status.choices)
TYPE_LABELS = dict(CustomerType.choices)

_BADGE = (
    '<span class="engagement-badge" style="display:inline-block;padding:1px 7px;'
    'border-radius:9px;white-space:nowrap;font-size:11px;color:#fff;background:{}">{}</span>'
)


def status_badge(status: str, *, reactivated: bool = False):
    if not status:
        return "-"
    label = STATUS_LABELS.get(status, status)
    if reactivated:
        label = f"{label} (reactivated)"
    return format_html(_BADGE, STATUS_COLOURS.get(status, "#64748b"), label)


def type_badges(types):
    if not types:
        return "-"
    return format_html_join(
        " ", _BADGE, ((TYPE_COLOUR, TYPE_LABELS.get(code, code)) for code in types)
    )


def customer_link(customer):
    """A link to the customer's page; `customer` must already be joined (no query)."""
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{}</a>', url, customer.name)
