"""Live evaluation of one customer: nothing stored, any as_of, a few queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from engagement.engine.live import CustomerNotFound, engagement_evaluate, score_trend
from engagement.engine.recompute import engagement_recompute
from engagement.engine.rule_sets import rule_set_ensure
from engagement.models import EngagementResult
from tests.factories import CustomerFactory, InteractionFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 6, 30)


def at(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9)))


def test_live_evaluation_as_of_any_day_stores_nothing(django_assert_max_num_queries):
    c = CustomerFactory(customer_since=D - dt.timedelta(days=400))
    InteractionFactory(customer=c, kind="purchase", amount=Decimal("20"), occurred_at=at(D))
    InteractionFactory(customer=c, kind="support", occurred_at=at(D - dt.timedelta(days=41)))
    rule_set_ensure()
    with django_assert_max_num_queries(5):
        now = engagement_evaluate(customer_id=c.pk, as_of=D)
    assert (now.status, now.types, now.as_of) == ("active", ("recent_buyer",), D)
    assert now.metrics["last_activity_on"] == D
    assert now.metrics["revenue_365"] == Decimal("20.00")
    assert "last activity 0 days ago" in now.reasons["status"]
    assert now.rfm is None

    before = engagement_evaluate(customer_id=c.pk, as_of=D - dt.timedelta(days=1))
    assert before.status == "at_risk"
    assert before.reasons["status"].startswith("last activity 40 days ago; active needs 30")
    assert not EngagementResult.objects.exists()


def test_live_reads_stored_rfm_after_a_recompute():
    c = CustomerFactory(customer_since=D - dt.timedelta(days=10))
    engagement_recompute(as_of=D)
    result = engagement_evaluate(customer_id=c.pk, as_of=D)
    assert result.status == "new"
    assert result.rfm == (1, 1, 1)


def test_unknown_customer_is_a_domain_error():
    with pytest.raises(CustomerNotFound):
        engagement_evaluate(customer_id=999_999)


def test_the_score_trend_reads_once_and_scores_each_day_as_a_live_evaluation(
    django_assert_num_queries,
):
    c = CustomerFactory(customer_since=D - dt.timedelta(days=500))
    for days in (1, 35, 70, 200, 380):
        InteractionFactory(
            customer=c,
            kind="purchase",
            amount=Decimal("120"),
            occurred_at=at(D - dt.timedelta(days=days)),
        )
    SubscriptionFactory(customer=c, started_at=D - dt.timedelta(days=90))
    days = [D - dt.timedelta(days=30 * n) for n in range(12)]
    with django_assert_num_queries(4):  # the rules, then the customer's rows (3)
        trend = score_trend(customer_id=c.pk, days=days)
    assert trend == [(day, engagement_evaluate(customer_id=c.pk, as_of=day).score) for day in days]
    assert len({score for _day, score in trend}) > 1
    with pytest.raises(CustomerNotFound):
        score_trend(customer_id=999_999, days=days)
