"""The predictions read across customers: predicted 365-day CLV by status and by type, the
value at risk by owner, and predicted CLV of active versus non-active customers.

From the stored predictions (engagement.engine.prediction_service): each customer's latest,
whatever day the model was fitted (`model` says which fit is in use). Archived customers are
not counted; customers without a prediction count as 0 (docs/definitions.md, "Prediction").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from engagement.engine.prediction_service import fit_in_use
from engagement.engine.rule_sets import current_rules
from engagement.models.results import CustomerType, EngagementResult, Status

from .money import active_flag
from .periods import EVERYONE, Segment

# "At risk" in the value-at-risk panel: P(alive) below this.
AT_RISK_P_ALIVE = 0.5
MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")
CLV = "prediction__predicted_clv_365"


def _cents(value) -> Decimal:
    return Decimal(value or 0).quantize(ZERO)


def _sum(**condition):
    return Coalesce(
        Sum(CLV, filter=Q(**condition) if condition else None), Value(ZERO), output_field=MONEY
    )


def predicted_value(*, segment: Segment = EVERYONE) -> dict:
    """Predicted 365-day CLV of the segment's customers: `total`, `predicted` (customers with a
    prediction), `by_status` {code: {"customers", "predicted_clv"}}, `by_type` (the same;
    a customer may hold several types), `at_risk` (P(alive) below AT_RISK_P_ALIVE:
    `customers`, `predicted_clv`), `model` (the fit in use, or None)."""
    aggregates = {
        "total": _sum(),
        "predicted": Count("pk", filter=Q(prediction__p_alive__isnull=False)),
        "at_risk": _sum(prediction__p_alive__lt=AT_RISK_P_ALIVE),
        "at_risk_n": Count("pk", filter=Q(prediction__p_alive__lt=AT_RISK_P_ALIVE)),
    }
    for code in Status.values:
        aggregates[f"status__{code}"] = _sum(engagement__status=code)
        aggregates[f"status_n__{code}"] = Count("pk", filter=Q(engagement__status=code))
    for code, field in EngagementResult.TYPE_FIELDS.items():
        aggregates[f"type__{code}"] = _sum(**{f"engagement__{field}": True})
        aggregates[f"type_n__{code}"] = Count("pk", filter=Q(**{f"engagement__{field}": True}))
    row = segment.customers().order_by().aggregate(**aggregates)
    return {
        "total": _cents(row["total"]),
        "predicted": row["predicted"],
        "by_status": {
            code: {
                "customers": row[f"status_n__{code}"],
                "predicted_clv": _cents(row[f"status__{code}"]),
            }
            for code in Status.values
        },
        "by_type": {
            code: {
                "customers": row[f"type_n__{code}"],
                "predicted_clv": _cents(row[f"type__{code}"]),
            }
            for code in CustomerType.values
        },
        "at_risk": {"customers": row["at_risk_n"], "predicted_clv": _cents(row["at_risk"])},
        "model": fit_in_use(),
    }


def value_at_risk_by_owner(*, segment: Segment = EVERYONE) -> list[dict]:
    """Per owner (None: no owner), the customers whose P(alive) is below AT_RISK_P_ALIVE and
    the sum of their predicted 365-day CLV, largest first."""
    rows = (
        segment.customers()
        .filter(prediction__p_alive__lt=AT_RISK_P_ALIVE)
        .values("owner_id", "owner__username")
        .annotate(customers=Count("pk"), predicted_clv=_sum())
        .order_by("-predicted_clv", "owner__username")
    )
    return [
        {
            "owner_id": row["owner_id"],
            "owner": row["owner__username"] or "",
            "customers": row["customers"],
            "predicted_clv": _cents(row["predicted_clv"]),
        }
        for row in rows
    ]


def predicted_clv_by_activity(
    *, end: dt.date, segment: Segment = EVERYONE, rules=None
) -> dict[str, Decimal]:
    """The predicted 365-day CLV summed over the active and over the non-active customers on
    `end` (the groups of engagement.analytics.money.active_comparison): {"active",
    "non_active"}."""
    rules = rules or current_rules()
    sums = {"active": ZERO, "non_active": ZERO}
    for row in (
        segment.customers()
        .filter(customer_since__lte=end)
        .annotate(g=active_flag("id", end=end, rules=rules))
        .values("g")
        .annotate(predicted=_sum())
        .order_by()
    ):
        sums["active" if row["g"] else "non_active"] = _cents(row["predicted"])
    return sums
