"""The statistics behind "does a playbook work?": arm draws, intervals and uplifts.

Plain functions over plain numbers, no database: the outcome measurement aggregates
per arm in SQL (counts, means, sample variances) and hands the figures here.

- `draw_arm`: the deterministic treatment/control draw for a held-out alert or a
  campaign member (same key, customer and day: same arm).
- `wilson_interval`: score interval for one proportion (Wilson 1927).
- `newcombe_interval`: hybrid score interval for a difference of two proportions
  (Newcombe 1998, "Interval estimation for the difference between independent
  proportions", method 10), built from the two Wilson intervals.
- `welch_interval` / `welch_interval_from_stats`: interval for a difference of two means
  with unequal variances (Welch-Satterthwaite degrees of freedom, Student t quantile).
- `rate_uplift` / `mean_uplift` / `mean_uplift_from_values`: treatment minus control
  with its interval as `{"value", "low", "high"}`, or None ("not enough data") when
  either arm has fewer than MIN_ARM_SIZE units.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import special

TREATMENT = "treatment"
CONTROL = "control"
Arm = Literal["treatment", "control"]

# Below this many matured units in either arm an uplift is "not enough data".
MIN_ARM_SIZE = 30
DEFAULT_CONFIDENCE = 0.95

# Part of the hashed string: changing the draw (hash, layout) means a new version, so
# arms stored under the old one are never silently reinterpreted.
_DRAW_VERSION = "arm-v1"
_HASH_SPACE = 2**64


def draw_arm(
    *, rule_or_campaign_key: str, customer_id: int, day: date, holdout_percent: int
) -> Arm:
    """The arm of one customer for one alert rule or campaign on one day.

    `rule_or_campaign_key` names the draw's owner, e.g. "rule:12" or "campaign:3", so
    two rules firing for the same customer on the same day draw independently.
    The draw hashes a stable string (no process-dependent `hash()`, no RNG state), so a
    re-run, another worker or another year gives the same arm. A customer is in
    `control` with probability `holdout_percent` / 100; 0 means always `treatment`.
    """
    if isinstance(holdout_percent, bool) or not isinstance(holdout_percent, int):
        raise TypeError("holdout_percent must be an int")
    if not 0 <= holdout_percent <= 100:
        raise ValueError("holdout_percent must be between 0 and 100")
    if holdout_percent == 0:
        return TREATMENT
    material = f"{_DRAW_VERSION}|{rule_or_campaign_key}|{int(customer_id)}|{day.isoformat()}"
    digest = hashlib.blake2b(material.encode(), digest_size=8).digest()
    # Uniform integer u in [0, 2**64); control iff u / 2**64 * 100 < holdout_percent,
    # compared in integers so no float rounding moves a customer across the line.
    u = int.from_bytes(digest, "big")
    return CONTROL if u * 100 < holdout_percent * _HASH_SPACE else TREATMENT


@lru_cache(maxsize=8)
def _z(confidence: float) -> float:
    _check_confidence(confidence)
    return float(special.ndtri(0.5 + confidence / 2))


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")


def _check_count(successes: int, n: int) -> None:
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")


def wilson_interval(
    successes: int, n: int, *, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval (without continuity correction) for successes / n.

    At 0 successes the lower bound is exactly 0, at n the upper bound exactly 1.
    """
    _check_count(successes, n)
    z = _z(confidence)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # The formula lands on 0 and 1 only up to rounding; the edges are exact.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def newcombe_interval(
    successes_1: int,
    n_1: int,
    successes_2: int,
    n_2: int,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (Newcombe 1998, method 10).

    With (l_i, u_i) the Wilson interval of p_i and d = p1 - p2:
    low = d - sqrt((p1 - l1)^2 + (u2 - p2)^2), high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
    Well defined at 0 and n successes (the Wilson bounds are), always inside [-1, 1].
    """
    _check_count(successes_1, n_1)
    _check_count(successes_2, n_2)
    p1, p2 = successes_1 / n_1, successes_2 / n_2
    l1, u1 = wilson_interval(successes_1, n_1, confidence=confidence)
    l2, u2 = wilson_interval(successes_2, n_2, confidence=confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def welch_interval_from_stats(
    *,
    n_1: int,
    mean_1: float,
    variance_1: float,
    n_2: int,
    mean_2: float,
    variance_2: float,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float]:
    """Welch's interval for mean_1 - mean_2; variances are sample variances (n - 1).

    Degrees of freedom by Welch-Satterthwaite, quantile from Student's t. When one arm
    has no spread the other arm's n - 1 degrees of freedom remain (the formula's
    limit); when neither has, the difference is known exactly and the interval is that
    single point.
    """
    _check_confidence(confidence)
    if n_1 < 2 or n_2 < 2:
        raise ValueError("each arm needs at least 2 values")
    # float(): SQL aggregates of money arrive as Decimal.
    mean_1, variance_1 = float(mean_1), float(variance_1)
    mean_2, variance_2 = float(mean_2), float(variance_2)
    values = (mean_1, variance_1, mean_2, variance_2)
    if not all(math.isfinite(v) for v in values):
        raise ValueError("means and variances must be finite")
    if variance_1 < 0 or variance_2 < 0:
        raise ValueError("variances must not be negative")
    a, b = variance_1 / n_1, variance_2 / n_2
    d = mean_1 - mean_2
    se2 = a + b
    if se2 == 0:
        return d, d
    df = se2 * se2 / (a * a / (n_1 - 1) + b * b / (n_2 - 1))
    # stdtrit is Student t's quantile (what stats.t.ppf computes), without the
    # distribution-object overhead that dominates when many groups are measured.
    half = float(special.stdtrit(df, 0.5 + confidence / 2)) * math.sqrt(se2)
    return d - half, d + half


def _summary(values: Sequence[float]) -> tuple[int, float, float]:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError("values must be a flat sequence")
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite")
    n = int(array.size)
    if n < 2:
        raise ValueError("each arm needs at least 2 values")
    return n, float(array.mean()), float(array.var(ddof=1))


def welch_interval(
    values_1: Sequence[float],
    values_2: Sequence[float],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float]:
    """Welch's interval for mean(values_1) - mean(values_2)."""
    n_1, mean_1, variance_1 = _summary(values_1)
    n_2, mean_2, variance_2 = _summary(values_2)
    return welch_interval_from_stats(
        n_1=n_1,
        mean_1=mean_1,
        variance_1=variance_1,
        n_2=n_2,
        mean_2=mean_2,
        variance_2=variance_2,
        confidence=confidence,
    )


def _uplift(value: float, interval: tuple[float, float]) -> dict[str, float]:
    return {"value": value, "low": interval[0], "high": interval[1]}


def _enough(treatment_n: int, control_n: int) -> bool:
    return treatment_n >= MIN_ARM_SIZE and control_n >= MIN_ARM_SIZE


def rate_uplift(
    *,
    treatment_successes: int,
    treatment_n: int,
    control_successes: int,
    control_n: int,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, float] | None:
    """Treatment rate minus control rate with Newcombe's interval, or None if too few."""
    if not _enough(treatment_n, control_n):
        return None
    value = treatment_successes / treatment_n - control_successes / control_n
    interval = newcombe_interval(
        treatment_successes, treatment_n, control_successes, control_n, confidence=confidence
    )
    return _uplift(value, interval)


def mean_uplift(
    *,
    treatment_n: int,
    treatment_mean: float,
    treatment_variance: float,
    control_n: int,
    control_mean: float,
    control_variance: float,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, float] | None:
    """Treatment mean minus control mean with Welch's interval, or None if too few.

    Takes per-arm aggregates (n, mean, sample variance), as SQL's AVG and VAR_SAMP give.
    """
    if not _enough(treatment_n, control_n):
        return None
    interval = welch_interval_from_stats(
        n_1=treatment_n,
        mean_1=treatment_mean,
        variance_1=treatment_variance,
        n_2=control_n,
        mean_2=control_mean,
        variance_2=control_variance,
        confidence=confidence,
    )
    return _uplift(float(treatment_mean) - float(control_mean), interval)


def mean_uplift_from_values(
    treatment_values: Sequence[float],
    control_values: Sequence[float],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, float] | None:
    """`mean_uplift` from the raw per-unit values of each arm."""
    if not _enough(len(treatment_values), len(control_values)):
        return None
    n_t, mean_t, var_t = _summary(treatment_values)
    n_c, mean_c, var_c = _summary(control_values)
    return mean_uplift(
        treatment_n=n_t,
        treatment_mean=mean_t,
        treatment_variance=var_t,
        control_n=n_c,
        control_mean=mean_c,
        control_variance=var_c,
        confidence=confidence,
    )
