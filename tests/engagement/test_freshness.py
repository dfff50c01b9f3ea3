"""Freshness: writes in `customers` refresh the stored engagement; a nightly recompute runs."""

import contextlib
import datetime as dt
import json
import logging

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError

from crm.celery import app as celery_app
from customers import services
from customers.models import ChangedCustomer, Interaction
from customers.outbox import customer_changes_mark
from engagement import schedules, tasks
from engagement.analytics.rollups import usable_refresh
from engagement.engine.recompute import engagement_recompute
from engagement.models import EngagementResult, Status
from engagement.models.workflow import Alert
from engagement.workflow import runs
from tests.factories import CustomerFactory, InteractionFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """With a broker: the drains queued (none run), and the flag they leave, cleared."""
    calls = []
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks.drain_refreshes, "delay", lambda: calls.append("drain") or True)
    cache.delete(tasks.DRAIN_PENDING)
    yield calls
    cache.delete(tasks.DRAIN_PENDING)


def _days_ago(days):
    return timezone.now() - dt.timedelta(days=days)


def _marked():
    return set(ChangedCustomer.objects.values_list("customer_id", flat=True))


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
    assert _marked() == set()  # the drain took the mark


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


def test_the_mark_is_written_with_the_write_and_the_drain_waits_for_the_commit(
    rep, queued, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.interaction_record(customer=customer, user=rep, kind=Interaction.Kind.LOGIN)
        # Inside the transaction: marked (durably, with the write), nothing queued yet.
        assert _marked() == {customer.pk}
        assert queued == []
    assert queued == ["drain"]


def test_a_rolled_back_write_marks_and_queues_nothing(
    rep, queued, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep)
    with (
        django_capture_on_commit_callbacks(execute=True),
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        services.interaction_record(customer=customer, user=rep, kind=Interaction.Kind.LOGIN)
        raise RuntimeError("the request failed after the write")
    assert queued == []
    assert _marked() == set()


def test_many_writes_queue_one_drain(rep, queued, django_capture_on_commit_callbacks):
    customers = CustomerFactory.create_batch(5, owner=rep)
    for customer in customers * 4:  # twenty writes, each its own transaction
        with django_capture_on_commit_callbacks(execute=True):
            services.interaction_record(customer=customer, user=rep, kind=Interaction.Kind.LOGIN)
    assert queued == ["drain"]
    assert _marked() == {c.pk for c in customers}

    # The drain clears the flag as it starts: the next write queues the next drain.
    tasks.drain_refreshes.run()
    assert _marked() == set()
    with django_capture_on_commit_callbacks(execute=True):
        services.interaction_record(customer=customers[0], user=rep, kind=Interaction.Kind.LOGIN)
    assert queued == ["drain", "drain"]


def test_a_drain_takes_every_mark_in_sets_and_evaluates_each_set_once(rep, monkeypatch):
    monkeypatch.setattr(runs, "REFRESH_SET", 2)
    customers = CustomerFactory.create_batch(5, owner=rep)
    for customer in customers:
        InteractionFactory(customer=customer, kind="login", occurred_at=_days_ago(3))
    customer_changes_mark(customer_ids=[c.pk for c in customers])
    evaluated = []
    real = runs.alerts_evaluate
    monkeypatch.setattr(
        runs, "alerts_evaluate", lambda **kw: evaluated.append(kw["customer_ids"]) or real(**kw)
    )

    summary = tasks.drain_refreshes.run()

    assert summary == {"customers": 5, "changed": 5, "alerts": 0, "sets": 3, "more": False}
    assert evaluated == [
        [c.pk for c in customers[:2]],
        [c.pk for c in customers[2:4]],
        [customers[4].pk],
    ]
    assert EngagementResult.objects.filter(status=Status.ACTIVE).count() == 5
    assert _marked() == set()


def test_a_bulk_write_pays_one_set_based_refresh(rep, django_capture_on_commit_callbacks):
    """Without a broker the drain runs in-process at once: its queries do not grow with the
    customers written (one drain, set-based), unlike a refresh per customer."""

    def ingest(count, kind="login"):
        customers = CustomerFactory.create_batch(count, owner=rep)
        rows = [
            {"customer": c.pk, "kind": kind, "occurred_at": _days_ago(n % 3).isoformat()}
            for c in customers
            for n in range(5)
        ]
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.interactions_bulk_record(rows=rows, user=rep)
        return customers, len(queries)

    ingest(2)  # the first refresh also stores rule set version 1
    _, few = ingest(3)
    large, many = ingest(60)
    assert many == few, (few, many)
    assert EngagementResult.objects.filter(customer__in=large, status=Status.ACTIVE).count() == 60
    assert _marked() == set()

    # Event-watching rules ride the same drain: five support interactions are a spike.
    spiking, _ = ingest(4, kind="support")
    alerts = Alert.objects.filter(rule__trigger="support_spike")
    assert set(alerts.values_list("customer", flat=True)) == {c.pk for c in spiking}


def test_broker_down_the_write_succeeds_the_mark_stays_and_the_next_drain_catches_up(
    rep, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    cache.delete(tasks.DRAIN_PENDING)

    def refuse(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.drain_refreshes, "delay", refuse)
    customer = CustomerFactory(owner=rep)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        services.interaction_record(customer=customer, user=rep, kind=Interaction.Kind.LOGIN)

    assert Interaction.objects.filter(customer=customer).exists()
    assert _marked() == {customer.pk}
    assert any(
        "engagement.tasks.drain_refreshes could not be queued" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR
    )
    # The flag was lifted: the next write tries the broker again.
    assert cache.add(tasks.DRAIN_PENDING, 1, timeout=1)
    cache.delete(tasks.DRAIN_PENDING)

    tasks.drain_refreshes.run()  # the broker is back (or the minute's sweep)
    assert EngagementResult.objects.get(customer=customer).status == Status.ACTIVE
    assert _marked() == set()


def test_a_full_recompute_clears_the_marks_it_covered_not_later_ones(rep, monkeypatch):
    early, late = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    customer_changes_mark(customer_ids=[early.pk, late.pk])
    real = runs.engagement_recompute

    def recompute_then_a_write(**kwargs):
        summary = real(**kwargs)
        # A write during the full run, after it read this customer: its mark must stay.
        customer_changes_mark(customer_ids=[late.pk])
        return summary

    monkeypatch.setattr(runs, "engagement_recompute", recompute_then_a_write)
    tasks.recompute_all.delay()
    assert _marked() == {late.pk}


def test_the_admin_index_shows_the_refresh_backlog_to_admins(client, crm_admin, cs):
    client.force_login(crm_admin)
    assert "Refresh backlog: none" in client.get("/admin/").content.decode()

    customers = CustomerFactory.create_batch(3)
    customer_changes_mark(customer_ids=[c.pk for c in customers])
    ChangedCustomer.objects.update(waiting_since=timezone.now() - dt.timedelta(minutes=10))
    page = client.get("/admin/").content.decode()
    assert "Refresh backlog: 3 customers waiting since" in page
    assert "10\xa0minutes" in page or "10 minutes" in page
    assert "check the Celery worker and broker" in page  # late: no drain ran for them

    client.force_login(cs)
    assert "Refresh backlog" not in client.get("/admin/").content.decode()


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
