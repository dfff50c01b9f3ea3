"""A recompute run: recompute the stored engagement as of D, bring the predictions to D (a
full run fits the models; a run of some customers predicts them with the model in use),
then evaluate the alert rules as of the same D. Every way a recompute starts calls
`engagement_run`: the nightly task and the API (engagement.tasks.recompute_all), the admin
actions and the freshness refresh (engagement.tasks.refresh_customers, drain_refreshes), the
`recompute_engagement` command and the demo (engagement.workflow.demo). The rules are
evaluated after every recompute, however it is started, as of that recompute's D
(docs/definitions.md, "Alert rules").

The evaluation reads the moves the recompute stored as of D (history rows' `as_of`), so a
run redelivered after a crash, or run twice for one D, finds the same moves and the cooldown
keeps it from alerting twice.

A full run fans out over Celery workers when a broker is configured (engagement.fanout);
its chord callback calls `engagement_run_finish` like the single-process run does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.utils import timezone

from engagement.engine.prediction_service import predictions_fit, predictions_refresh
from engagement.engine.recompute import BATCH_SIZE, RecomputeSummary, engagement_recompute

from .alerts import alerts_evaluate

logger = logging.getLogger(__name__)

class RunSummary(RecomputeSummary):
    """A recompute's summary (engagement.engine.recompute.RecomputeSummary) and its alerts:
    `alerts` (how many fired), `alerts_by_rule` {rule name: n} (only rules that fired) and
    `predictions` (a full run: the fit, in words; a run of some customers: the refresh's
    answer, None before the first fit; None when the rules were not evaluated)."""


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
    summary = RunSummary(
        engagement_recompute(as_of=day, customer_ids=ids, progress=progress, batch_size=batch_size)
    )
    summary.update(alerts=0, alerts_by_rule={}, predictions=None)
    if evaluate:
        summary.update(engagement_run_finish(as_of=day, customer_ids=ids))
    return summary


def engagement_run_finish(*, as_of: dt.date, customer_ids: Iterable[int] | None = None) -> dict:
    """What follows a recompute as of `as_of`: the predictions (a full run, `customer_ids`
    None, fits the models; otherwise those customers are predicted with the model in use),
    then the alert rules for those customers (value_at_risk reads the predictions).

    Answers {"alerts", "alerts_by_rule", "predictions"}.
    """
    if customer_ids is None:
        predictions = str(predictions_fit(as_of=as_of))
    else:
        predictions = predictions_refresh(customer_ids=customer_ids, as_of=as_of)
    alerts = alerts_evaluate(as_of=as_of, customer_ids=customer_ids)
    return {
        "alerts": alerts["alerts"],
        "alerts_by_rule": {name: n for name, n in alerts["by_rule"].items() if n},
        "predictions": predictions,
    }
