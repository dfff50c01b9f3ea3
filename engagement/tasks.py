"""Celery tasks of the engagement engine: thin, primitive arguments, one service call each.

Without CELERY_BROKER_URL they run in-process at once (see crm/settings/base.py).
"""

import datetime as dt

from celery import shared_task
from django.core.exceptions import ValidationError

from engagement.workflow_tasks import RETRY

# A refresh message carries at most this many ids: a bulk import of 100,000 customers'
# interactions becomes small tasks a worker can retry one by one.
REFRESH_CHUNK = 5_000


@shared_task(name="engagement.tasks.refresh_customers")
def refresh_customers(customer_ids: list[int]) -> dict:
    """Recompute the stored result of these customers (a write elsewhere changed them)."""
    from engagement.services.alerts import alerts_evaluate
    from engagement.services.recompute import engagement_recompute

    summary = _summary(engagement_recompute(customer_ids=list(customer_ids)))
    # Alerts in the same task, so a redelivered task redoes both.
    summary["alerts"] = alerts_evaluate(customer_ids=list(customer_ids))["alerts"]
    return summary


@shared_task(bind=True, name="engagement.tasks.recompute_all")
def recompute_all(self, as_of: str | None = None) -> dict:
    """Recompute every customer (the nightly schedule, and after a rule change), evaluate
    the alert rules, then queue the dashboard rollups' rebuild on the fresh results."""
    from engagement.services.alerts import alerts_evaluate
    from engagement.services.recompute import engagement_recompute

    day = dt.date.fromisoformat(as_of) if as_of else None
    summary = _summary(engagement_recompute(as_of=day))
    summary["alerts"] = alerts_evaluate()["alerts"]
    # A task of its own: a retried rollup rebuild does not redo the recompute. Built as of
    # today whatever day was recomputed: the dashboard reads rollups only when they are of
    # today, so rollups of an earlier day would send it back to computing everything live.
    # On the queue this task came from, so a recompute routed to a queue of its own (an
    # operator's choice, a test's worker) is followed there.
    refresh_metric_rollups.apply_async(queue=_queue_of(self.request))
    return summary


@shared_task(name="engagement.tasks.refresh_metric_rollups", **RETRY)
def refresh_metric_rollups(as_of: str | None = None) -> dict:
    """Rebuild the dashboard's metric rollups (engagement.metrics_rollup).

    Retried with backoff: the rebuild is one transaction that replaces every rollup, so a
    failed attempt leaves the previous ones and a retry redoes the whole rebuild.
    """
    from engagement.metrics_rollup import metrics_refresh

    day = dt.date.fromisoformat(as_of) if as_of else None
    refresh = metrics_refresh(as_of=day)
    return {"as_of": refresh.as_of.isoformat(), "id": refresh.pk}


def enqueue_refresh(customer_ids) -> int:
    """Queue refresh_customers for these ids once the current transaction commits.

    Answers how many customers were queued. Callers pass ids, never instances, so the
    task reads committed rows whatever worker runs it.
    """
    from django.db import transaction

    ids = sorted({int(pk) for pk in customer_ids})
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        # robust: the write that asked for the refresh has committed and must not look
        # failed; a refresh that fails is logged and the nightly recompute catches up.
        transaction.on_commit(lambda chunk=chunk: refresh_customers.delay(chunk), robust=True)
    return len(ids)


def enqueue_recompute_all(as_of: dt.date | None = None) -> None:
    """Queue a full recompute once the current transaction commits."""
    from django.db import transaction

    day = as_of.isoformat() if as_of else None
    transaction.on_commit(lambda: recompute_all.delay(day), robust=True)


def _queue_of(request) -> str | None:
    """The queue a task was received from (None when run in-process: the default)."""
    return (request.delivery_info or {}).get("routing_key") or None


def _summary(summary) -> dict:
    # A result backend stores the return value as JSON: keep only plain values.
    if isinstance(summary, dict):
        return {key: value for key, value in summary.items() if _plain(value)}
    return {"summary": str(summary)}


def _plain(value) -> bool:
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


# A refused campaign (segment deleted, playbook inactive) stays failed: retrying cannot help.
@shared_task(
    name="engagement.tasks.run_campaign", dont_autoretry_for=(ValidationError,), **RETRY
)
def run_campaign(campaign_id: int) -> dict:
    """Draw a campaign's members and start its treatment plans (resumes where a failed run
    stopped: members already drawn are skipped)."""
    from engagement.workflow.campaigns import campaign_run

    campaign = campaign_run(campaign_id=campaign_id)
    return {"campaign": campaign.pk, "state": campaign.state, "members": campaign.members_done}


def enqueue_campaign_run(campaign_id: int) -> None:
    """Queue run_campaign once the current transaction commits (in-process without a broker)."""
    from django.db import transaction

    transaction.on_commit(lambda: run_campaign.delay(int(campaign_id)), robust=True)
