"""The workflow on a real Celery worker: a `celery -A crm worker` subprocess on a real broker.

.ci/run sets CRM_CELERY_WORKER_BROKER (Redis) and DATABASE_URL (PostgreSQL) and runs these with
`-m celery_worker`; plain `make test` deselects them. The workers and their queue come from
tests/fixtures/workers.py (`broker_app`).
"""

import datetime as dt
import os
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer, Interaction
from engagement.models.results import EngagementResult, StatusHistory, TypeChange
from engagement.models.workflow import ActionPlan, Alert, AlertRule, Playbook, PlaybookStep
from engagement.workflow.defaults import install_defaults
from tests.engagement.snapshots import engagement_snapshot, wait_for_run
from tests.factories import UserFactory
from tests.fixtures.api import client_for

BROKER = os.environ.get("CRM_CELERY_WORKER_BROKER", "")

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.skipif(not BROKER, reason="needs CRM_CELERY_WORKER_BROKER (a real broker)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def defaults():
    # A transactional test starts from flushed tables: the shipped playbooks and rules again.
    install_defaults(Playbook, PlaybookStep, AlertRule)


@pytest.fixture
def quiet_events(monkeypatch):
    """Ingest without the in-process refreshes the events would run: the worker does the work."""
    monkeypatch.setattr("engagement.subscribers.enqueue_drain", lambda: None)


def test_history_ingested_through_the_api_alerts_and_plans_on_the_worker(
    broker_app, defaults, quiet_events
):
    start, send = broker_app
    rep = UserFactory(username="rep", role="sales_rep")
    cs = UserFactory(username="cs", role="customer_success")
    api = client_for(UserFactory(username="admin", role="crm_admin"))
    since = (timezone.localdate() - dt.timedelta(days=700)).isoformat()
    big = api.post(
        "/api/customers/", {"name": "Big spender", "owner": rep.pk, "customer_since": since}
    )
    busy = api.post("/api/customers/", {"name": "Busy", "owner": rep.pk, "customer_since": since})
    assert big.status_code == busy.status_code == 201, big.content
    now = timezone.now()
    rows = [
        {
            "customer": big.json()["id"],
            "kind": "purchase",
            "amount": "3500.00",
            "occurred_at": (now - dt.timedelta(days=days)).isoformat(),
        }
        for days in (120, 100)
    ] + [
        {
            "customer": busy.json()["id"],
            "kind": "login",
            "occurred_at": (now - dt.timedelta(days=days)).isoformat(),
        }
        for days in (1, 3)
    ]
    ingest = api.post("/api/interactions/bulk/", rows, format="json")
    assert ingest.status_code in (200, 201), ingest.content
    assert not EngagementResult.objects.exists()

    start()
    # With a broker the full recompute fans out: the run's summary is stored when it is done.
    opened = send("engagement.tasks.recompute_all").get(timeout=120)
    first = wait_for_run(opened["run"]).summary
    assert first["customers"] == 2

    alert = Alert.objects.get()
    assert alert.customer.name == "Big spender"
    assert alert.rule.name == "High-value customer inactive"
    assert alert.assignee == rep
    assert "7000.00 >= 5000.00" in alert.message
    plan = ActionPlan.objects.get()
    assert (plan.customer.name, plan.playbook.name, plan.owner) == ("Big spender", "Churn save", cs)
    assert alert.action_plan == plan
    assert plan.steps.count() == 3

    before = engagement_snapshot()
    opened = send("engagement.tasks.recompute_all").get(timeout=120)
    second = wait_for_run(opened["run"]).summary
    assert second["alerts"] == 0
    after = engagement_snapshot()
    assert after == before


def test_worker_killed_mid_recompute_then_rerun_equals_a_clean_run(broker_app, defaults):
    start, send = broker_app
    rep = UserFactory(username="rep", role="sales_rep")
    UserFactory(username="cs", role="customer_success")
    since = timezone.localdate() - dt.timedelta(days=700)
    customers = Customer.objects.bulk_create(
        Customer(name=f"C{n:04d}", email=f"c{n}@example.com", owner=rep, customer_since=since)
        for n in range(300)
    )
    now = timezone.now()
    Interaction.objects.bulk_create(
        Interaction(
            customer=customer,
            kind="purchase" if n % 3 == 0 else "login",
            direction="inbound",
            amount=Decimal("6000.00") if n % 3 == 0 else None,
            occurred_at=now - dt.timedelta(days=(n * 7) % 200 + 1),
        )
        for n, customer in enumerate(customers)
    )
    total = len(customers)

    worker = start()
    # One customer per batch (one transaction each): slow enough to be caught in the middle.
    send("engagement.workflow_tasks.recompute_and_evaluate", batch_size=1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = EngagementResult.objects.count()
        if done >= 20:
            break
        time.sleep(0.01)
    worker.kill()
    done = EngagementResult.objects.count()
    assert 0 < done < total, f"the worker was not killed in the middle ({done} of {total})"
    assert not Alert.objects.exists()

    start()
    rerun = send("engagement.workflow_tasks.recompute_and_evaluate", batch_size=1).get(timeout=180)
    assert rerun["customers"] == total
    assert rerun["alerts"] > 0
    after_crash = engagement_snapshot()

    for model in (Alert, ActionPlan, StatusHistory, TypeChange, EngagementResult):
        model.objects.all().delete()
    send("engagement.workflow_tasks.recompute_and_evaluate", batch_size=1).get(timeout=180)
    clean = engagement_snapshot()

    for part in clean:
        assert after_crash[part] == clean[part], part
    assert len(clean["plans"]) == len(clean["alerts"]) > 0
