"""Money metrics: MRR over time, revenue, and active versus non-active customers.

MRR at a day counts the subscriptions live on it (engagement.engine.subscriptions, one
statement of "counted" and of MRR); customer lifetime value is net revenue (purchases -
refunds) to the period's end per customer (docs/definitions.md, "Metrics").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Avg, Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from customers import kinds
from customers.models import Interaction, Subscription
from engagement.engine.figures import local_day_start
from engagement.engine.rule_sets import current_rules
from engagement.engine.subscriptions import counted_q, live_q, monthly_recurring

from .periods import EVERYONE, Period, Segment, as_date, ratio, trunc

MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")


def _amounts_by_interval():
    """Sums of monthly and of yearly amounts: MRR = monthly + yearly / 12, divided in Python
    (exact, and free of SQLite's integer division)."""
    year = Q(interval=Subscription.Interval.YEAR)
    return {
        "monthly": Coalesce(Sum("amount", filter=~year), Value(ZERO), output_field=MONEY),
        "yearly": Coalesce(Sum("amount", filter=year), Value(ZERO), output_field=MONEY),
    }


def _sums(row) -> tuple[Decimal, Decimal]:
    return Decimal(row["monthly"] or ZERO), Decimal(row["yearly"] or ZERO)


def _counted_subscriptions(segment: Segment, rules):
    return Subscription.objects.filter(segment.customer_q("customer__"), counted_q(rules))


def mrr(*, period: Period, segment: Segment = EVERYONE, rules=None) -> list[dict]:
    """MRR at each bucket's end: starts add, ends remove (a subscription is live up to the day
    before `ended_at`), cumulated from the baseline before the period."""
    subs = _counted_subscriptions(segment, rules or current_rules())
    first, after = period.first, period.after
    live_before = subs.filter(
        Q(started_at__lt=first), Q(ended_at__isnull=True) | Q(ended_at__gte=first)
    )
    monthly, yearly = _sums(live_before.aggregate(**_amounts_by_interval()))
    starts = (
        subs.filter(started_at__gte=first, started_at__lt=after)
        .exclude(ended_at__lte=F("started_at"))
        .annotate(b=trunc("started_at", period.unit, datetime_field=False))
        .values("b")
        .annotate(**_amounts_by_interval())
        .order_by()
    )
    ends = (
        subs.filter(ended_at__gte=first, ended_at__lt=after, ended_at__gt=F("started_at"))
        .annotate(b=trunc("ended_at", period.unit, datetime_field=False))
        .values("b")
        .annotate(**_amounts_by_interval())
        .order_by()
    )
    # Monthly and yearly sums cumulate apart; MRR is rounded once per bucket.
    delta: dict[dt.date, tuple[Decimal, Decimal]] = {}
    for rows, sign in ((starts, 1), (ends, -1)):
        for row in rows:
            b = as_date(row["b"])
            m, y = _sums(row)
            before = delta.get(b, (ZERO, ZERO))
            delta[b] = (before[0] + sign * m, before[1] + sign * y)
    out = []
    for b in period.buckets:
        m, y = delta.get(b, (ZERO, ZERO))
        monthly, yearly = monthly + m, yearly + y
        out.append({"start": b, "mrr": monthly_recurring(monthly, yearly)})
    return out


def _signed_amount():
    return Case(
        When(kind=kinds.PURCHASE, then=F("amount")),
        When(kind=kinds.REFUND, then=-F("amount")),
        default=Value(ZERO),
        output_field=MONEY,
    )


def revenue(*, period: Period, segment: Segment = EVERYONE) -> list[dict]:
    """Purchases, refunds and net revenue per bucket."""
    rows = (
        Interaction.objects.filter(
            segment.customer_q("customer__"),
            kind__in=[kinds.PURCHASE, kinds.REFUND],
            occurred_at__gte=local_day_start(period.first),
            occurred_at__lt=local_day_start(period.after),
        )
        .annotate(b=trunc("occurred_at", period.unit, datetime_field=True))
        .values("b")
        .annotate(
            purchases=Sum("amount", filter=Q(kind=kinds.PURCHASE)),
            refunds=Sum("amount", filter=Q(kind=kinds.REFUND)),
        )
        .order_by()
    )
    found = {as_date(r["b"]): r for r in rows}
    out = []
    for b in period.buckets:
        r = found.get(b, {})
        purchases, refunds = r.get("purchases") or ZERO, r.get("refunds") or ZERO
        out.append(
            {"start": b, "purchases": purchases, "refunds": refunds, "revenue": purchases - refunds}
        )
    return out


def active_flag(field_name: str, *, end: dt.date, rules):
    """True for rows whose `field_name` (a customer id) is an active customer on `end`: an
    activity within the rules' active days up to that day (the comparison's two groups)."""
    active_ids = Interaction.objects.filter(
        kinds.activity_q(),
        occurred_at__gte=local_day_start(end - dt.timedelta(days=rules.active_days)),
        occurred_at__lt=local_day_start(end + dt.timedelta(days=1)),
    ).values("customer_id")
    return Case(When(**{f"{field_name}__in": active_ids}, then=Value(True)), default=Value(False))


def active_comparison(*, period: Period, segment: Segment = EVERYONE, rules=None) -> list[dict]:
    """Active versus non-active customers on the period's last day: customers, average
    engagement score, net revenue of the 365 days to that day and its share, lifetime value
    (net revenue to that day per customer), interactions per customer in those 365 days, and
    MRR on that day."""
    end = period.end
    rules = rules or current_rules()
    # Revenue and interactions over the year that ends on the period's last day.
    year_start = local_day_start(end - dt.timedelta(days=364))

    def flag(field_name):
        return active_flag(field_name, end=end, rules=rules)

    groups = {True: {}, False: {}}
    for row in (
        segment.customers()
        .filter(customer_since__lte=end)
        .annotate(g=flag("id"))
        .values("g")
        .annotate(customers=Count("id"), score=Avg("engagement__score"))
        .order_by()
    ):
        groups[row["g"]].update(customers=row["customers"], score=row["score"])
    money = (
        Interaction.objects.filter(
            segment.customer_q("customer__"),
            kind__in=[kinds.PURCHASE, kinds.REFUND],
            occurred_at__lt=local_day_start(end + dt.timedelta(days=1)),
        )
        .annotate(g=flag("customer_id"))
        .values("g")
        .annotate(
            lifetime=Sum(_signed_amount()),
            period=Sum(_signed_amount(), filter=Q(occurred_at__gte=year_start)),
        )
        .order_by()
    )
    for row in money:
        groups[row["g"]].update(lifetime=row["lifetime"], period_revenue=row["period"])
    for row in (
        Interaction.objects.filter(
            segment.customer_q("customer__"),
            occurred_at__gte=year_start,
            occurred_at__lt=local_day_start(end + dt.timedelta(days=1)),
        )
        .annotate(g=flag("customer_id"))
        .values("g")
        .annotate(n=Count("id"))
        .order_by()
    ):
        groups[row["g"]]["interactions"] = row["n"]
    live = Subscription.objects.filter(segment.customer_q("customer__"), live_q(rules, end))
    for row in (
        live.annotate(g=flag("customer_id"))
        .values("g")
        .annotate(**_amounts_by_interval())
        .order_by()
    ):
        groups[row["g"]]["mrr"] = monthly_recurring(*_sums(row))
    total_revenue = sum((g.get("period_revenue") or ZERO) for g in groups.values())
    out = []
    for is_active, label in ((True, "active"), (False, "non_active")):
        g = groups[is_active]
        n = g.get("customers", 0)
        period_revenue = g.get("period_revenue") or ZERO
        out.append(
            {
                "group": label,
                "customers": n,
                "avg_score": round(float(g["score"]), 1) if g.get("score") is not None else None,
                "revenue": period_revenue.quantize(Decimal("0.01")),
                "revenue_share": ratio(period_revenue, total_revenue),
                "clv": ((g.get("lifetime") or ZERO) / n).quantize(Decimal("0.01")) if n else None,
                "interactions_per_customer": round(g.get("interactions", 0) / n, 2) if n else None,
                "mrr": g.get("mrr") or ZERO,
            }
        )
    return out
