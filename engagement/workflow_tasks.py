"""Celery tasks of the customer success workflow: thin, ids in, one service call each.

They retry with backoff on any error; every service they call is idempotent (constraints,
conditional updates), so a retry or a redelivery after a lost worker duplicates nothing.
"""

import datetime as dt

from celery import shared_task
from django.db import transaction

from crm.celery import delay_logged

# Ids per evaluation message (bounded SQL IN lists, small retriable tasks).
CHUNK = 5_000
RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="engagement.workflow_tasks.evaluate_alerts", **RETRY)
def evaluate_alerts(
    customer_ids: list[int] | None = None,
    triggers: list[str] | None = None,
    since: str | None = None,
) -> dict:
    from engagement.services.alerts import alerts_evaluate

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
    from engagement.services.alerts import alerts_evaluate
    from engagement.services.recompute import engagement_recompute

    day = dt.date.fromisoformat(as_of) if as_of else None
    options = {"batch_size": batch_size} if batch_size else {}
    summary = engagement_recompute(as_of=day, customer_ids=customer_ids, **options)
    alerts = alerts_evaluate(customer_ids=customer_ids)
    return {"customers": summary["customers"], "changed": summary["changed"], **alerts}


@shared_task(name="engagement.workflow_tasks.remind_overdue_steps", **RETRY)
def remind_overdue_steps() -> int:
    from engagement.services.reminders import overdue_steps_remind

    return overdue_steps_remind()


def enqueue_evaluate(customer_ids=None, triggers=None) -> None:
    """Queue an evaluation once the current transaction commits."""
    kinds = None if triggers is None else [str(t) for t in triggers]
    if customer_ids is None:
        transaction.on_commit(lambda: delay_logged(evaluate_alerts, None, kinds))
        return
    ids = sorted({int(pk) for pk in customer_ids})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        transaction.on_commit(lambda chunk=chunk: delay_logged(evaluate_alerts, chunk, kinds))
