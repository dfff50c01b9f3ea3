"""How engagement values look in the admin: one colour per status, badges, links, and the
words for outcomes (rates, uplifts and what their intervals say).

STATUS_COLOURS is the one palette of the statuses: the badges of every list and page, and
the customer timeline's status strip.
"""

import functools
from decimal import Decimal

from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from crm.admin import badge
from engagement.models.results import CustomerType, Status
from engagement.workflow.outcome_stats import MIN_ARM_SIZE

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
    return _status_badge(status, reactivated, get_language())


def type_badges(types):
    if not types:
        return "-"
    language = get_language()
    return mark_safe(" ".join(_type_badge(code, language) for code in types))


# A list page shows the same few badges a hundred times: each is formatted once per
# language (labels are translated).
@functools.cache
def _status_badge(status: str, reactivated: bool, language: str):
    label = STATUS_LABELS.get(status, status)
    if reactivated:
        label = f"{label} (reactivated)"
    return badge(status_colour(status), label, css_class=CSS_CLASS)


@functools.cache
def _type_badge(code: str, language: str):
    return badge(TYPE_COLOUR, TYPE_LABELS.get(code, code), css_class=CSS_CLASS)


def rate_text(value) -> str:
    """A rate (fraction) as a percent; a dash when there is none."""
    return "\u2013" if value is None else f"{value * 100:.1f}%"


def uplift_text(uplift: dict | None, *, money: bool = False) -> str:
    """An uplift with its 95% interval: rates in percentage points, money as amounts."""
    if uplift is None:
        return f"not enough data (fewer than {MIN_ARM_SIZE} in an arm)"
    if money:
        value, low, high = (f"{Decimal(uplift[k]):+,.2f}" for k in ("value", "low", "high"))
    else:
        value, low, high = (f"{uplift[k] * 100:+.1f}" for k in ("value", "low", "high"))
        value += " points"
    return f"{value} (95% interval {low} to {high})"


def uplift_verdict(uplift: dict | None) -> str:
    """What a conversion uplift's interval says, in words."""
    if uplift is None:
        return "Not enough data yet."
    if uplift["low"] > 0:
        return "Converts more than the control group: the interval is above zero."
    if uplift["high"] < 0:
        return "Converts less than the control group: the interval is below zero."
    return "No difference shown: the interval includes zero."
