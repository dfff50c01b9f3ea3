"""Full recomputes as runs: fanned out in chunks they store exactly what one process stores;
one run at a time; progress in the API and the admin; a dead run is replaced.

The chunks run in this process here (the tasks eager); tests/engagement/test_fanout_worker.py
runs them on real workers.
"""

import datetime as dt
import random

import pytest
from django.utils import timezone

from engagement import tasks
from engagement.engine.locks import recompute_lock
from engagement.models.runs import RecomputeRun
from engagement.models.workflow import Alert
from engagement.workflow import runs
from engagement.workflow.runs import (
    RunBusy,
    engagement_run,
    recompute_run_chunk,
    recompute_run_finish,
    recompute_run_open,
)
from tests.engagement.snapshots import clear_engagement, engagement_snapshot, varied_base

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
BEFORE = TODAY - dt.timedelta(days=30)


@pytest.fixture
def base(rep, cs):
    return varied_base(120, owner=rep, today=TODAY)


def _from_scratch():
    """The same starting point every time: results (and alerts) as of a month ago."""
    clear_engagement()
    engagement_run(as_of=BEFORE)


def _open(chunk_ids=17, task_id=""):
    with recompute_lock():
        return recompute_run_open(as_of=TODAY, fan_out=True, chunk_ids=chunk_ids, task_id=task_id)


def _fan_out(*, chunk_ids=17, seed=7):
    run = _open(chunk_ids)
    order = list(range(run.chunks_total))
    random.Random(seed).shuffle(order)  # workers finish in any order
    finishers = [i for i in order if recompute_run_chunk(run_id=run.pk, index=i)[0]]
    assert finishers == [order[-1]]  # exactly one chunk completes the run: the last one
    return run, recompute_run_finish(run_id=run.pk)


def _single():
    _from_scratch()
    summary = engagement_run(as_of=TODAY)
    return summary, engagement_snapshot()


def test_fanned_out_chunks_store_exactly_what_one_process_stores(base):
    single, expected = _single()
    assert expected["alerts"]
    assert any(row[3] == TODAY for row in expected["history"])  # today's run moved some

    _from_scratch()
    run, summary = _fan_out()

    assert engagement_snapshot() == expected  # RFM, history, types, alerts and plans included
    run.refresh_from_db()
    assert run.state == RecomputeRun.State.DONE
    assert (run.chunks_done, run.chunks_total) == (8, 8)  # 120 ids in chunks of 17
    assert run.customers == run.customers_total == 120
    assert summary["customers"] == single.customers
    assert summary["moves"] == single.moves
    assert summary["alerts"] == single.alerts
    assert all(c.seconds is not None and c.customers for c in run.chunks.all())


def test_a_chunk_lost_after_storing_its_results_is_redone_to_the_same(base, monkeypatch):
    _, expected = _single()
    _from_scratch()
    run = _open()
    real = runs._chunk_done
    crashed = []

    def crash_once(chunk, summary):
        if chunk.index == 3 and not crashed:
            crashed.append(chunk.index)
            raise RuntimeError("the worker died after the chunk's batches committed")
        return real(chunk, summary)

    monkeypatch.setattr(runs, "_chunk_done", crash_once)
    for index in range(run.chunks_total):
        with pytest.raises(RuntimeError) if index == 3 else _nothing():
            recompute_run_chunk(run_id=run.pk, index=index)
    assert RecomputeRun.objects.get(pk=run.pk).chunks_done == run.chunks_total - 1

    complete, _ = recompute_run_chunk(run_id=run.pk, index=3)  # redelivered (acks late)
    assert complete
    recompute_run_finish(run_id=run.pk)
    assert engagement_snapshot() == expected
    assert run.chunks.get(index=3).attempts == 2


def test_a_chunk_delivered_again_after_it_completed_the_run_asks_for_the_finish_again(base):
    run = _open(chunk_ids=1000)
    assert recompute_run_chunk(run_id=run.pk, index=0)[0]
    # Its worker died before queueing the finish: the redelivered chunk asks again.
    assert recompute_run_chunk(run_id=run.pk, index=0) == (True, {"skipped": "done"})
    recompute_run_finish(run_id=run.pk)
    assert recompute_run_chunk(run_id=run.pk, index=0) == (False, {"skipped": "done"})
    assert recompute_run_finish(run_id=run.pk)["skipped"] == "done"


def test_the_nightly_task_fans_out_when_there_are_workers(base, monkeypatch):
    _, expected = _single()
    _from_scratch()
    monkeypatch.setattr(tasks, "_fans_out", lambda app: True)  # chunks still run eagerly here

    answer = tasks.recompute_all.delay(None, 25).get()

    run = RecomputeRun.objects.get(pk=answer["run"])
    assert answer["chunks"] == run.chunks_total == 5
    assert run.state == RecomputeRun.State.DONE
    assert engagement_snapshot() == expected


def test_two_full_recomputes_never_interleave(base, admin_api):
    open_run = _open()
    with pytest.raises(RunBusy):
        engagement_run(as_of=TODAY)
    assert tasks.recompute_all.delay().get() == {
        "run": open_run.pk,
        "state": "rerun requested",
        "as_of": None,
    }
    response = admin_api.post("/api/engagement/recompute/", {}, format="json")
    assert response.status_code == 409
    assert f"run {open_run.pk}" in response.json()["detail"]
    assert RecomputeRun.objects.filter(is_open=True).count() == 1

    for index in range(open_run.chunks_total):
        recompute_run_chunk(run_id=open_run.pk, index=index)
    # The rule change (or request) that waited is owed a run once this one is done.
    assert recompute_run_finish(run_id=open_run.pk)["rerun"] is True


def test_a_dead_run_is_replaced(base):
    stale = _open()
    RecomputeRun.objects.filter(pk=stale.pk).update(
        heartbeat_at=timezone.now() - runs.STALE_AFTER - dt.timedelta(minutes=1)
    )
    fresh = _open()
    stale.refresh_from_db()
    assert stale.state == RecomputeRun.State.FAILED
    assert "abandoned" in stale.error
    # A run of one process left open (its process killed): the next one, holding the lock
    # that the dead one would hold, replaces it without waiting for staleness.
    RecomputeRun.objects.filter(pk=fresh.pk).update(fan_out=False)
    summary = engagement_run(as_of=TODAY)
    fresh.refresh_from_db()
    assert fresh.state == RecomputeRun.State.FAILED
    assert RecomputeRun.objects.get(pk=summary["run"]).state == RecomputeRun.State.DONE


def test_a_failed_run_says_why_and_lets_the_next_start(base, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "engagement_recompute", broken)
    with pytest.raises(RuntimeError):
        engagement_run(as_of=TODAY)
    failed = RecomputeRun.objects.get(as_of=TODAY)
    assert (failed.state, failed.error) == (RecomputeRun.State.FAILED, "RuntimeError: disk full")
    assert failed.is_open is None
    monkeypatch.undo()
    assert engagement_run(as_of=TODAY).customers == 120


def test_progress_in_the_api_by_task_id(base, admin_api, cs_api):
    done = admin_api.post("/api/engagement/recompute/", {}, format="json").json()
    progress = admin_api.get(f"/api/engagement/recompute/{done['task_id']}/").json()
    assert progress["status"] == "done"
    assert progress["run"]["chunks_done"] == progress["run"]["chunks_total"] == 1
    assert progress["run"]["customers"] == 120
    assert progress["summary"]["customers"] == 120
    assert progress["summary"]["run"] == progress["run"]["id"]

    running = _open(chunk_ids=50, task_id="task-abc")
    recompute_run_chunk(run_id=running.pk, index=0)
    progress = admin_api.get("/api/engagement/recompute/task-abc/").json()
    assert progress["status"] == "running"
    assert (progress["run"]["chunks_done"], progress["run"]["chunks_total"]) == (1, 3)
    assert progress["summary"] is None
    assert admin_api.get("/api/engagement/recompute/not-started/").json() == {
        "task_id": "not-started",
        "status": "queued",
        "run": None,
        "summary": None,
    }
    assert cs_api.get("/api/engagement/recompute/task-abc/").status_code == 200  # reads


def test_progress_in_the_admin(base, client, crm_admin, rep):
    running = _open(chunk_ids=50)
    recompute_run_chunk(run_id=running.pk, index=1)
    client.force_login(crm_admin)
    page = client.get("/admin/engagement/recomputerun/").content.decode()
    assert "1 / 3" in page
    assert "50 / 120" in page  # chunk 1 holds ids 50 to 99 of the 120
    detail = client.get(f"/admin/engagement/recomputerun/{running.pk}/change/").content.decode()
    assert "chunk" in detail.lower()
    client.force_login(rep)
    assert client.get("/admin/engagement/recomputerun/").status_code == 403


def test_predictions_are_fitted_on_full_runs_before_the_alert_rules(base, monkeypatch):
    calls = []
    monkeypatch.setattr(
        runs,
        "predictions_fit",
        lambda *, as_of: calls.append(("fit", as_of, Alert.objects.count())),
    )
    monkeypatch.setattr(
        runs, "predictions_refresh", lambda *, customer_ids, as_of: calls.append(("refresh",))
    )
    real = runs.alerts_evaluate
    monkeypatch.setattr(
        runs, "alerts_evaluate", lambda **kw: calls.append(("alerts",)) or real(**kw)
    )

    engagement_run(as_of=TODAY, customer_ids=[base[0].pk])  # some customers: no fit
    assert calls == [("refresh",), ("alerts",)]
    calls.clear()
    engagement_run(as_of=TODAY)
    assert calls == [("fit", TODAY, calls[0][2]), ("alerts",)]
    calls.clear()
    _fan_out()
    assert [c[0] for c in calls] == ["fit", "alerts"]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
