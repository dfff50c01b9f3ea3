"""A counted (live) subscription is one definition: Python, Q and SQL answer alike."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from customers.models import Subscription
from engagement.engine.rules import Rules
from engagement.engine.subscriptions import is_live, live_q, live_sql, monthly_recurring
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 15)


@pytest.mark.parametrize("count_trials", [False, True])
def test_python_q_and_sql_count_the_same_subscriptions(count_trials):
    rules = Rules(count_trials_as_subscribers=count_trials)
    for status in Subscription.Status.values:
        # A cancelled or expired subscription has an end, here after D (live until then).
        open_end = D + dt.timedelta(days=5) if status in ("cancelled", "expired") else None
        for started, ended in (
            (D, open_end),  # started on D: live on D
            (D + dt.timedelta(days=1), open_end),  # starts after D
            (D - dt.timedelta(days=40), D),  # ended on D: not live
            (D - dt.timedelta(days=40), D + dt.timedelta(days=1)),
        ):
            SubscriptionFactory(status=status, started_at=started, ended_at=ended)
    rows = Subscription.objects.values_list("pk", "status", "started_at", "ended_at")
    in_python = {pk for pk, status, s, e in rows if is_live(status, s, e, rules, D)}
    in_q = set(Subscription.objects.filter(live_q(rules, D)).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id FROM {Subscription._meta.db_table} s WHERE {live_sql('s', rules, '%s')}",
            [D, D],
        )
        in_sql = {pk for (pk,) in cursor.fetchall()}
    assert in_python == in_q == in_sql
    statuses = set(Subscription.objects.filter(pk__in=in_python).values_list("status", flat=True))
    assert "paused" not in statuses
    assert ("trial" in statuses) is count_trials


def test_mrr_normalises_yearly_amounts_and_rounds_once():
    assert monthly_recurring(Decimal("10"), Decimal("100")) == Decimal("18.33")
    # Three yearly 100s: 25.00 exactly, where rounding each (8.33 x 3) would give 24.99.
    assert monthly_recurring(0, Decimal("300")) == Decimal("25.00")
    assert monthly_recurring(None, None) == Decimal("0.00")
