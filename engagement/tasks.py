"""The app's Celery tasks: thin, primitive arguments, one service call each.

Without CELERY_BROKER_URL they run in-process at once (see crm/settings/base.py). The
retried ones retry with backoff on any error; every service they call is idempotent
(constraints, conditional updates), so a retry or a redelivery after a lost worker
duplicates nothing. Enqueue through `enqueue_*`: ids, never instances, after commit.
"""

import datetime as dt

from celery import shared_task
from django.db import transaction

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
    """Recompute the stored result of these customers (a write elsewhere changed them)."""
    from engagement.engine.prediction_service import predictions_refresh
    from engagement.engine.recompute import engagement_recompute
    from engagement.workflow.alerts import alerts_evaluate

    summary = _summary(engagement_recompute(customer_ids=list(customer_ids)))
    # Predicted with the model in use (no refit), before the alerts that read predictions.
    summary["predictions"] = predictions_refresh(customer_ids=list(customer_ids))
    # Alerts in the same task, so a redelivered task redoes both.
    summary["alerts"] = alerts_evaluate(customer_ids=list(customer_ids))["alerts"]
    return summary


@shared_task(bind=True, name="engagement.tasks.recompute_all")
def recompute_all(self, as_of: str | None = None) -> dict:
    """Recompute every customer (the nightly schedule, and after a rule change), fit the
    prediction models as of the same day, evaluate the alert rules, then queue the dashboard
    rollups' rebuild on the fresh results."""
    from engagement.engine.prediction_service import predictions_fit
    from engagement.engine.recompute import engagement_recompute
    from engagement.workflow.alerts import alerts_evaluate

    day = dt.date.fromisoformat(as_of) if as_of else None
    summary = _summary(engagement_recompute(as_of=day))
    summary["predictions"] = str(predictions_fit(as_of=dt.date.fromisoformat(summary["as_of"])))
    summary["alerts"] = alerts_evaluate()["alerts"]
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
) -> dict:
    from engagement.workflow.alerts import alerts_evaluate

    return alerts_evaluate(
        customer_ids=customer_ids,
        triggers=triggers,
        since=dt.datetime.fromisoformat(since) if since else None,
    )


@shared_task(name="engagement.workflow_tasks.recompute_and_evaluate", **RETRY)
def recompute_and_evaluate(
    customer_ids: list[int] | None = None, as_of: str | None = None, batch_size: int | None = None
) -> dict:
    """Recompute (all customers, or these), then evaluate the alert rules on the result.

    One task, so a worker lost in the middle is redelivered (acks late) and redoes both.
    """
    from engagement.engine.recompute import engagement_recompute
    from engagement.workflow.alerts import alerts_evaluate

    day = dt.date.fromisoformat(as_of) if as_of else None
    options = {"batch_size": batch_size} if batch_size else {}
    summary = engagement_recompute(as_of=day, customer_ids=customer_ids, **options)
    alerts = alerts_evaluate(customer_ids=customer_ids)
    return {"customers": summary["customers"], "changed": summary["changed"], **alerts}


@shared_task(name="engagement.workflow_tasks.remind_overdue_steps", **RETRY)
def remind_overdue_steps() -> int:
    from engagement.workflow.reminders import overdue_steps_remind

    return overdue_steps_remind()


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
        transaction.on_commit(lambda: evaluate_alerts.delay(None, kinds), robust=True)
        return
    _enqueue_chunks(evaluate_alerts, customer_ids, kinds)


def enqueue_recompute_all(as_of: dt.date | None = None) -> None:
    """Queue a full recompute once the current transaction commits."""
    day = as_of.isoformat() if as_of else None
    transaction.on_commit(lambda: recompute_all.delay(day), robust=True)


def _enqueue_chunks(task, customer_ids, *args) -> int:
    ids = sorted({int(pk) for pk in customer_ids})
    for chunk in chunks(ids, CHUNK):
        # robust: the write that asked for this has committed and must not look failed; a
        # task that fails to queue is logged and the nightly recompute catches up.
        transaction.on_commit(lambda chunk=chunk: task.delay(chunk, *args), robust=True)
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
