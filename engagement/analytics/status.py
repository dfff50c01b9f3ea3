"""Status and type metrics: counts now, and counts over time replayed from the history rows.

Churn rate = customers turning `churned` in a bucket / customers not churned at its start;
reactivation rate = customers turning `active` from at_risk, inactive or churned / customers
in those statuses at its start (docs/definitions.md, "Metrics").
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, Q, QuerySet, Sum, Value, When

from customers.models import Customer
from engagement.models.results import (
    CustomerType,
    EngagementResult,
    Status,
    StatusHistory,
    TypeChange,
)

from .periods import EVERYONE, Period, Segment, as_date, ratio, trunc

NOT_ACTIVE_STATUSES = (Status.AT_RISK, Status.INACTIVE, Status.CHURNED)


def engagement_counts(customers: QuerySet[Customer]) -> dict:
    """These customers counted by stored status and by type, in one query: `total`,
    `unclassified` (no stored result yet), `status` {code: n} and `types` {code: n}."""
    aggregates = {"total": Count("pk"), "unclassified": Count("pk", filter=Q(engagement=None))}
    for code in Status.values:
        aggregates[f"status__{code}"] = Count("pk", filter=Q(engagement__status=code))
    for code, field in EngagementResult.TYPE_FIELDS.items():
        aggregates[f"type__{code}"] = Count("pk", filter=Q(**{f"engagement__{field}": True}))
    counts = customers.order_by().aggregate(**aggregates)
    return {
        "total": counts["total"],
        "unclassified": counts["unclassified"],
        "status": {code: counts[f"status__{code}"] for code in Status.values},
        "types": {code: counts[f"type__{code}"] for code in CustomerType.values},
    }


def _replay(period: Period, rows, baseline: dict, keys) -> list[dict]:
    """Cumulate per-bucket deltas onto the baseline: counts at each bucket's end."""
    deltas: dict[dt.date, dict] = {}
    for b, key, delta in rows:
        bucket = deltas.setdefault(as_date(b), {})
        bucket[key] = bucket.get(key, 0) + delta
    current = {k: baseline.get(k, 0) for k in keys}
    out = []
    for b in period.buckets:
        for k, delta in deltas.get(b, {}).items():
            if k in current:
                current[k] += delta
        out.append({"start": b, **current})
    return out


def status_history(*, period: Period, segment: Segment = EVERYONE) -> dict:
    """Customers per status at each bucket's end, and per-bucket churn and reactivation rates,
    replayed from the status history (one row per change: -1 from, +1 to)."""
    history = StatusHistory.objects.filter(segment.customer_q("customer__"), as_of__lt=period.after)
    before = history.filter(as_of__lt=period.first)
    baseline: dict[str, int] = {}
    for status, n in before.values_list("to_status").annotate(n=Count("id")).order_by():
        baseline[status] = baseline.get(status, 0) + n
    for status, n in (
        before.exclude(from_status="").values_list("from_status").annotate(n=Count("id")).order_by()
    ):
        baseline[status] = baseline.get(status, 0) - n
    flows = list(
        history.filter(as_of__gte=period.first)
        .annotate(b=trunc("as_of", period.unit, datetime_field=False))
        .values_list("b", "from_status", "to_status")
        .annotate(n=Count("id"))
        .order_by()
    )
    deltas = [(b, to, n) for b, _f, to, n in flows] + [(b, f, -n) for b, f, _t, n in flows if f]
    keys = [s.value for s in Status]
    counts = _replay(period, deltas, baseline, keys)
    churned_in: dict = {}
    reactivated_in: dict = {}
    for b, from_status, to_status, n in flows:
        b = as_date(b)
        if to_status == Status.CHURNED and from_status != Status.CHURNED:
            churned_in[b] = churned_in.get(b, 0) + n
        if to_status == Status.ACTIVE and from_status in NOT_ACTIVE_STATUSES:
            reactivated_in[b] = reactivated_in.get(b, 0) + n
    rates = []
    opening = {k: baseline.get(k, 0) for k in keys}
    for row in counts:
        b = row["start"]
        not_churned = sum(v for k, v in opening.items() if k != Status.CHURNED)
        lapsed = sum(opening[k] for k in NOT_ACTIVE_STATUSES)
        rates.append(
            {
                "start": b,
                "churned": churned_in.get(b, 0),
                "churn_rate": ratio(churned_in.get(b, 0), not_churned),
                "reactivated": reactivated_in.get(b, 0),
                "reactivation_rate": ratio(reactivated_in.get(b, 0), lapsed),
            }
        )
        opening = {k: row[k] for k in keys}
    return {"counts": counts, "rates": rates}


def type_history(*, period: Period, segment: Segment = EVERYONE) -> list[dict]:
    """Customers holding each type at each bucket's end, replayed from the type changes."""
    changes = TypeChange.objects.filter(segment.customer_q("customer__"), as_of__lt=period.after)
    signed = Case(When(gained=True, then=Value(1)), default=Value(-1))
    baseline = dict(
        changes.filter(as_of__lt=period.first)
        .values_list("customer_type")
        .annotate(n=Sum(signed))
        .order_by()
    )
    rows = (
        changes.filter(as_of__gte=period.first)
        .annotate(b=trunc("as_of", period.unit, datetime_field=False))
        .values_list("b", "customer_type")
        .annotate(n=Sum(signed))
        .order_by()
    )
    return _replay(period, rows, baseline, [t.value for t in CustomerType])
