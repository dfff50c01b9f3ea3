"""The app's Celery tasks: thin, primitive arguments, one service call each.

Without CELERY_BROKER_URL they run in-process at once (see crm/settings/base.py). The
retried ones retry with backoff on any error; every service they call is idempotent
(constraints, conditional updates), so a retry or a redelivery after a lost worker
duplicates nothing. Enqueue through `enqueue_*`: ids, never instances, after commit.

Freshness coalesces: a write marks its customers in the refresh outbox (customers.outbox) and
wakes `enqueue_drain`, which queues at most one pending `drain_refreshes` (a cache flag);
that drain takes everything marked. So under load the queue holds a handful of drains, not
a task per write, and a write whose drain cannot be queued still leaves its mark for the next
drain, the minute's sweep (engagement.schedules) or the nightly recompute.
"""

import contextlib
import datetime as dt
import logging

from celery import group, shared_task
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.celery import delay_logged
from crm.db import chunks

logger = logging.getLogger(__name__)

# The flag "a drain is queued and has not started": set by enqueue_drain (cache.add, so one
# process wins), deleted by the drain as it starts. Its timeout bounds the wait when a drain
# is lost, and, with a per-process cache (no CACHE_URL), how long a process's own writes go
# without queueing another drain.
DRAIN_PENDING = "engagement:refresh-drain-pending"
DRAIN_PENDING_SECONDS = 10
# Ids per message: a bulk import of 100,000 customers' interactions becomes small tasks a
# worker can retry one by one, with bounded SQL IN lists.
CHUNK = 5_000
RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


# --- the engine ---------------------------------------------------------------------------


@shared_task(name="engagement.tasks.refresh_customers")
def refresh_customers(customer_ids: list[int]) -> dict:
    """Recompute the stored result of these customers and evaluate the alert rules for them
    (an admin action asked, or a write elsewhere changed them). One task, so a redelivered
    task redoes both."""
    from engagement.workflow.runs import engagement_run

    return _summary(engagement_run(customer_ids=list(customer_ids)))


@shared_task(bind=True, name="engagement.tasks.recompute_all")
def recompute_all(
    self, as_of: str | None = None, chunk_ids: int | None = None, batch_size: int | None = None
) -> dict:
    """Recompute every customer (the nightly schedule, the API, after a rule change), then
    evaluate the alert rules as of the same day and rebuild the dashboard rollups.

    With a broker the run fans out: chunks of `chunk_ids` customer ids (default
    engagement.workflow.runs.CHUNK_IDS) as a group of recompute_chunk tasks on any number of
    workers, finished by one recompute_finish. Without one, it runs here, in one process.
    While another full run is open this one is not started: that run is asked to go once more
    when it is done (a rule change is then applied). `batch_size`: customers per transaction
    (a test's knob, to catch a worker in the middle).
    """
    from engagement.workflow.runs import (
        RunBusy,
        engagement_run,
        recompute_run_open,
        recompute_run_request_rerun,
    )

    day = dt.date.fromisoformat(as_of) if as_of else None
    queue = _queue_of(self.request)
    try:
        if not _fans_out(self.app):
            options = {"batch_size": batch_size} if batch_size else {}
            summary = _summary(engagement_run(as_of=day, task_id=self.request.id or "", **options))
            # A task of its own: a retried rollup rebuild does not redo the recompute. Built
            # as of today whatever day was recomputed: the dashboard reads rollups only when
            # they are of today. On this task's queue, so a recompute routed to a queue of
            # its own (an operator's choice, a test's worker) is followed there.
            refresh_metric_rollups.apply_async(queue=queue)
            return summary
        from engagement.engine.locks import recompute_lock

        with recompute_lock():  # an open run of one process found meanwhile is dead
            run = recompute_run_open(
                as_of=day or timezone.localdate(),
                fan_out=True,
                chunk_ids=chunk_ids,
                task_id=self.request.id or "",
            )
    except RunBusy as busy:
        recompute_run_request_rerun(run=busy.run)
        return {"run": busy.run.pk, "state": "rerun requested", "as_of": as_of}
    chunks = (recompute_chunk.si(run.pk, index, batch_size) for index in range(run.chunks_total))
    group(chunks).apply_async(queue=queue)
    return {"run": run.pk, "state": run.state, "chunks": run.chunks_total, "as_of": str(run.as_of)}


@shared_task(bind=True, name="engagement.tasks.recompute_chunk", **RETRY)
def recompute_chunk(self, run_id: int, index: int, batch_size: int | None = None) -> dict:
    """One id range of a fanned-out full recompute. Acks late (the project's setting): lost
    with its worker, it is redelivered and rewrites the same results. The chunk that
    completes the run queues the run's one finish."""
    from engagement.workflow.runs import recompute_run_chunk, recompute_run_fail

    try:
        complete, summary = recompute_run_chunk(
            run_id=run_id, index=index, worker=self.request.hostname or "", batch_size=batch_size
        )
    except Exception as error:
        if self.request.retries >= self.max_retries:
            recompute_run_fail(run_id=run_id, error=error)
        raise
    if complete:
        recompute_finish.apply_async((run_id,), queue=_queue_of(self.request))
    return _summary(summary)


@shared_task(bind=True, name="engagement.tasks.recompute_finish", **RETRY)
def recompute_finish(self, run_id: int) -> dict:
    """After every chunk: RFM, predictions, alert rules as of D, outbox marks (the run's one
    callback), then the dashboard rollups once, and another run if the rules changed."""
    from engagement.workflow.runs import recompute_run_fail, recompute_run_finish

    try:
        summary = recompute_run_finish(run_id=run_id)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            recompute_run_fail(run_id=run_id, error=error)
        raise
    if "skipped" not in summary:
        queue = _queue_of(self.request)
        refresh_metric_rollups.apply_async(queue=queue)
        if summary.get("rerun"):
            recompute_all.apply_async(queue=queue)
    return _summary(summary)


@shared_task(name="engagement.tasks.drain_refreshes")
def drain_refreshes() -> dict:
    """Refresh every customer marked changed (engagement.workflow.runs.engagement_refresh_changed):
    recompute them set-based and evaluate the alert rules once per set. Writes that commit
    while it runs queue the next drain (the flag is cleared first)."""
    from engagement.workflow.runs import engagement_refresh_changed

    cache.delete(DRAIN_PENDING)
    summary = engagement_refresh_changed()
    if summary["more"]:
        enqueue_drain()  # out of time with marks left: the next drain goes on
    return summary


@shared_task(name="engagement.tasks.fit_predictions")
def fit_predictions(as_of: str | None = None) -> dict:
    """Fit the prediction models as of a day and predict every customer (the API's fit)."""
    from engagement.engine.prediction_service import predictions_fit

    fit = predictions_fit(as_of=dt.date.fromisoformat(as_of) if as_of else None)
    return {"fit": fit.pk, "as_of": fit.as_of.isoformat(), "converged": fit.converged}


# --- analytics ----------------------------------------------------------------------------


@shared_task(name="engagement.tasks.refresh_metric_rollups", **RETRY)
def refresh_metric_rollups(as_of: str | None = None) -> dict:
    """Rebuild the dashboard's metric rollups (engagement.analytics.rollups).

    Retried with backoff: the rebuild is one transaction that replaces every rollup, so a
    failed attempt leaves the previous ones and a retry redoes the whole rebuild.
    """
    from engagement.analytics.rollups import metrics_refresh

    day = dt.date.fromisoformat(as_of) if as_of else None
    refresh = metrics_refresh(as_of=day)
    return {"as_of": refresh.as_of.isoformat(), "id": refresh.pk}


# --- the workflow -------------------------------------------------------------------------
# Registered under the module they were first declared in: stored PeriodicTask rows and
# queued messages name them so.


@shared_task(name="engagement.workflow_tasks.evaluate_alerts", **RETRY)
def evaluate_alerts(
    customer_ids: list[int] | None = None,
    triggers: list[str] | None = None,
    since: str | None = None,
    as_of: str | None = None,
) -> dict:
    """Evaluate the alert rules as of `as_of` (default today). `since` is read from messages
    queued before rules were evaluated as of a day, and ignored."""
    from engagement.workflow.alerts import alerts_evaluate

    day = dt.date.fromisoformat(as_of) if as_of else None
    return alerts_evaluate(as_of=day, customer_ids=customer_ids, triggers=triggers)


@shared_task(name="engagement.workflow_tasks.recompute_and_evaluate", **RETRY)
def recompute_and_evaluate(
    customer_ids: list[int] | None = None, as_of: str | None = None, batch_size: int | None = None
) -> dict:
    """Recompute (all customers, or these), then evaluate the alert rules on the result.

    One task, so a worker lost in the middle is redelivered (acks late) and redoes both.
    """
    from engagement.workflow.runs import engagement_run

    day = dt.date.fromisoformat(as_of) if as_of else None
    options = {"batch_size": batch_size} if batch_size else {}
    return _summary(engagement_run(as_of=day, customer_ids=customer_ids, **options))


@shared_task(name="engagement.workflow_tasks.remind_overdue_steps", **RETRY)
def remind_overdue_steps() -> int:
    from engagement.workflow.reminders import overdue_steps_remind

    return overdue_steps_remind()


# A refused campaign (segment deleted, playbook inactive) stays failed: retrying cannot help.
@shared_task(name="engagement.tasks.run_campaign", dont_autoretry_for=(ValidationError,), **RETRY)
def run_campaign(campaign_id: int) -> dict:
    """Draw a campaign's members and start its treatment plans (resumes where a failed run
    stopped: members already drawn are skipped)."""
    from engagement.workflow.campaigns import campaign_run

    campaign = campaign_run(campaign_id=campaign_id)
    return {"campaign": campaign.pk, "state": campaign.state, "members": campaign.members_done}


# --- enqueueing ---------------------------------------------------------------------------


def enqueue_drain() -> None:
    """Queue one drain of the refresh outbox, unless one is queued and not started yet.

    Call after commit (the subscribers do). Without a broker the drain runs here and now, so
    a bulk write pays one set-based refresh, not one per customer. A drain that cannot be
    queued (or fails in-process) is logged at ERROR (crm.celery.delay_logged); the marks stay
    for the next drain, and the admin index shows the backlog.
    """
    if drain_refreshes.app.conf.task_always_eager:
        delay_logged(drain_refreshes)
        return
    try:
        pending = not cache.add(DRAIN_PENDING, 1, timeout=DRAIN_PENDING_SECONDS)
    except Exception:  # the cache is down: queue anyway (more drains, none missing)
        logger.exception("The refresh-drain flag could not be set in the cache")
        pending = False
    if pending:
        return  # a queued drain will start after this write committed and take its marks
    if delay_logged(drain_refreshes) is None:
        with contextlib.suppress(Exception):
            cache.delete(DRAIN_PENDING)  # not queued: let the next write try again


def enqueue_refresh(customer_ids) -> int:
    """Queue refresh_customers for these ids once the current transaction commits.

    Answers how many customers were queued.
    """
    return _enqueue_chunks(refresh_customers, customer_ids)


def enqueue_recompute_all(as_of: dt.date | None = None) -> None:
    """Queue a full recompute once the current transaction commits."""
    day = as_of.isoformat() if as_of else None
    transaction.on_commit(lambda: delay_logged(recompute_all, day))


def enqueue_campaign_run(campaign_id: int) -> None:
    """Queue run_campaign once the current transaction commits (in-process without a broker)."""
    transaction.on_commit(lambda: run_campaign.delay(int(campaign_id)), robust=True)


def _enqueue_chunks(task, customer_ids, *args) -> int:
    ids = sorted({int(pk) for pk in customer_ids})
    for chunk in chunks(ids, CHUNK):
        # The write that asked for this has committed and must not look failed; a task that
        # cannot be queued is logged at ERROR (crm.celery.delay_logged) and the nightly
        # recompute catches up.
        transaction.on_commit(lambda chunk=chunk: delay_logged(task, chunk, *args))
    return len(ids)


def _fans_out(app) -> bool:
    """A full recompute fans out over workers when there are workers: with a broker."""
    return not app.conf.task_always_eager


def _queue_of(request) -> str | None:
    """The queue a task was received from (None when run in-process: the default)."""
    return (request.delivery_info or {}).get("routing_key") or None


def _summary(summary: dict) -> dict:
    # A result backend stores the return value as JSON: keep only plain values.
    return {key: value for key, value in summary.items() if _plain(value)}


def _plain(value) -> bool:
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False
