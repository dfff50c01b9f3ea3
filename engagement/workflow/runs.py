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

`engagement_refresh_changed` is the freshness path: it takes every customer a write marked
changed (customers.outbox), a set at a time, and runs them (recompute, then the alert rules
once for the set). A full run clears the marks it covered.

A full run is a RecomputeRun row, at most one open at a time (two full recomputes never
interleave): in one process (`engagement_run` with no customer ids), or fanned out over
Celery workers: `recompute_run_open(fan_out=True)` splits the id range into chunks,
engagement.tasks.recompute_chunk runs each (`recompute_run_chunk`: idempotent, a redelivered
chunk rewrites the same results), and the chunk that completes the set hands over to one
callback, `recompute_run_finish` (RFM, predictions, alert rules as of D, outbox marks). The
completion is counted in the database under the run's row lock, so it holds on any result
backend (RabbitMQ's rpc:// has no chords) and whether a chunk was redelivered or not.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from customers.models import Customer
from customers.outbox import (
    customer_changes_claim,
    customer_changes_clear,
    customer_changes_clear_covered,
    customer_changes_cover,
)
from engagement.engine.locks import recompute_lock
from engagement.engine.prediction_service import predictions_fit, predictions_refresh
from engagement.engine.recompute import (
    BATCH_SIZE,
    RecomputeSummary,
    engagement_recompute,
    engagement_store_rfm,
)
from engagement.engine.rule_sets import rule_set_ensure
from engagement.models.runs import RecomputeChunk, RecomputeRun

from .alerts import alerts_evaluate

logger = logging.getLogger(__name__)

# Customers per refresh transaction: one claim, one recompute, one evaluation each.
REFRESH_SET = 5_000

# Customer ids per chunk of a fanned-out full recompute: 20 chunks at a million customers,
# a few seconds each on PostgreSQL, so a lost worker costs little and progress shows.
CHUNK_IDS = 50_000
# An open run without progress for this long is dead (its worker and its messages lost):
# the next full recompute marks it failed and starts.
STALE_AFTER = dt.timedelta(minutes=15)


class RunSummary(RecomputeSummary):
    """A recompute's summary (engagement.engine.recompute.RecomputeSummary) and its alerts:
    `alerts` (how many fired), `alerts_by_rule` {rule name: n} (only rules that fired) and
    `predictions` (a full run: the fit, in words; a run of some customers: the refresh's
    answer, None before the first fit; None when the rules were not evaluated)."""


class RunBusy(Exception):
    """Another full recompute is open (`run`)."""

    def __init__(self, run: RecomputeRun):
        super().__init__(f"A full recompute is already running (run {run.pk}, as of {run.as_of}).")
        self.run = run


def engagement_run(
    *,
    as_of: dt.date | None = None,
    customer_ids: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    evaluate: bool = True,
    task_id: str = "",
) -> RunSummary:
    """Recompute every customer (or `customer_ids`) as of `as_of` (default today), then
    evaluate the alert rules as of that day for the same customers.

    Every customer: a full run in this process (raises RunBusy while a fanned-out one is
    open). `evaluate=False` only for loading history (the demo's past months): alerts of the
    past would be a year of overdue work. `task_id`: the task that asked, kept on the run.
    """
    day = as_of or timezone.localdate()
    if customer_ids is None:
        return _full_run(
            as_of=day, progress=progress, batch_size=batch_size, evaluate=evaluate, task_id=task_id
        )
    ids = sorted({int(pk) for pk in customer_ids})
    summary = RunSummary(
        engagement_recompute(as_of=day, customer_ids=ids, progress=progress, batch_size=batch_size)
    )
    summary.update(alerts=0, alerts_by_rule={}, predictions=None)
    if evaluate:
        summary.update(engagement_run_finish(as_of=day, customer_ids=ids))
    return summary


def _full_run(*, as_of, progress, batch_size, evaluate, task_id) -> RunSummary:
    """Every customer in this process, as a RecomputeRun of one chunk. Holds the exclusive
    recompute lock throughout, so any other open run of one process found here is dead."""
    with recompute_lock():
        run = recompute_run_open(as_of=as_of, fan_out=False, task_id=task_id)
        chunk = run.chunks.get()
        RecomputeChunk.objects.filter(pk=chunk.pk).update(started_at=run.started_at, attempts=1)
        try:

            def report(done, total):
                _heartbeat(run, done)
                if progress:
                    progress(done, total)

            summary = RunSummary(
                engagement_recompute(
                    as_of=as_of, progress=report, batch_size=batch_size, rule_set=run.rule_set
                )
            )
            _chunk_done(chunk, summary)
            summary.update(alerts=0, alerts_by_rule={}, predictions=None)
            if evaluate:
                summary.update(engagement_run_finish(as_of=as_of))
            customer_changes_clear_covered(token=run.cover_token)
        except BaseException as error:
            recompute_run_fail(run_id=run.pk, error=error)
            raise
        summary["run"] = run.pk
        rerun = _close(run, summary)
    if rerun:  # the rules changed while it ran: once more, with them
        return _full_run(
            as_of=as_of, progress=progress, batch_size=batch_size, evaluate=evaluate, task_id=""
        )
    return summary


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


def _plain(value) -> bool:
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


# --- full runs ------------------------------------------------------------------------------


def recompute_run_open(
    *, as_of: dt.date, fan_out: bool, chunk_ids: int | None = None, task_id: str = ""
) -> RecomputeRun:
    """Open a full run as of `as_of` with its chunks (one, or one per `chunk_ids` ids when
    fanned out); raises RunBusy while another run is open and alive.

    Call holding the exclusive recompute lock: an open run of one process found then is dead
    (it would hold the lock), and so is any run without progress for STALE_AFTER.
    """
    now = timezone.now()
    with transaction.atomic():
        for other in RecomputeRun.objects.select_for_update().filter(is_open=True):
            if other.fan_out and now - other.heartbeat_at < STALE_AFTER:
                raise RunBusy(other)
            _fail(other, "abandoned: no progress, its process or messages were lost")
        ids = Customer.objects.order_by().values_list("pk", flat=True)
        first, last = ids.order_by("pk").first(), ids.order_by("-pk").first()
        try:
            with transaction.atomic():
                run = RecomputeRun.objects.create(
                    as_of=as_of,
                    rule_set=rule_set_ensure(),
                    fan_out=fan_out,
                    customers_total=Customer.objects.count(),
                    task_id=task_id or "",
                    started_at=now,
                    heartbeat_at=now,
                    cover_token=secrets.randbits(62),
                )
        except IntegrityError:  # another opened one meanwhile
            raise RunBusy(RecomputeRun.objects.get(is_open=True)) from None
        bounds = [(first or 0, last or 0)]
        if fan_out and first is not None:
            size = chunk_ids or CHUNK_IDS
            bounds = [(lo, min(lo + size - 1, last)) for lo in range(first, last + 1, size)]
        RecomputeChunk.objects.bulk_create(
            RecomputeChunk(run=run, index=i, lo=lo, hi=hi) for i, (lo, hi) in enumerate(bounds)
        )
        run.chunks_total = len(bounds)
        run.save(update_fields=["chunks_total"])
    # A full run reads every customer's latest writes: the marks waiting now are its to clear.
    customer_changes_cover(token=run.cover_token)
    return run


def recompute_run_request_rerun(*, run: RecomputeRun) -> None:
    """Another full recompute once `run` is done (the rules changed while it runs)."""
    RecomputeRun.objects.filter(pk=run.pk, is_open=True).update(rerun=True)


def recompute_run_chunk(
    *, run_id: int, index: int, worker: str = "", batch_size: int | None = None
) -> tuple[bool, dict]:
    """Recompute one chunk of a fanned-out run; answers (this chunk completed the run: call
    `recompute_run_finish` now, the chunk's summary). A chunk already done, or of a run no
    longer running, does nothing; a redelivered unfinished one is recomputed again (results
    upserted, moves only where the stored result still differs: the same rows as once)."""
    run = RecomputeRun.objects.select_related("rule_set").get(pk=run_id)
    chunk = run.chunks.get(index=index)
    if chunk.finished_at:
        # Redelivered after it was stored: if it completed the run, the finish it was to
        # queue may be lost with its worker; asking again is safe (the finish is idempotent).
        return run.state == RecomputeRun.State.FINISHING, {"skipped": "done"}
    if run.state != RecomputeRun.State.RUNNING:
        return False, {"skipped": run.state}
    RecomputeChunk.objects.filter(pk=chunk.pk).update(
        started_at=timezone.now(), worker=worker[:200], attempts=chunk.attempts + 1
    )
    summary = engagement_recompute(
        as_of=run.as_of,
        id_range=(chunk.lo, chunk.hi),
        rule_set=run.rule_set,
        batch_size=batch_size or BATCH_SIZE,
    )
    return _chunk_done(chunk, summary), dict(summary)


def recompute_run_finish(*, run_id: int) -> dict:
    """The one callback of a fanned-out run, once every chunk is stored: RFM across the base,
    the prediction fit (if installed) and the alert rules as of D, the outbox marks the run
    covered; then the run is done. Idempotent: a redelivered or retried finish redoes the
    same (the caller marks the run failed once it gives up: `recompute_run_fail`)."""
    run = RecomputeRun.objects.select_related("rule_set").get(pk=run_id)
    if run.state != RecomputeRun.State.FINISHING:
        return {"run": run.pk, "skipped": run.state}
    engagement_store_rfm()
    summary = RunSummary(_merged(run))
    summary.update(engagement_run_finish(as_of=run.as_of))
    customer_changes_clear_covered(token=run.cover_token)
    summary["run"] = run.pk
    summary["rerun"] = _close(run, summary)
    return summary


def recompute_run_fail(*, run_id: int, error) -> None:
    run = RecomputeRun.objects.filter(pk=run_id, is_open=True).first()
    if run is not None:
        _fail(run, f"{type(error).__name__}: {error}")


def _fail(run: RecomputeRun, message: str) -> None:
    logger.error("Full recompute run %s as of %s failed: %s", run.pk, run.as_of, message)
    RecomputeRun.objects.filter(pk=run.pk).update(
        state=RecomputeRun.State.FAILED,
        is_open=None,
        finished_at=timezone.now(),
        error=message[:2000],
    )


def _heartbeat(run: RecomputeRun, customers: int) -> None:
    RecomputeRun.objects.filter(pk=run.pk).update(customers=customers, heartbeat_at=timezone.now())


def _chunk_done(chunk: RecomputeChunk, summary: dict) -> bool:
    """Store a chunk as done and count the run's progress; answers whether this chunk
    completed the run (it is then FINISHING: exactly one chunk ever answers True)."""
    now = timezone.now()
    with transaction.atomic():
        # The run's row lock orders chunks finishing together: each counts the others.
        run = RecomputeRun.objects.select_for_update().get(pk=chunk.run_id)
        started = RecomputeChunk.objects.get(pk=chunk.pk).started_at or now
        RecomputeChunk.objects.filter(pk=chunk.pk, finished_at__isnull=True).update(
            finished_at=now,
            seconds=round((now - started).total_seconds(), 3),
            customers=summary["customers"],
            summary=_plain_summary(summary),
        )
        figures = run.chunks.aggregate(
            done=Count("pk", filter=Q(finished_at__isnull=False)), customers=Sum("customers")
        )
        complete = run.state == RecomputeRun.State.RUNNING and figures["done"] == run.chunks_total
        RecomputeRun.objects.filter(pk=run.pk).update(
            chunks_done=figures["done"],
            customers=figures["customers"] or 0,
            heartbeat_at=now,
            **({"state": RecomputeRun.State.FINISHING} if complete else {}),
        )
    return complete


def _close(run: RecomputeRun, summary: dict) -> bool:
    """Mark the run done with its summary; answers whether a rerun was asked for meanwhile."""
    now = timezone.now()
    with transaction.atomic():
        run = RecomputeRun.objects.select_for_update().get(pk=run.pk)
        summary["seconds"] = round((now - run.started_at).total_seconds(), 3)
        RecomputeRun.objects.filter(pk=run.pk).update(
            state=RecomputeRun.State.DONE,
            is_open=None,
            finished_at=now,
            heartbeat_at=now,
            summary=_plain_summary(summary),
        )
    return run.rerun


def _merged(run: RecomputeRun) -> dict:
    """The chunks' summaries added up into one recompute summary."""
    total = {"customers": 0, "changed": 0, "by_status": {}, "by_type": {}, "moves": {}}
    total["type_moves"] = {}
    for part in run.chunks.values_list("summary", flat=True):
        total["customers"] += part.get("customers", 0)
        total["changed"] += part.get("changed", 0)
        for key in ("by_status", "by_type", "moves", "type_moves"):
            for name, n in part.get(key, {}).items():
                total[key][name] = total[key].get(name, 0) + n
    total["moves"] = dict(sorted(total["moves"].items()))
    total["as_of"] = run.as_of.isoformat()
    total["rule_version"] = run.rule_set.version
    return total


def _plain_summary(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if _plain(value)}
