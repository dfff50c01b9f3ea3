"""Money metrics: MRR over time, revenue, active versus non-active customers."""

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Subscription
from engagement.analytics.money import active_comparison, mrr, revenue
from engagement.analytics.periods import Period
from tests.engagement.analytics.histories import D, act, at
from tests.factories import CustomerFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_mrr_normalises_yearly_and_follows_start_and_end_dates():
    monthly = ProductFactory()
    SubscriptionFactory(product=monthly, amount=Decimal("30"), started_at=D(2025, 12, 1))
    SubscriptionFactory(
        product=monthly, amount=Decimal("1200"), interval="year", started_at=D(2026, 2, 15)
    )
    SubscriptionFactory(
        product=monthly,
        amount=Decimal("50"),
        started_at=D(2026, 1, 10),
        ended_at=D(2026, 3, 1),  # live up to 28 Feb: counted at February's end, not March's
        status=Subscription.Status.CANCELLED,
    )
    SubscriptionFactory(
        product=monthly, amount=Decimal("999"), started_at=D(2026, 1, 1), status="paused"
    )
    SubscriptionFactory(
        product=monthly, amount=Decimal("999"), started_at=D(2026, 1, 1), status="trial"
    )
    rows = mrr(period=Period(unit="month", start=D(2026, 1, 1), end=D(2026, 3, 31)))
    assert [r["mrr"] for r in rows] == [Decimal("80.00"), Decimal("180.00"), Decimal("130.00")]


def test_revenue_is_purchases_minus_refunds_per_bucket():
    c = CustomerFactory()
    act(c, at("2026-01-31", 23, tz=dt.UTC), kind="purchase", amount=Decimal("100"))
    act(c, at("2026-02-01", 1, tz=dt.UTC), kind="refund", amount=Decimal("30"))
    rows = revenue(period=Period(unit="month", start=D(2026, 1, 1), end=D(2026, 3, 31)))
    assert [r["revenue"] for r in rows] == [Decimal("100"), Decimal("-30"), Decimal("0")]


def test_active_versus_non_active_comparison():
    product = ProductFactory()
    active = CustomerFactory(customer_since=D(2025, 1, 1))
    idle = CustomerFactory(customer_since=D(2025, 1, 1))
    act(active, at("2026-03-25", tz=dt.UTC), kind="purchase", amount=Decimal("300"))
    act(active, at("2025-06-01", tz=dt.UTC), kind="purchase", amount=Decimal("100"))
    act(idle, at("2026-01-10", tz=dt.UTC), kind="purchase", amount=Decimal("100"))
    act(idle, at("2026-03-20", tz=dt.UTC), kind="email", direction="outbound")
    SubscriptionFactory(
        customer=idle, product=product, amount=Decimal("20"), started_at=D(2025, 6, 1)
    )
    rows = active_comparison(period=Period(unit="month", start=D(2026, 1, 1), end=D(2026, 3, 31)))
    by_group = {r["group"]: r for r in rows}
    assert by_group["active"]["customers"] == 1
    assert by_group["active"]["revenue"] == Decimal("400.00")  # the 365 days to 31 March
    assert by_group["active"]["revenue_share"] == 0.8
    assert by_group["active"]["clv"] == Decimal("400.00")
    assert by_group["non_active"]["clv"] == Decimal("100.00")
    assert by_group["non_active"]["interactions_per_customer"] == 2
    assert by_group["non_active"]["mrr"] == Decimal("20.00")
    assert by_group["active"]["mrr"] == Decimal("0.00")
