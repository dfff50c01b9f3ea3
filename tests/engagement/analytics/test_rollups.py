"""The rollups answer exactly what the live queries answer, on generated histories."""

import datetime as dt
import json
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from celery import current_app
from celery.exceptions import Retry
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from engagement import schedules, tasks
from engagement.analytics import rollups
from engagement.analytics.board import answer
from engagement.analytics.periods import Period, Segment
from engagement.models import EngagementResult, RuleSet
from engagement.models.metrics import ComparisonCell
from engagement.workflow import runs
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
        refresh = rollups.metrics_refresh()
        assert rollups.usable_refresh() == refresh
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
                    assert rollups.covers(name, period, refresh)
                    live = answer(name, period=period, segment=segment, refresh=None)
                    rolled = answer(name, period=period, segment=segment, refresh=refresh)
                    assert rolled == live, (name, period, segment)
            period = periods[0]
            assert rollups.covers("comparison", period, refresh)
            assert answer("comparison", period=period, segment=segment, refresh=refresh) == answer(
                "comparison", period=period, segment=segment, refresh=None
            )
            assert answer("headline", period=period, segment=segment, refresh=refresh) == answer(
                "headline", period=period, segment=segment, refresh=None
            )


def test_rollups_are_not_used_when_stale_or_for_later_days():
    CustomerFactory()
    refresh = rollups.metrics_refresh(as_of=timezone.localdate() - dt.timedelta(days=3))
    period = Period.parse()
    assert not rollups.covers("activity", period, refresh)  # the period ends after it
    old = Period.parse(end=(timezone.localdate() - dt.timedelta(days=5)).isoformat())
    assert rollups.covers("activity", old, refresh)
    assert not rollups.covers("comparison", old, refresh)  # another day than the refresh
    type(refresh).objects.filter(pk=refresh.pk).update(
        built_at=timezone.now() - dt.timedelta(days=2)
    )
    assert rollups.usable_refresh() is None


# --- the nightly chain: recompute, alerts, then the rollups -------------------------------------


def _nightly():
    """Run the nightly schedule as beat would: its PeriodicTask row, by task name."""
    row = PeriodicTask.objects.get(name=schedules.SCHEDULES[0].name)
    task = current_app.tasks[row.task]
    return task.apply_async(args=json.loads(row.args), kwargs=json.loads(row.kwargs)).get()


def _record_order(monkeypatch):
    calls = []
    for module, name, label in (
        (runs, "engagement_recompute", "recompute"),
        (runs, "alerts_evaluate", "alerts"),
        (rollups, "metrics_refresh", "rollups"),
    ):
        real = getattr(module, name)

        def spy(*args, _real=real, _label=label, **kwargs):
            calls.append(_label)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return calls


def test_the_nightly_schedule_leaves_fresh_rollups_built_on_the_recomputed_results(monkeypatch):
    owners = [UserFactory(username=f"nightly{i}") for i in range(2)]
    _history(7, owners)
    EngagementResult.objects.all().delete()  # only the nightly recompute scores them
    assert rollups.usable_refresh() is None
    calls = _record_order(monkeypatch)

    summary = _nightly()

    assert calls == ["recompute", "alerts", "rollups"]
    assert summary["customers"] == 30
    refresh = rollups.usable_refresh()
    assert refresh is not None
    assert refresh.as_of == timezone.localdate()
    # The rollups were built after the recompute: they hold its scores.
    scored = ComparisonCell.objects.aggregate(n=Sum("scored"))["n"]
    assert scored == EngagementResult.objects.filter(customer__archived_at=None).count() > 0
    period = Period.parse()
    for name in ("activity", "lifecycle", "comparison", "headline"):
        assert rollups.covers(name, period, refresh)
        rolled = answer(name, period=period, refresh=refresh)
        assert rolled == answer(name, period=period, refresh=None), name


def test_a_recompute_as_of_an_earlier_day_still_rolls_up_today():
    CustomerFactory()
    tasks.recompute_all.delay((timezone.localdate() - dt.timedelta(days=10)).isoformat())
    refresh = rollups.usable_refresh()
    assert refresh.as_of == timezone.localdate()
    assert rollups.covers("activity", Period.parse(), refresh)


def test_the_rollup_task_is_retried_with_backoff(monkeypatch):
    task = tasks.refresh_metric_rollups
    assert task.autoretry_for == (Exception,)
    assert task.retry_backoff
    assert task.max_retries == 5
    CustomerFactory()
    real = rollups.metrics_refresh
    attempts = []

    def flaky(**kwargs):
        attempts.append(kwargs)
        if len(attempts) == 1:
            raise RuntimeError("lost the database connection")
        return real(**kwargs)

    monkeypatch.setattr(rollups, "metrics_refresh", flaky)
    # Eager and propagating (the test settings): the failure surfaces as the retry a worker
    # would schedule, the first one within a second (backoff 1, 2, 4, ... s, jittered).
    with pytest.raises(Retry) as retry:
        task.delay()
    assert 0 <= retry.value.when <= 1
    assert isinstance(retry.value.exc, RuntimeError)

    attempts.clear()
    result = task.apply(throw=False).get()  # eager apply runs the retry at once

    assert len(attempts) == 2
    assert result["as_of"] == timezone.localdate().isoformat()
    assert rollups.usable_refresh().pk == result["id"]


def test_the_rollup_rebuild_follows_the_recompute_onto_its_queue(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.refresh_metric_rollups, "apply_async", lambda **kw: sent.append(kw))
    tasks.recompute_all.apply(routing_key="nightly")  # as if received from queue "nightly"
    tasks.recompute_all.apply()  # in-process: the default queue
    assert sent == [{"queue": "nightly"}, {"queue": None}]
