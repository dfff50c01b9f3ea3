"""Generated customer histories around a day D, for the property-based engine tests.

Every kind and direction, events at any minute of the local day (so local and UTC dates
differ), future events, subscriptions of every status and interval with amounts that hit
MRR's half-cent rounding; random rules whose windows sit on each other's edges.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from hypothesis import strategies as st

from customers import kinds
from customers.models import Customer, Interaction, Product, Subscription

D = dt.date(2026, 3, 29)  # a DST change in Europe: local days of 23 hours around it
# UTC, a DST zone east of UTC, a half-hour zone west with DST, a quarter-hour zone east.
ZONES = ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"]

events = st.lists(
    st.tuples(
        st.sampled_from(sorted(kinds.CATEGORY)),
        st.sampled_from([kinds.INBOUND, kinds.OUTBOUND]),
        st.integers(min_value=-3, max_value=420),  # days before D (negative: future)
        st.integers(min_value=0, max_value=24 * 60 - 1),  # minute of the local day
        st.integers(min_value=1, max_value=50_000),  # cents
    ),
    max_size=12,
)
subscriptions = st.lists(
    st.tuples(
        st.sampled_from([s.value for s in Subscription.Status]),
        st.sampled_from(["product", "service"]),
        st.integers(min_value=-5, max_value=400),  # started, days before D
        st.one_of(st.none(), st.integers(min_value=-5, max_value=400)),  # ended, days before D
        st.sampled_from(["month", "year"]),
        st.sampled_from([1, 6, 18, 1234, 99_999]),  # cents: 6 and 18 a year are half cents
    ),
    max_size=3,
)
histories = st.lists(
    st.tuples(st.integers(min_value=-10, max_value=400), events, subscriptions),
    min_size=1,
    max_size=4,
)


@st.composite
def rule_values(draw) -> dict:
    """Valid thresholds: active < at risk < inactive, any gaps, counts from 1."""
    active = draw(st.integers(0, 40))
    at_risk = active + draw(st.integers(1, 40))
    return {
        "active_days": active,
        "at_risk_days": at_risk,
        "inactive_days": at_risk + draw(st.integers(1, 60)),
        "recent_buyer_days": draw(st.integers(0, 60)),
        "loyal_min_purchases": draw(st.integers(1, 3)),
        "loyal_window_days": draw(st.integers(0, 400)),
        "loyal_min_tenure_days": draw(st.integers(0, 200)),
        "support_min_interactions": draw(st.integers(1, 3)),
        "support_window_days": draw(st.integers(0, 100)),
        "contact_min_interactions": draw(st.integers(1, 3)),
        "contact_window_days": draw(st.integers(0, 100)),
        "onboarding_days": draw(st.integers(0, 60)),
        "count_trials_as_subscribers": draw(st.booleans()),
    }


def _local(days_before: int, minute: int) -> dt.datetime:
    day = D - dt.timedelta(days=days_before)
    naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    return timezone.make_aware(naive)


def build(generated) -> list[Customer]:
    """Customers (the existing ones deleted first) with the generated histories."""
    Customer.objects.all().delete()
    products = {
        kind: Product.objects.get_or_create(
            sku=f"HYP-{kind}", defaults={"name": kind, "kind": kind}
        )[0]
        for kind in ("product", "service")
    }
    made = []
    for since, history, subs in generated:
        c = Customer.objects.create(name="h", customer_since=D - dt.timedelta(days=since))
        made.append(c)
        Interaction.objects.bulk_create(
            Interaction(
                customer=c,
                kind=kind,
                direction=direction,
                occurred_at=_local(days, minute),
                amount=Decimal(cents) / 100 if kind in Interaction.MONEY_KINDS else None,
            )
            for kind, direction, days, minute, cents in history
        )
        for status, kind, started, ended, interval, cents in subs:
            start = D - dt.timedelta(days=started)
            end = None if ended is None else D - dt.timedelta(days=min(ended, started))
            if status in ("cancelled", "expired") and end is None:
                end = start
            Subscription.objects.create(
                customer=c,
                product=products[kind],
                status=status,
                started_at=start,
                ended_at=end,
                amount=Decimal(cents) / 100,
                interval=interval,
            )
    return made
