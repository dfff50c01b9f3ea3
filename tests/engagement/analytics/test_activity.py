"""Activity metrics against small histories counted by hand (bucket edges, empty buckets,
lifecycle, stickiness, cohorts, activation)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from customers.models import Interaction
from engagement.analytics.activity import (
    activation,
    activity,
    cohorts,
    headline_activity,
    lifecycle,
    stickiness,
)
from engagement.analytics.periods import Period
from tests.engagement.analytics.histories import BERLIN, D, act, at, rules
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_iso_weeks_start_monday_on_local_dates():
    # Berlin: Sunday 23:30 and Monday 00:30 local are both Sunday in UTC, yet two ISO weeks.
    with override_settings(TIME_ZONE="Europe/Berlin"), timezone.override(BERLIN):
        a, b = CustomerFactory(), CustomerFactory()
        act(a, at("2026-03-01", 23, 30))
        act(b, at("2026-03-02", 0, 30))
        act(b, at("2026-03-08", 23, 59))  # Sunday: still the week of Monday 2 March
        rows = activity(period=Period(unit="week", start=D(2026, 2, 23), end=D(2026, 3, 15)))
    assert rows == [
        {"start": D(2026, 2, 23), "active": 1},
        {"start": D(2026, 3, 2), "active": 1},
        {"start": D(2026, 3, 9), "active": 0},
    ]


def test_months_by_calendar_with_empty_months_as_zero_and_distinct_customers():
    a, b = CustomerFactory(), CustomerFactory()
    act(a, at("2026-01-31", 23, 59, dt.UTC))
    act(a, at("2026-01-05", tz=dt.UTC))  # same customer, same month: counted once
    act(b, at("2026-03-01", 0, 0, dt.UTC))
    act(b, at("2026-03-02", tz=dt.UTC), kind=Interaction.Kind.EMAIL, direction="outbound")
    rows = activity(period=Period(unit="month", start=D(2026, 1, 15), end=D(2026, 3, 3)))
    assert [(r["start"], r["active"]) for r in rows] == [
        (D(2026, 1, 1), 1),
        (D(2026, 2, 1), 0),
        (D(2026, 3, 1), 1),
    ]


def test_only_customer_activity_counts():
    c = CustomerFactory()
    act(c, at("2026-05-04"), kind=Interaction.Kind.EMAIL, direction="outbound")
    act(c, at("2026-05-04"), kind=Interaction.Kind.NOTE, direction="outbound")
    act(c, at("2026-05-04"), kind=Interaction.Kind.REFUND, amount=Decimal("5"))
    day = Period(unit="day", start=D(2026, 5, 4), end=D(2026, 5, 5))
    assert [r["active"] for r in activity(period=day)] == [0, 0]
    act(c, at("2026-05-05"), kind=Interaction.Kind.CALL, direction="inbound")
    assert [r["active"] for r in activity(period=day)] == [0, 1]


def test_lifecycle_new_returning_resurrecting_dormant():
    since_march = CustomerFactory(customer_since=D(2026, 3, 10))
    steady = CustomerFactory(customer_since=D(2025, 1, 1))
    comeback = CustomerFactory(customer_since=D(2025, 1, 1))
    for day in ("2026-03-12", "2026-04-02", "2026-06-20"):
        act(since_march, at(day, tz=dt.UTC))
    for day in ("2026-02-27", "2026-03-01", "2026-04-30", "2026-05-01"):
        act(steady, at(day, tz=dt.UTC))
    for day in ("2026-01-15", "2026-05-31"):
        act(comeback, at(day, tz=dt.UTC))
    rows = lifecycle(period=Period(unit="month", start=D(2026, 3, 1), end=D(2026, 6, 30)))
    # March: since_march new; steady returning (Feb too); comeback dormant? no: not in Feb.
    # April: since_march + steady returning. May: steady returning, comeback resurrecting,
    # since_march dormant. June: since_march resurrecting; steady and comeback dormant.
    assert rows == [
        {"start": D(2026, 3, 1), "new": 1, "returning": 1, "resurrecting": 0, "dormant": 0},
        {"start": D(2026, 4, 1), "new": 0, "returning": 2, "resurrecting": 0, "dormant": 0},
        {"start": D(2026, 5, 1), "new": 0, "returning": 1, "resurrecting": 1, "dormant": 1},
        {"start": D(2026, 6, 1), "new": 0, "returning": 0, "resurrecting": 1, "dormant": 2},
    ]


def test_lifecycle_first_bucket_reads_the_bucket_before_the_period():
    c = CustomerFactory(customer_since=D(2025, 1, 1))
    act(c, at("2026-03-01", tz=dt.UTC))  # Sunday: the week before the period
    rows = lifecycle(period=Period(unit="week", start=D(2026, 3, 2), end=D(2026, 3, 8)))
    assert rows == [
        {"start": D(2026, 3, 2), "new": 0, "returning": 0, "resurrecting": 0, "dormant": 1}
    ]


def test_stickiness_is_average_dau_over_mau_and_headline():
    a, b = CustomerFactory(), CustomerFactory()
    for day in range(1, 31):  # a: every day of April
        act(a, at(f"2026-04-{day:02d}", tz=dt.UTC))
    act(b, at("2026-04-10", tz=dt.UTC))
    rows = stickiness(period=Period(unit="month", start=D(2026, 4, 1), end=D(2026, 5, 31)))
    assert rows[0] == {"start": D(2026, 4, 1), "mau": 2, "dau": 1.03, "stickiness": 0.515}
    assert rows[1] == {"start": D(2026, 5, 1), "mau": 0, "dau": 0.0, "stickiness": None}
    assert headline_activity(end=D(2026, 4, 10)) == {
        "dau": 2,
        "wau": 2,
        "mau": 2,
        "stickiness": 1.0,
    }


def test_cohort_retention_by_customer_since_month():
    jan = [CustomerFactory(customer_since=D(2026, 1, d)) for d in (1, 15, 31)]
    feb = CustomerFactory(customer_since=D(2026, 2, 28))
    CustomerFactory(customer_since=D(2025, 12, 31))  # before the period: no cohort of its own
    act(jan[0], at("2026-01-02", tz=dt.UTC))
    act(jan[0], at("2026-03-05", tz=dt.UTC))
    act(jan[1], at("2026-02-01", tz=dt.UTC))
    act(feb, at("2026-03-31", tz=dt.UTC))
    rows = cohorts(period=Period(unit="week", start=D(2026, 1, 1), end=D(2026, 3, 31)))
    assert rows == [
        {"cohort": D(2026, 1, 1), "size": 3, "retention": [0.3333, 0.3333, 0.3333]},
        {"cohort": D(2026, 2, 1), "size": 1, "retention": [0.0, 1.0]},
        {"cohort": D(2026, 3, 1), "size": 0, "retention": [None]},
    ]


def test_activation_within_onboarding_days_of_customer_since():
    onboarding = rules().onboarding_days
    quick = CustomerFactory(customer_since=D(2026, 1, 10))
    late = CustomerFactory(customer_since=D(2026, 1, 20))
    CustomerFactory(customer_since=D(2026, 1, 25))  # never active
    act(quick, at("2026-01-10", tz=dt.UTC) + dt.timedelta(days=onboarding))  # last day counts
    act(late, at("2026-01-20", tz=dt.UTC) + dt.timedelta(days=onboarding + 1))
    rows = activation(period=Period(unit="month", start=D(2026, 1, 1), end=D(2026, 2, 28)))
    assert rows == [
        {"start": D(2026, 1, 1), "customers": 3, "activated": 1, "rate": 0.3333},
        {"start": D(2026, 2, 1), "customers": 0, "activated": 0, "rate": None},
    ]
