"""Freshness through a real Celery worker on a broker (.ci/run starts Redis and sets
CRM_CELERY_WORKER_BROKER; without it these tests do not run, see the skipif)."""

import datetime as dt
import os
import time

import pytest
from django.db import connections
from django.utils import timezone

from customers import services
from customers.models import Interaction
from engagement.engine.recompute import engagement_recompute
from engagement.models import EngagementResult, Status
from tests.factories import CustomerFactory, InteractionFactory

BROKER = os.environ.get("CRM_CELERY_WORKER_BROKER", "")

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    # Checked before any database is set up: a transactional test flushes the tables after.
    pytest.mark.skipif(not BROKER, reason="needs CRM_CELERY_WORKER_BROKER (a real broker)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker():
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "result_backend")}
    app.conf.update(broker_url=BROKER, task_always_eager=False, result_backend=BROKER)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            # Celery's Django fixup closes this thread's connections as the worker starts;
            # start the test on fresh ones rather than on half-closed cursors.
            connections.close_all()
            yield app
    finally:
        app.conf.update(saved)


def _wait_for(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_refreshes_the_result_after_an_interaction_is_recorded(worker):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=70))
    engagement_recompute()
    assert EngagementResult.objects.get(customer=customer).status == Status.INACTIVE

    # Autocommit: the event fires on commit and the task goes through the broker.
    services.interaction_record(
        customer=customer,
        kind=Interaction.Kind.LOGIN,
        occurred_at=timezone.now() - dt.timedelta(days=1),
    )

    assert _wait_for(
        lambda: EngagementResult.objects.get(customer=customer).status == Status.ACTIVE
    )


def test_many_writes_coalesce_into_a_few_drains_on_the_worker(worker):
    from celery.signals import task_prerun
    from django.core.cache import cache

    from customers.models import ChangedCustomer
    from engagement.tasks import DRAIN_PENDING

    customers = CustomerFactory.create_batch(30)
    for customer in customers:
        InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=70))
    engagement_recompute()
    cache.delete(DRAIN_PENDING)
    drains = []

    def count(sender=None, **kwargs):
        if sender.name == "engagement.tasks.drain_refreshes":
            drains.append(1)

    task_prerun.connect(count, weak=False)
    try:
        for customer in customers:  # thirty writes, each committed on its own
            services.interaction_record(
                customer=customer, kind=Interaction.Kind.LOGIN, occurred_at=timezone.now()
            )
        assert _wait_for(
            lambda: (
                EngagementResult.objects.filter(
                    customer__in=customers, status=Status.ACTIVE
                ).count()
                == 30
            )
        )
        assert _wait_for(lambda: not ChangedCustomer.objects.exists())
    finally:
        task_prerun.disconnect(count)
    assert 1 <= len(drains) <= 10, len(drains)
