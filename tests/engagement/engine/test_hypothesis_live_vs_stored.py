"""The live path (per-customer fold in Python) and the stored recompute (set-based SQL) agree.

Random histories around D: every kind and direction, events at any hour (so local and UTC
dates differ), future events, subscriptions of every status; random rules. Run it on SQLite
and, with DATABASE_URL pointing at PostgreSQL, on PostgreSQL.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import kinds
from customers.models import Customer, Interaction, Product, Subscription
from engagement.engine.live import engagement_evaluate
from engagement.engine.recompute import FIGURE_FIELDS, engagement_recompute
from engagement.engine.rule_sets import rule_set_update
from engagement.models import EngagementResult

D = dt.date(2026, 3, 29)  # a DST change in Europe: local days of 23 hours around it

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
    ),
    max_size=3,
)
histories = st.lists(
    st.tuples(st.integers(min_value=-10, max_value=400), events, subscriptions),
    min_size=1,
    max_size=4,
)
rules = st.fixed_dictionaries(
    {
        "active_days": st.integers(0, 40),
        "recent_buyer_days": st.integers(0, 60),
        "loyal_min_purchases": st.integers(1, 3),
        "loyal_min_tenure_days": st.integers(0, 200),
        "support_min_interactions": st.integers(1, 3),
        "support_window_days": st.integers(0, 100),
        "contact_min_interactions": st.integers(1, 3),
        "contact_window_days": st.integers(0, 100),
        "onboarding_days": st.integers(0, 60),
        "count_trials_as_subscribers": st.booleans(),
    }
)

# Property-based: many generated histories per run.
pytestmark = pytest.mark.slow


def _local(days_before: int, minute: int) -> dt.datetime:
    day = D - dt.timedelta(days=days_before)
    naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    return timezone.make_aware(naive)


@pytest.mark.django_db
@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories=histories, rule_values=rules)
def test_live_equals_stored(settings, tz, histories, rule_values):
    settings.TIME_ZONE = tz
    timezone.activate(tz)
    try:
        Customer.objects.all().delete()
        at_risk = rule_values["active_days"] + 20
        rule_set_update(**rule_values, at_risk_days=at_risk, inactive_days=at_risk + 30)
        products = {
            kind: Product.objects.get_or_create(
                sku=f"HYP-{kind}", defaults={"name": kind, "kind": kind}
            )[0]
            for kind in ("product", "service")
        }
        made = []
        for since, history, subs in histories:
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
            for status, kind, started, ended, interval in subs:
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
                    amount=Decimal("12.34"),
                    interval=interval,
                )
        engagement_recompute(as_of=D)
        for c in made:
            result = EngagementResult.objects.get(customer=c)
            live = engagement_evaluate(customer_id=c.pk, as_of=D)
            assert (result.status, result.types, result.reactivated, result.score) == (
                live.status,
                sorted(live.types, key=list(EngagementResult.TYPE_FIELDS).index),
                live.reactivated,
                live.score,
            )
            assert result.days_since_activity == live.days_since_activity
            for name in FIGURE_FIELDS:
                assert getattr(result, name) == live.metrics[name], name
    finally:
        timezone.deactivate()
