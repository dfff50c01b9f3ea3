"""The rollups answer exactly what the live queries answer, on generated histories."""

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from engagement import metrics, metrics_rollup
from engagement.metrics import Period, Segment
from engagement.models import EngagementResult, RuleSet
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
KINDS = ["login", "purchase", "refund", "email", "call", "note", "support", "meeting"]


def _history(seed: int, owners):
    rng = random.Random(seed)
    rules = RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
    today = timezone.localdate()
    product = ProductFactory()
    for n in range(30):
        customer = CustomerFactory(
            owner=rng.choice([*owners, None]),
            kind=rng.choice(["company", "person"]),
            country=rng.choice(["DE", "FR"]),
            industry=rng.choice(["Retail", "Mining"]),
            customer_since=today - dt.timedelta(days=rng.randint(0, 420)),
            archived_at=timezone.now() if n == 0 else None,
        )
        for _ in range(rng.randint(0, 12)):
            kind = rng.choice(KINDS)
            InteractionFactory(
                customer=customer,
                kind=kind,
                direction=rng.choice(["inbound", "outbound"]),
                amount=Decimal(rng.randint(1, 90)) if kind in ("purchase", "refund") else None,
                occurred_at=timezone.now() - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 400)),
            )
        if rng.random() < 0.3:
            SubscriptionFactory(
                customer=customer,
                product=product,
                amount=Decimal(rng.randint(5, 50)),
                interval=rng.choice(["month", "year"]),
                started_at=today - dt.timedelta(days=rng.randint(0, 300)),
            )
        if rng.random() < 0.8:
            EngagementResult.objects.create(
                customer=customer,
                status="active",
                score=rng.randint(0, 100),
                rule_set=rules,
                as_of=today,
                computed_at=timezone.now(),
            )


@pytest.mark.parametrize(
    ("seed", "zone"), [(1, "UTC"), (2, "Europe/Berlin"), (3, "America/New_York")]
)
def test_rollups_equal_live_figures(seed, zone):
    with override_settings(TIME_ZONE=zone), timezone.override(ZoneInfo(zone)):
        owners = [UserFactory(username=f"owner{seed}{i}") for i in range(2)]
        _history(seed, owners)
        today = timezone.localdate()
        refresh = metrics_rollup.metrics_refresh()
        assert metrics_rollup.usable_refresh() == refresh
        segments = [Segment(), Segment(owner_id=owners[0].pk), Segment(country="FR", kind="person")]
        periods = [
            Period.parse(period="month", end=today.isoformat()),
            Period.parse(period="week", end=today.isoformat()),
            Period.parse(period="day", end=today.isoformat()),
            Period(
                unit="week", start=today - dt.timedelta(days=200), end=today - dt.timedelta(days=90)
            ),
        ]
        for segment in segments:
            for period in periods:
                for name in ("activity", "lifecycle", "activation", "stickiness", "cohorts"):
                    assert metrics_rollup.covers(name, period, refresh)
                    live = metrics.answer(name, period=period, segment=segment, refresh=None)
                    rolled = metrics.answer(name, period=period, segment=segment, refresh=refresh)
                    assert rolled == live, (name, period, segment)
            period = periods[0]
            assert metrics_rollup.covers("comparison", period, refresh)
            assert metrics.answer(
                "comparison", period=period, segment=segment, refresh=refresh
            ) == metrics.answer("comparison", period=period, segment=segment, refresh=None)
            assert metrics.answer(
                "headline", period=period, segment=segment, refresh=refresh
            ) == metrics.answer("headline", period=period, segment=segment, refresh=None)


def test_rollups_are_not_used_when_stale_or_for_later_days():
    CustomerFactory()
    refresh = metrics_rollup.metrics_refresh(as_of=timezone.localdate() - dt.timedelta(days=3))
    period = Period.parse()
    assert not metrics_rollup.covers("activity", period, refresh)  # the period ends after it
    old = Period.parse(end=(timezone.localdate() - dt.timedelta(days=5)).isoformat())
    assert metrics_rollup.covers("activity", old, refresh)
    assert not metrics_rollup.covers("comparison", old, refresh)  # another day than the refresh
    type(refresh).objects.filter(pk=refresh.pk).update(
        built_at=timezone.now() - dt.timedelta(days=2)
    )
    assert metrics_rollup.usable_refresh() is None
