"""Metrics against small histories counted by hand (bucket edges, empty buckets, lifecycle)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from customers.models import Customer, Interaction, Subscription
from engagement.analytics.activity import (
    activation,
    activity,
    cohorts,
    headline_activity,
    lifecycle,
    stickiness,
)
from engagement.analytics.board import dashboard
from engagement.analytics.money import active_comparison, mrr, revenue
from engagement.analytics.periods import Period, Segment
from engagement.analytics.status import engagement_counts, status_history, type_history
from engagement.models import EngagementResult, RuleSet, StatusHistory, TypeChange
from tests.factories import CustomerFactory, InteractionFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
D = dt.date


def at(day: str, hour: int = 12, minute: int = 0, tz=BERLIN):
    return dt.datetime.combine(D.fromisoformat(day), dt.time(hour, minute), tzinfo=tz)


def act(customer, when, kind=Interaction.Kind.LOGIN, direction="inbound", amount=None):
    return InteractionFactory(
        customer=customer, occurred_at=when, kind=kind, direction=direction, amount=amount
    )


def rules():
    return RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)


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


def test_status_counts_and_rates_replay_the_history():
    rs = rules()
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    now = timezone.now()

    def change(customer, old, new, day):
        StatusHistory.objects.create(
            customer=customer,
            from_status=old,
            to_status=new,
            as_of=day,
            changed_at=now,
            rule_set=rs,
        )

    change(a, "", "active", D(2026, 1, 5))
    change(b, "", "active", D(2026, 1, 5))
    change(c, "", "at_risk", D(2026, 1, 5))
    change(a, "active", "churned", D(2026, 2, 10))
    change(c, "at_risk", "active", D(2026, 3, 31))
    result = status_history(period=Period(unit="month", start=D(2026, 2, 1), end=D(2026, 4, 30)))
    counts = [(r["start"], r["active"], r["at_risk"], r["churned"]) for r in result["counts"]]
    assert counts == [
        (D(2026, 2, 1), 1, 1, 1),
        (D(2026, 3, 1), 2, 0, 1),
        (D(2026, 4, 1), 2, 0, 1),
    ]
    rates = [(r["churn_rate"], r["reactivation_rate"]) for r in result["rates"]]
    # Feb: 1 of 3 not churned churns; 0 of 1 lapsed (c) comes back. March: c comes back (1 of 2
    # lapsed: a churned, c at risk); nobody of 2 not churned churns. April: nothing.
    assert rates == [(0.3333, 0.0), (0.0, 0.5), (0.0, 0.0)]


def test_type_counts_replay_the_changes():
    rs = rules()
    a, b = CustomerFactory(), CustomerFactory()
    now = timezone.now()
    for customer, gained, day in (
        (a, True, D(2026, 1, 3)),
        (b, True, D(2026, 2, 3)),
        (a, False, D(2026, 2, 20)),
    ):
        TypeChange.objects.create(
            customer=customer,
            customer_type="loyal",
            gained=gained,
            as_of=day,
            changed_at=now,
            rule_set=rs,
        )
    rows = type_history(period=Period(unit="month", start=D(2026, 2, 1), end=D(2026, 3, 31)))
    assert [(r["start"], r["loyal"]) for r in rows] == [(D(2026, 2, 1), 1), (D(2026, 3, 1), 1)]


def test_engagement_counts_by_status_and_type():
    rs = rules()
    today = timezone.localdate()
    for status, loyal in (("active", True), ("active", False), ("churned", True)):
        EngagementResult.objects.create(
            customer=CustomerFactory(),
            status=status,
            type_loyal=loyal,
            rule_set=rs,
            as_of=today,
            computed_at=timezone.now(),
        )
    archived = CustomerFactory(archived_at=timezone.now())
    EngagementResult.objects.create(
        customer=archived, status="active", rule_set=rs, as_of=today, computed_at=timezone.now()
    )
    now = engagement_counts(Segment().customers())
    assert now["status"]["active"] == 2
    assert now["status"]["churned"] == 1
    assert now["status"]["new"] == 0
    assert now["types"]["loyal"] == 2


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


def test_segment_filters_every_metric(rep):
    mine = CustomerFactory(owner=rep, country="FR", customer_since=D(2026, 1, 2))
    other = CustomerFactory(country="DE", customer_since=D(2026, 1, 2))
    act(mine, at("2026-01-05", tz=dt.UTC), kind="purchase", amount=Decimal("10"))
    act(other, at("2026-01-05", tz=dt.UTC), kind="purchase", amount=Decimal("99"))
    period = Period(unit="month", start=D(2026, 1, 1), end=D(2026, 1, 31))
    for segment in (Segment(owner_id=rep.pk), Segment(country="FR")):
        board = dashboard(period=period, segment=segment)
        assert board.activity[0]["active"] == 1
        assert board.lifecycle[0]["new"] == 1
        assert board.revenue[0]["revenue"] == Decimal("10")
        assert board.cohorts[0]["size"] == 1
        assert board.activation[0]["customers"] == 1
    assert activity(period=period, segment=Segment(industry="Mining"))[0]["active"] == 0
    Customer.objects.filter(pk=mine.pk).update(archived_at=timezone.now())
    assert activity(period=period, segment=Segment(country="FR"))[0]["active"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "year"}, "period"),
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "start"),
        ({"period": "day", "start": "2020-01-01", "end": "2026-01-01"}, "start"),
    ],
)
def test_bad_period_parameters_name_the_field(params, field):
    with pytest.raises(ValidationError) as info:
        Period.parse(**params)
    assert field in info.value.message_dict


def test_default_period_is_twelve_months_to_today():
    period = Period.parse(today=D(2026, 11, 23))
    assert period.buckets[0] == D(2025, 12, 1)
    assert period.buckets[-1] == D(2026, 11, 1)
    assert len(period.buckets) == 12
