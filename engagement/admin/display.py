"""How engagement values look in the admin: one colour per status, badges, links.

STATUS_COLOURS is the one palette of the statuses: the badges of every list and page, and
the customer timeline's status strip.
"""

from crm.admin import badge, badges
from engagement.models.results import CustomerType, Status

STATUS_COLOURS = {
    Status.NEW: "#2563eb",
    Status.ACTIVE: "#15803d",
    Status.PASSIVE: "#64748b",
    Status.AT_RISK: "#b45309",
    Status.INACTIVE: "#b91c1c",
    Status.CHURNED: "#44403c",
}
OTHER_COLOUR = "#64748b"
TYPE_COLOUR = "#475569"
CSS_CLASS = "engagement-badge"
STATUS_LABELS = dict(Status.choices)
TYPE_LABELS = dict(CustomerType.choices)


def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, OTHER_COLOUR)


def status_badge(status: str, *, reactivated: bool = False):
    if not status:
        return "-"
    label = STATUS_LABELS.get(status, status)
    if reactivated:
        label = f"{label} (reactivated)"
    return badge(status_colour(status), label, css_class=CSS_CLASS)


def type_badges(types):
    if not types:
        return "-"
    return badges(
        ((TYPE_COLOUR, TYPE_LABELS.get(code, code)) for code in types), css_class=CSS_CLASS
    )
