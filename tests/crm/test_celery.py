"""crm.celery.delay_logged: a task that cannot be queued after a write is logged, loudly."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kombu.exceptions import OperationalError

from crm.celery import app as celery_app
from customers import services
from customers.models import Interaction
from engagement import tasks
from tests.factories import CustomerFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker_down(monkeypatch):
    """A broker is configured (tasks are queued, not run in-process) and refuses them."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    def refuse(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.refresh_customers, "delay", refuse)
    monkeypatch.setattr(tasks.evaluate_alerts, "delay", refuse)


@pytest.mark.django_db
def test_a_write_whose_refresh_cannot_be_queued_succeeds_and_logs_an_error(
    rep, broker_down, caplog, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        services.interaction_record(customer=customer, user=rep, kind=Interaction.Kind.LOGIN)

    assert Interaction.objects.filter(customer=customer).count() == 1
    errors = [r for r in caplog.records if r.name == "crm.celery" and r.levelno == logging.ERROR]
    messages = [r.getMessage() for r in errors]
    assert any(
        "engagement.tasks.refresh_customers could not be queued" in m and str(customer.pk) in m
        for m in messages
    ), messages
    assert any("engagement.workflow_tasks.evaluate_alerts" in m for m in messages), messages
    assert all(r.exc_info for r in errors)  # the traceback says why


@pytest.mark.parametrize(
    ("broker", "backend"),
    [
        ("redis://127.0.0.1:6379/5", "RedisBackend"),
        ("amqp://guest:guest@127.0.0.1:5672//", "RPCBackend"),
    ],
)
def test_every_documented_broker_gives_the_worker_a_result_backend(broker, backend):
    # Celery 5 refuses to start a worker whose result backend is `amqp://`.
    code = (
        "import django; from crm.celery import app; django.setup(); "
        "print(type(app.backend).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "crm.settings.local", "CELERY_BROKER_URL": broker},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == backend
