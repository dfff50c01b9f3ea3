"""A full recompute fanned out over two real worker processes on Redis stores exactly what
one process stores; so does a run whose worker is killed in the middle and whose lost chunk
is delivered again (acks late) to the other worker.

Run by .ci/run's worker step (`-m celery_worker`, PostgreSQL, CRM_CELERY_WORKER_BROKER).
"""

import datetime as dt
import os
import time

import pytest
from django.utils import timezone

from engagement.models.runs import RecomputeRun
from engagement.models.workflow import AlertRule, Playbook, PlaybookStep
from engagement.workflow.defaults import install_defaults
from engagement.workflow.runs import engagement_run
from tests.engagement.snapshots import (
    clear_engagement,
    engagement_snapshot,
    varied_base,
    wait_for_run,
)
from tests.factories import UserFactory

BROKER = os.environ.get("CRM_CELERY_WORKER_BROKER", "")

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.skipif(not BROKER, reason="needs CRM_CELERY_WORKER_BROKER (a real broker)"),
    pytest.mark.django_db(transaction=True),
]
CUSTOMERS = 600
BEFORE_DAYS = 30


@pytest.fixture
def base():
    install_defaults(Playbook, PlaybookStep, AlertRule)  # flushed by the transactional test
    rep = UserFactory(username="rep", role="sales_rep")
    UserFactory(username="cs", role="customer_success")
    return varied_base(CUSTOMERS, owner=rep, today=timezone.localdate())


def _from_scratch():
    clear_engagement()
    engagement_run(as_of=timezone.localdate() - dt.timedelta(days=BEFORE_DAYS))


def _expected():
    """The single-process run from the same starting point."""
    _from_scratch()
    engagement_run(as_of=timezone.localdate())
    expected = engagement_snapshot()
    _from_scratch()
    return expected


def test_two_worker_processes_store_exactly_what_one_process_stores(base, broker_app):
    start, send = broker_app
    expected = _expected()
    assert expected["alerts"]
    start("one")
    start("two")

    answer = send("engagement.tasks.recompute_all", chunk_ids=40).get(timeout=120)

    run = wait_for_run(answer["run"])
    assert run.state == RecomputeRun.State.DONE, run.error
    assert run.chunks_done == run.chunks_total == 15
    assert engagement_snapshot() == expected
    workers = {name.split("@")[0] for name in run.chunks.values_list("worker", flat=True)}
    assert workers <= {"one", "two"}


def test_a_worker_killed_mid_run_then_the_run_finishing_gives_the_same(base, broker_app):
    start, send = broker_app
    expected = _expected()
    # A lost chunk comes back after 6 s (Redis visibility timeout), swept every second.
    quick = {"CELERY_VISIBILITY_TIMEOUT": "6"}
    victim = start("victim", quick)
    start("survivor", quick)

    # One customer per transaction: a chunk takes long enough to be caught in the middle.
    answer = send("engagement.tasks.recompute_all", chunk_ids=60, batch_size=1).get(timeout=120)
    run_id = answer["run"]
    deadline = time.monotonic() + 120
    caught = None
    while time.monotonic() < deadline and caught is None:
        caught = (
            RecomputeRun.objects.get(pk=run_id)
            .chunks.filter(
                worker__startswith="victim@", started_at__isnull=False, finished_at__isnull=True
            )
            .first()
        )
        time.sleep(0.05)
    assert caught is not None, "the victim never took a chunk"
    victim.kill()
    assert RecomputeRun.objects.get(pk=run_id).state == RecomputeRun.State.RUNNING

    run = wait_for_run(run_id)

    assert run.state == RecomputeRun.State.DONE, run.error
    redone = run.chunks.get(pk=caught.pk)
    assert redone.attempts == 2
    assert redone.worker.startswith("survivor@")
    assert engagement_snapshot() == expected
