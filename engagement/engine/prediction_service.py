"""Fit the purchase models and store every customer's prediction (docs/definitions.md,
"Prediction").

- `predictions_fit(as_of=D)`: the purchase summary as of D (one set-based query,
  engagement.engine.prediction_sql), the fit (engagement.engine.prediction.fit_model), kept
  as a PredictionFit whatever its outcome, then every non-archived customer's prediction
  written in batches of BATCH_SIZE, one transaction each, like the engagement recompute: a
  crash leaves finished batches new and the others as they were, never half a batch.
  * Converged: every customer predicted with the new model.
  * Not enough data: the fit is stored as not fitted with its reason; every prediction is
    emptied and says why.
  * Not converged: stored as such; the model in use stays the previous usable one, which
    predicts as of D (with none, the predictions are emptied with the failed fit's reason).
- `predictions_refresh(customer_ids=..., as_of=D)`: those customers predicted with the model
  in use (`fit_in_use`), no refit: the freshness refresh after an event.

A customer without a purchase on or before D gets an empty prediction: "no purchase yet".
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crm.db import copy_rows
from customers.models import Customer
from engagement.models.predictions import CustomerPrediction, PredictionFit

from .prediction import (
    NO_PURCHASE_REASON,
    BgNbd,
    GammaGamma,
    Model,
    Summary,
    fit_model,
    predict,
    reasons,
)
from .prediction_sql import current_customer_ids, net_revenue, purchase_summary

BATCH_SIZE = 5_000
# Money columns hold 14 digits with 2 decimals; a runaway prediction is capped below that.
MONEY_CAP = 1e11

TABLE = CustomerPrediction._meta.db_table
COLUMNS = [
    "customer_id",
    "fit_id",
    "as_of",
    "frequency",
    "recency",
    "t",
    "monetary",
    "p_alive",
    "expected_purchases_90",
    "expected_purchases_365",
    "expected_value",
    "predicted_clv_365",
    "historical_clv",
    "reason",
]
_SET = ", ".join(f"{column} = excluded.{column}" for column in COLUMNS[1:])
UPSERT_SQL = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
    f"ON CONFLICT (customer_id) DO UPDATE SET {_SET}"
)
# PostgreSQL: each batch is copied into a session-private staging table, then upserted.
STAGE = "engagement_prediction_stage"
STAGE_SQL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} AS SELECT {', '.join(COLUMNS)} FROM {TABLE} "
    "WITH NO DATA"
)
UPSERT_FROM_STAGE_SQL = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM {STAGE} "
    f"ON CONFLICT (customer_id) DO UPDATE SET {_SET}"
)


def fit_in_use(*, before: PredictionFit | None = None) -> PredictionFit | None:
    """The model in use: the latest usable fit (converged, or not fitted: then predictions are
    empty), optionally the latest one older than `before`."""
    fits = PredictionFit.objects.filter(Q(converged=True) | Q(r__isnull=True))
    if before is not None:
        fits = fits.filter(
            Q(fitted_at__lt=before.fitted_at) | Q(fitted_at=before.fitted_at, pk__lt=before.pk)
        )
    return fits.order_by("-fitted_at", "-id").first()


def predictions_fit(*, as_of: dt.date | None = None, batch_size: int = BATCH_SIZE) -> PredictionFit:
    """Fit the models as of `as_of` (default today), keep the fit, and store every customer's
    prediction. Answers the new PredictionFit; `fit.timings` holds the seconds of each step
    (summary, fit, predict, write, total)."""
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    summary = purchase_summary(as_of)
    summarized = time.perf_counter()
    model = fit_model(summary)
    fitted = time.perf_counter()
    fit = PredictionFit.objects.create(as_of=as_of, fitted_at=timezone.now(), **_fit_fields(model))
    in_use = fit
    if not fit.usable:
        previous = fit_in_use(before=fit)
        if previous is not None and previous.converged:
            in_use = previous  # it predicts as of D; else empty predictions say why
    predict_s, write_s = _store(
        in_use, as_of, current_customer_ids(), summary, net_revenue(as_of), batch_size
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Archived customers have no prediction (their stored one would go stale).
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE customer_id IN "
            f"(SELECT id FROM {Customer._meta.db_table} WHERE archived_at IS NOT NULL)"
        )
    fit.timings = {
        "summary_s": round(summarized - started, 3),
        "fit_s": round(fitted - summarized, 3),
        "predict_s": round(predict_s, 3),
        "write_s": round(write_s, 3),
        "total_s": round(time.perf_counter() - started, 3),
    }
    fit.seconds = fit.timings["total_s"]
    fit.save(update_fields=["seconds"])
    return fit


def predictions_refresh(
    *, customer_ids, as_of: dt.date | None = None, batch_size: int = BATCH_SIZE
) -> dict | None:
    """Predict these customers as of `as_of` (default today) with the model in use, without
    refitting. None when no model was ever fitted (nothing to predict with)."""
    fit = fit_in_use()
    if fit is None:
        return None
    as_of = as_of or timezone.localdate()
    wanted = sorted({int(pk) for pk in customer_ids})
    ids = current_customer_ids(wanted) if wanted else np.array([], dtype=np.int64)
    if ids.size:
        summary = purchase_summary(as_of, customer_ids=ids.tolist())
        _store(fit, as_of, ids, summary, net_revenue(as_of, ids.tolist()), batch_size)
    gone = sorted(set(wanted) - set(ids.tolist()))  # archived (or deleted) customers
    if gone:
        CustomerPrediction.objects.filter(customer_id__in=gone).delete()
    return {"customers": int(ids.size), "fit": fit.pk, "as_of": as_of.isoformat()}


# --- the fit as stored ----------------------------------------------------------------------


def _fit_fields(model: Model) -> dict:
    fields = {
        "customers": model.customers,
        "repeaters": model.repeaters,
        "converged": model.converged,
        "message": model.reason,
    }
    if model.fitted:
        bg, gg = model.bg_nbd, model.gamma_gamma
        fields.update(
            r=bg.r,
            alpha=bg.alpha,
            a=bg.a,
            b=bg.b,
            p=gg.p,
            q=gg.q,
            gamma=gg.gamma,
            log_likelihood=bg.log_likelihood,
            gamma_gamma_log_likelihood=gg.log_likelihood,
        )
    return fields


def parameters(fit: PredictionFit) -> tuple[BgNbd, GammaGamma]:
    """A stored fit's models, to predict with."""
    return (
        BgNbd(r=fit.r, alpha=fit.alpha, a=fit.a, b=fit.b),
        GammaGamma(p=fit.p, q=fit.q, gamma=fit.gamma),
    )


# --- predictions, written in batches --------------------------------------------------------


def _store(fit, as_of, ids, summary: Summary, net, batch_size) -> tuple[float, float]:
    """Write the predictions of `ids` (sorted) made by `fit` (empty unless it converged) from
    the summary and the net revenue (ids, cents). Answers (predict seconds, write seconds)."""
    models = parameters(fit) if fit.converged else None
    empty_reason = fit.message or "not fitted"
    net_ids, net_cents = net
    stored_as_of = connection.ops.adapt_datefield_value(as_of)
    predict_s = write_s = 0.0
    for start in range(0, len(ids), batch_size):
        t0 = time.perf_counter()
        batch = ids[start : start + batch_size]
        rows = _positions(summary.customer_ids, batch)
        has = rows >= 0
        part = _subset(summary, rows[has])
        if models is not None:
            bg, gg = models
            made = predict(bg, gg, part)
            why = reasons(bg, part, made)
            figures = [
                made.p_alive,
                made.expected_purchases_90,
                made.expected_purchases_365,
                _money(made.expected_value),
                _money(made.predicted_clv_365),
            ]
        else:
            figures = [None] * 5
            why = [empty_reason] * len(part)
        t1 = time.perf_counter()
        net_at = _positions(net_ids, batch)
        historical = np.zeros(batch.size)
        historical[net_at >= 0] = net_cents[net_at[net_at >= 0]] / 100
        columns = [
            _spread(has, part.frequency),
            _spread(has, np.rint(part.recency).astype(np.int64)),
            _spread(has, np.rint(part.T).astype(np.int64)),
            _spread(has, np.where(part.frequency > 0, _money(part.monetary), np.nan)),
            *(_spread(has, values) for values in figures),
            historical.tolist(),
            _spread(has, why, NO_PURCHASE_REASON),
        ]
        out = [
            (pk, fit.pk, stored_as_of, *values)
            for pk, *values in zip(batch.tolist(), *columns, strict=True)
        ]
        with transaction.atomic():
            _write(out)
        predict_s += t1 - t0
        write_s += time.perf_counter() - t1
    return predict_s, write_s


def _positions(sorted_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Each wanted id's index in sorted_ids, or -1 when absent."""
    if sorted_ids.size == 0:
        return np.full(wanted.shape, -1, dtype=np.int64)
    at = np.searchsorted(sorted_ids, wanted)
    found = sorted_ids[np.minimum(at, sorted_ids.size - 1)] == wanted
    return np.where(found, at, -1)


def _subset(summary: Summary, rows: np.ndarray) -> Summary:
    return Summary.from_arrays(
        customer_ids=summary.customer_ids[rows],
        frequency=summary.frequency[rows],
        recency=summary.recency[rows],
        T=summary.T[rows],
        monetary=summary.monetary[rows],
    )


def _money(values: np.ndarray) -> np.ndarray:
    return np.round(np.clip(values, -MONEY_CAP, MONEY_CAP), 2)


def _spread(has: np.ndarray, values, missing=None) -> list:
    """A column over the batch: `values` where `has`, else `missing`; NaN becomes None."""
    if values is None:
        return [missing] * has.size
    out = np.full(has.size, missing, dtype=object)
    if isinstance(values, list):
        out[has] = np.array(values, dtype=object) if values else []
    else:
        plain = np.asarray(values)
        out[has] = plain.tolist() if plain.dtype.kind != "f" else _nan_none(plain)
    return out.tolist()


def _nan_none(values: np.ndarray) -> list:
    return [None if v != v else v for v in values.tolist()]  # v != v: NaN


def _write(rows: list[tuple]) -> None:
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(STAGE_SQL)
            cursor.execute(f"TRUNCATE {STAGE}")
            copy_rows(cursor.cursor, STAGE, COLUMNS, rows)
            cursor.execute(UPSERT_FROM_STAGE_SQL)
        else:
            cursor.executemany(UPSERT_SQL, rows)
