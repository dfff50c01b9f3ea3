"""Holdout check of the purchase model: predicted against actual purchase days, by frequency.

Fit on the calibration period (up to D), predict the purchase days of (D, D + N] for every
calibration customer, and compare with what they did, grouped by their calibration frequency
0, 1, ..., 6, 7+ (as Fader, Hardie and Lee 2005, figure 4, do for CDNOW). Plain functions over
`Summary` arrays; `validate_predictions` (the management command) prints the table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engagement.engine.prediction import Model, Summary, expected_purchases, fit_model

TOP_GROUP = 7  # frequencies of 7 and more form one group, "7+"


@dataclass(frozen=True)
class HoldoutRow:
    group: str  # "0".."6", "7+", or "all"
    customers: int
    predicted: float  # mean expected purchase days in the holdout
    actual: float  # mean purchase days in the holdout


@dataclass(frozen=True)
class Validation:
    calibration_end: dt.date
    holdout_days: int
    model: Model
    rows: list[HoldoutRow]


def holdout_purchase_days(calibration: Summary, later: Summary) -> np.ndarray:
    """Purchase days in (D, D + N] of each calibration customer, from the summaries as of D and
    D + N: the growth of her frequency (every calibration customer is in the later summary)."""
    at = np.searchsorted(later.customer_ids, calibration.customer_ids)
    if np.any(later.customer_ids[at] != calibration.customer_ids):
        raise ValueError("the later summary lacks customers of the calibration summary")
    return later.frequency[at] - calibration.frequency


def holdout_table(
    model: Model, calibration: Summary, actual, holdout_days: int
) -> list[HoldoutRow]:
    """Mean predicted against mean actual holdout purchase days per calibration frequency."""
    x = calibration.frequency
    predicted = expected_purchases(
        model.bg_nbd, holdout_days, x, calibration.recency, calibration.T
    )
    actual = np.asarray(actual, dtype=np.float64)
    groups = np.minimum(x, TOP_GROUP)
    rows = []
    for group in range(TOP_GROUP + 1):
        members = groups == group
        if not np.any(members):
            continue
        rows.append(
            HoldoutRow(
                group=f"{group}+" if group == TOP_GROUP else str(group),
                customers=int(members.sum()),
                predicted=float(predicted[members].mean()),
                actual=float(actual[members].mean()),
            )
        )
    rows.append(HoldoutRow("all", len(x), float(predicted.mean()), float(actual.mean())))
    return rows


def validate(calibration: Summary, later: Summary, calibration_end, holdout_days) -> Validation:
    """Fit on `calibration` (as of D) and hold it against `later` (as of D + holdout_days)."""
    model = fit_model(calibration)
    rows = []
    if model.fitted:
        actual = holdout_purchase_days(calibration, later)
        rows = holdout_table(model, calibration, actual, holdout_days)
    return Validation(calibration_end, holdout_days, model, rows)


def read_cdnow(path: str | Path) -> list[tuple[int, dt.date, str]]:
    """(customer id, date, amount) rows of a CDNOW-format file: whitespace-separated customer
    id, sample id, YYYYMMDD, quantity, amount; no header. Blank lines are skipped."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                rows.append((int(fields[0]), dt.date.fromisoformat(fields[2]), fields[4]))
            except (IndexError, ValueError) as error:
                raise ValueError(f"line {number}: not a CDNOW row ({error})") from error
    return rows


def format_validation(validation: Validation) -> str:
    """The table as text, with the fit above it."""
    model = validation.model
    end = validation.calibration_end
    lines = [
        f"calibration up to {end.isoformat()}, holdout {validation.holdout_days} days "
        f"({(end + dt.timedelta(days=1)).isoformat()}.."
        f"{(end + dt.timedelta(days=validation.holdout_days)).isoformat()})",
        f"customers {model.customers}, repeaters {model.repeaters}",
    ]
    if not model.fitted:
        return "\n".join([*lines, model.reason])
    bg = model.bg_nbd
    lines.append(
        f"BG/NBD r={bg.r:.4f} alpha={bg.alpha:.4f} days a={bg.a:.4f} b={bg.b:.4f} "
        f"log-likelihood={bg.log_likelihood:.2f} converged={bg.converged}"
    )
    gg = model.gamma_gamma
    lines.append(
        f"Gamma-Gamma p={gg.p:.4f} q={gg.q:.4f} gamma={gg.gamma:.4f} "
        f"(over {gg.customers} repeaters) converged={gg.converged}"
    )
    if model.reason:
        lines.append(model.reason)
    lines.append(f"{'x':>4} {'customers':>10} {'predicted':>10} {'actual':>10}")
    lines += [
        f"{row.group:>4} {row.customers:>10} {row.predicted:>10.3f} {row.actual:>10.3f}"
        for row in validation.rows
    ]
    return "\n".join(lines)
