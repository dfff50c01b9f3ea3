"""Freshness: writes in `customers` refresh the stored engagement; a nightly recompute runs."""

import contextlib
import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from customers import services
from customers.models import Interaction
from engagement import schedules, tasks
from engagement.analytics.rollups import usable_refresh
from engagement.engine.recompute import engagement_recompute
from engagement.models import EngagementResult, Status
from engagement.subscribers import refresh_on_interactions
from tests.factories import CustomerFactory, InteractionFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """The customer ids each refresh task was queued with (the task itself not run)."""
    calls = []
    monkeypatch.setattr(tasks.refresh_customers, "delay", lambda ids: calls.append(ids))
    return calls


def _days_ago(days):
    return timezone.now() - dt.timedelta(days=days)


def test_recording_an_interaction_refreshes_the_stored_result(
    rep, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep)
    InteractionFactory(customer=customer, occurred_at=_days_ago(70))
    engagement_recompute()
    assert EngagementResult.objects.get(customer=customer).status == Status.INACTIVE

    with django_capture_on_commit_callbacks(execute=True):
        services.interaction_record(
            customer=customer, user=rep, kind=Interaction.Kind.LOGIN, occurred_at=_days_ago(1)
        )

    result = EngagementResult.objects.get(customer=customer)
    assert result.status == Status.ACTIVE
    assert result.last_activity_on == timezone.localdate() - dt.timedelta(days=1)


def test_a_new_subscription_refreshes_the_stored_result(rep, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=rep)
    InteractionFactory(customer=customer, occurred_at=_days_ago(200))
    engagement_recompute()
    assert EngagementResult.objects.get(customer=customer).status == Status.CHURNED

    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_create(
            customer=customer,
            user=rep,
            product=ProductFactory(),
            started_at=timezone.localdate() - dt.timedelta(days=10),
        )

    result = EngagementResult.objects.get(customer=customer)
    assert result.status == Status.PASSIVE
    assert result.type_product_subscriber


def test_the_refresh_waits_for_the_commit(rep, queued, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        services.interaction_record(customer=customer, user=rep, kind=Interaction.Kind.LOGIN)
        # Inside the transaction nothing is queued: a worker would not see the row yet.
        assert queued == []
    assert queued == [[customer.pk]]


def test_a_rolled_back_write_queues_nothing(rep, queued, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=rep)
    with (
        django_capture_on_commit_callbacks(execute=True),
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        services.interaction_record(customer=customer, user=rep, kind=Interaction.Kind.LOGIN)
        raise RuntimeError("the request failed after the write")
    assert queued == []


def test_a_bulk_ingest_queues_its_customers_in_chunks(
    monkeypatch, queued, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "CHUNK", 2)
    with django_capture_on_commit_callbacks(execute=True):
        refresh_on_interactions(Interaction, customer_ids=[5, 3, 1, 3, 4])
    assert queued == [[1, 3], [4, 5]]


def test_nightly_recompute_is_scheduled_after_migrate():
    task = PeriodicTask.objects.select_related("crontab").get(task="engagement.tasks.recompute_all")
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("0", "2")
    assert (task.crontab.day_of_week, task.crontab.day_of_month) == ("*", "*")
    assert json.loads(task.kwargs) == {}


def test_schedules_survive_the_operators_edits_on_the_next_migrate():
    task = PeriodicTask.objects.get(name=schedules.SCHEDULES[0].name)
    task.enabled = False
    task.save()
    call_command("migrate", "engagement", verbosity=0)  # post_migrate runs again
    assert PeriodicTask.objects.filter(name=task.name).count() == 1
    assert not PeriodicTask.objects.get(name=task.name).enabled


def test_a_schedule_appended_to_the_list_is_created():
    extra = schedules.Schedule(
        name="test: hourly thing", task="engagement.tasks.refresh_customers", minute="5"
    )
    assert schedules.ensure_schedules([*schedules.SCHEDULES, extra]) == 1
    made = PeriodicTask.objects.select_related("crontab").get(name=extra.name)
    assert (made.crontab.minute, made.crontab.hour) == ("5", "*")


def test_recompute_all_task_recomputes_every_customer_as_of_a_day():
    customers = CustomerFactory.create_batch(3)
    tasks.recompute_all.delay("2026-01-15")
    results = EngagementResult.objects.filter(customer__in=customers)
    assert results.count() == 3
    assert {r.as_of for r in results} == {dt.date(2026, 1, 15)}


def test_the_nightly_recompute_leaves_the_dashboard_rollups_fresh():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, kind="login", direction="inbound")
    assert usable_refresh() is None  # nothing built yet: the dashboard would compute live

    tasks.recompute_all.delay()

    refresh = usable_refresh()
    assert refresh is not None
    assert refresh.as_of == timezone.localdate()
