"""Status and type metrics replayed from the history, and the counts now."""

import pytest
from django.utils import timezone

from engagement.analytics.periods import Period, Segment
from engagement.analytics.status import engagement_counts, status_history, type_history
from engagement.models import EngagementResult, StatusHistory, TypeChange
from tests.engagement.analytics.histories import D, rules
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


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
