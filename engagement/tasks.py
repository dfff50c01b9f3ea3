"""The app's Celery tasks: thin, primitive arguments, one service call each.

Without CELERY_BROKER_URL they run in-process at once (see crm/settings/base.py). The
retried ones retry with backoff on any error; every service they call is idempotent
(constraints, conditional updates), so a retry or a redelivery after a lost worker
duplicates nothing. Enqueue through `enqueue_*`: ids, never instances, after commit.
"""

import datetime as dt

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import transaction

from crm.celery import delay_logged
from crm.db import chunks

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
def recompute_all(self, as_of: str | None = None) -> dict:
    """Recompute every customer (the nightly schedule, and after a rule change), evaluate
    the alert rules, then queue the dashboard rollups' rebuild on the fresh results."""
    from engagement.workflow.runs import engagement_run

    day = dt.date.fromisoformat(as_of) if as_of else None
    summary = _summary(engagement_run(as_of=day))
    # A task of its own: a retried rollup rebuild does not redo the recompute. Built as of
    # today whatever day was recomputed: the dashboard reads rollups only when they are of
    # today, so rollups of an earlier day would send it back to computing everything live.
    # On the queue this task came from, so a recompute routed to a queue of its own (an
    # operator's choice, a test's worker) is followed there.
    refresh_metric_rollups.apply_async(queue=_queue_of(self.request))
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


def enqueue_refresh(customer_ids) -> int:
    """Queue refresh_customers for these ids once the current transaction commits.

    Answers how many customers were queued.
    """
    return _enqueue_chunks(refresh_customers, customer_ids)


def enqueue_evaluate(customer_ids=None, triggers=None) -> None:
    """Queue an alert evaluation (of every customer when `customer_ids` is None) after commit."""
    kinds = None if triggers is None else [str(t) for t in triggers]
    if customer_ids is None:
        transaction.on_commit(lambda: delay_logged(evaluate_alerts, None, kinds))
        return
    _enqueue_chunks(evaluate_alerts, customer_ids, kinds)


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
