"""The engagement panel of the customer page (a face; rendered by customers.admin.customer).

customer_panel_context(customer, as_of=None) answers everything the panel shows, in a
fixed number of queries whatever the customer's history: the live evaluation as of the
day (engagement_evaluate, with every reason), the stored result of the last recompute,
and the latest status-history rows.
"""

import datetime as dt

from django.urls import reverse

from engagement.admin.display import STATUS_LABELS
from engagement.engine.live import engagement_evaluate
from engagement.models.results import CustomerType, EngagementResult, StatusHistory

TEMPLATE = "admin/engagement/panel.html"
HISTORY_ROWS = 20

_FIGURE_LABELS = {
    "mrr": "MRR",
    "activity_365": "activities in 365 days",
    "channels_90": "channels in 90 days",
    "revenue_365": "revenue in 365 days",
    "prev_activity_on": "last activity before the active window",
    "first_window_activity_on": "first activity in the active window",
}


def customer_panel_context(customer, as_of: dt.date | None = None) -> dict:
    live = engagement_evaluate(customer_id=customer.pk, as_of=as_of)
    stored = (
        EngagementResult.objects.select_related("rule_set").filter(customer_id=customer.pk).first()
    )
    history = list(
        StatusHistory.objects.filter(customer_id=customer.pk)
        .select_related("rule_set")
        .order_by("-as_of", "-id")[:HISTORY_ROWS]
    )
    type_reasons = live.reasons.get("types", {})
    return {
        "template": TEMPLATE,
        "as_of": live.as_of,
        "status": live.status,
        "status_label": STATUS_LABELS.get(live.status, live.status),
        "status_reason": live.reasons.get("status", ""),
        "reactivated": live.reactivated,
        "reactivated_reason": live.reasons.get("reactivated", ""),
        "types": list(live.types),
        "type_reasons": [
            {
                "code": code,
                "label": label,
                "held": code in live.types,
                "reason": type_reasons.get(code, ""),
            }
            for code, label in CustomerType.choices
        ],
        "score": live.score,
        "rfm": live.rfm,
        "rule_version": live.rule_version,
        "figures": [(_figure_label(name), value) for name, value in live.metrics.items()],
        "stored": stored,
        # Today's evaluation and the last recompute disagree until the next refresh.
        "stored_differs": stored is not None
        and (
            stored.status != live.status
            or set(stored.types) != set(live.types)
            or stored.reactivated != live.reactivated
        ),
        "history": history,
        "history_url": (
            f"{reverse('admin:engagement_statushistory_changelist')}"
            f"?customer__id__exact={customer.pk}"
        ),
    }


def _figure_label(name: str) -> str:
    return _FIGURE_LABELS.get(name, name.replace("_", " "))
