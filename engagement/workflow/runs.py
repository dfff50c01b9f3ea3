"""A recompute run: recompute the stored engagement as of D, then evaluate the alert rules as
of the same D. Every way a recompute starts calls `engagement_run`: the nightly task and the
API (engagement.tasks.recompute_all), the admin actions and the freshness refresh
(engagement.tasks.refresh_customers, drain_refreshes), the `recompute_engagement` command and
the demo (engagement.workflow.demo). PRODUCT: rules are evaluated after every recompute,
however it is started, as of that recompute's D (docs/definitions.md, "Alert rules").

The evaluation reads the moves the recompute stored as of D (history rows' `as_of`), so a
run redelivered after a crash, or run twice for one D, finds the same moves and the cooldown
keeps it from alerting twice.

`engagement_refresh_changed` is the freshness path: it takes every customer a write marked
changed (customers.outbox), a set at a time, and runs them (recompute, then the alert rules
once for the set). A full run clears the marks it covered.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from customers.outbox import (
    customer_changes_claim,
    customer_changes_clear,
    customer_changes_clear_covered,
    customer_changes_cover,
)
from engagement.engine.locks import recompute_lock
from engagement.engine.recompute import BATCH_SIZE, RecomputeSummary, engagement_recompute

from .alerts import alerts_evaluate

logger = logging.getLogger(__name__)

# Customers per refresh transaction: one claim, one recompute, one evaluation each.
REFRESH_SET = 5_000

# The prediction fit, when the prediction feature is installed: a full run fits the model
# as of D before the alert rules are evaluated (value_at_risk reads the predictions).
PREDICTIONS_FIT = ("engagement.engine.prediction_service", "predictions_fit")


class RunSummary(RecomputeSummary):
    """A recompute's summary (engagement.engine.recompute.RecomputeSummary) and its alerts:
    `alerts` (how many fired), `alerts_by_rule` {rule name: n} (only rules that fired) and
    `predictions` (the fit's answer on a full run with the feature, else None)."""


def engagement_run(
    *,
    as_of: dt.date | None = None,
    customer_ids: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    evaluate: bool = True,
) -> RunSummary:
    """Recompute every customer (or `customer_ids`) as of `as_of` (default today), then
    evaluate the alert rules as of that day for the same customers.

    `evaluate=False` only for loading history (the demo's past months): alerts of the past
    would be a year of overdue work.
    """
    day = as_of or timezone.localdate()
    ids = None if customer_ids is None else sorted({int(pk) for pk in customer_ids})
    # A full run reads every customer's latest writes: it clears the marks waiting before it.
    token = _cover_changes() if ids is None else None
    summary = RunSummary(
        engagement_recompute(as_of=day, customer_ids=ids, progress=progress, batch_size=batch_size)
    )
    summary.update(alerts=0, alerts_by_rule={}, predictions=None)
    if evaluate:
        summary.update(engagement_run_finish(as_of=day, customer_ids=ids))
    if token is not None:
        customer_changes_clear_covered(token=token)
    return summary


def _cover_changes() -> int:
    token = secrets.randbits(62)
    customer_changes_cover(token=token)
    return token


def engagement_refresh_changed(*, limit: int | None = None, budget_seconds: float = 60) -> dict:
    """Refresh every customer marked changed: per set of up to `limit`, in one transaction,
    claim the marks, recompute the set, evaluate the alert rules once for it (as of today),
    clear the marks. Loops until no mark is left or `budget_seconds` have passed.

    Answers {"customers", "changed", "alerts", "sets", "more"} (`more`: marks may be left).
    One at a time (the recompute lock, taken before the claim so that a refresh waiting for
    another holds no mark): each takes everything marked when it starts a set.
    """
    limit = limit or REFRESH_SET
    totals = {"customers": 0, "changed": 0, "alerts": 0, "sets": 0, "more": False}
    deadline = time.monotonic() + budget_seconds
    with recompute_lock():
        while True:
            with transaction.atomic():
                ids = customer_changes_claim(limit=limit)
                if not ids:
                    break
                run = engagement_run(customer_ids=ids)
                customer_changes_clear(customer_ids=ids)
            totals["customers"] += run.customers
            totals["changed"] += run.changed
            totals["alerts"] += run.alerts
            totals["sets"] += 1
            if time.monotonic() > deadline:
                totals["more"] = True
                break
    return totals


def engagement_run_finish(*, as_of: dt.date, customer_ids: Iterable[int] | None = None) -> dict:
    """What follows a recompute as of `as_of`: on a full run (`customer_ids` None) the
    prediction fit, if present; then the alert rules for those customers.

    Answers {"alerts", "alerts_by_rule", "predictions"}.
    """
    predictions = predictions_fit_if_present(as_of) if customer_ids is None else None
    alerts = alerts_evaluate(as_of=as_of, customer_ids=customer_ids)
    return {
        "alerts": alerts["alerts"],
        "alerts_by_rule": {name: n for name, n in alerts["by_rule"].items() if n},
        "predictions": predictions,
    }


def predictions_fit_if_present(as_of: dt.date):
    """Fit the predictions as of `as_of` when the feature is installed; None when it is not."""
    module, name = PREDICTIONS_FIT
    try:
        fit = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        if error.name != module:
            raise  # the feature is there but broken: say so, do not skip it quietly
        return None
    answer = fit(as_of=as_of)
    return answer if _plain(answer) else str(answer)


def _plain(value) -> bool:
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False
