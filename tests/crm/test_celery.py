"""crm.celery.delay_logged: a task that cannot be queued after a write is logged, loudly."""

import logging

import pytest
from kombu.exceptions import OperationalError

from crm.celery import app as celery_app
from customers import services
from customers.models import Interaction
from engagement import tasks, workflow_tasks
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    """A broker is configured (tasks are queued, not run in-process) and refuses them."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    def refuse(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.refresh_customers, "delay", refuse)
    monkeypatch.setattr(workflow_tasks.evaluate_alerts, "delay", refuse)


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
