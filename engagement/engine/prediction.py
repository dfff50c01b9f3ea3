"""Who will buy again, and what each customer is worth: BG/NBD and Gamma-Gamma, over arrays.

Plain functions over numpy arrays, no database. The time unit is the day. Per customer, as of a
day D (see `summarize_purchases`, and `engagement.engine.prediction_sql.purchase_summary` for
the same summary built by one set-based query):

- frequency x: distinct purchase days - 1 (repeat purchase days);
- recency t_x: days from the first to the last purchase day;
- T: days from the first purchase day to D;
- monetary m: mean total of the repeat purchase days (0.0 where x == 0: no repeat, no mean).

Models:

- BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way: an alternative to
  the Pareto/NBD model", Marketing Science 24(2)): while alive a customer buys at rate
  lambda ~ Gamma(r, alpha); after each purchase day she drops out with probability
  p ~ Beta(a, b). Log-likelihood eq. (6), P(alive) eq. (13), conditional expectation eq. (10).
- Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value curves for customer
  base analysis", Journal of Marketing Research 42(4); Fader and Hardie 2013, "The Gamma-Gamma
  model of monetary value"): a purchase day's value ~ Gamma(p, nu), nu ~ Gamma(q, gamma).

Both are fitted by maximum likelihood with L-BFGS-B over log parameters, with analytic
gradients; the BG/NBD fit runs over the distinct (x, t_x, T) rows with their counts, so a
million customers cost little more than the distinct histories among them.

The one numerically delicate term is the Gauss hypergeometric function of eq. (10); see
`expected_purchases_alive` for how its hard corners are kept finite and accurate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

MIN_CUSTOMERS = 100  # customers with a purchase
MIN_REPEATERS = 20  # customers with a repeat purchase day (x >= 1)
HORIZONS = (90, 365)  # days of expected_purchases_90 / _365
NO_PURCHASE_REASON = "no purchase yet"

# Log-parameter bounds: wide enough for any sane data in days (alpha up to ~3e6 days), narrow
# enough that exp() of them cannot overflow anything downstream.
LOG_BOUNDS = (-15.0, 15.0)
# BG/NBD's a and b may run to the top of the range together (a / (a + b) held): the data
# show no difference between customers in how likely they are to stop after a purchase,
# and the likelihood is highest in the limit where the beta mixing is a single probability.
# At exp(15) that limit is reached to about a millionth: a fit, not a failure.
_OPEN_ABOVE = frozenset({"a", "b"})
# Past this a + b the beta's spread of stopping probabilities is under 1% of their mean for
# any mean above 0.01: the data are heading for that limit.
_SAME_DROPOUT = 1e4
# There, a + b near e^15 costs the log-likelihood some precision: the optimiser can stop
# with a gradient (of the mean log-likelihood per customer) of 1e-5 to 1e-4, a step of 0.01
# in any log-parameter then changing it by 1e-6 at most: far inside the fit's own error.
_SAME_DROPOUT_TOLERANCE = 1e-4


# --- per-customer summary ------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One entry per customer with a purchase on or before D, in customer id order."""

    customer_ids: np.ndarray
    frequency: np.ndarray  # int64, x
    recency: np.ndarray  # float64 days, t_x
    T: np.ndarray  # float64 days
    monetary: np.ndarray  # float64, mean repeat purchase day total; 0.0 where x == 0

    def __len__(self) -> int:
        return len(self.customer_ids)

    @property
    def repeaters(self) -> int:
        return int(np.count_nonzero(self.frequency))

    @classmethod
    def from_arrays(cls, *, customer_ids, frequency, recency, T, monetary) -> Summary:
        return cls(
            customer_ids=np.asarray(customer_ids),
            frequency=np.asarray(frequency, dtype=np.int64),
            recency=np.asarray(recency, dtype=np.float64),
            T=np.asarray(T, dtype=np.float64),
            monetary=np.asarray(monetary, dtype=np.float64),
        )


def to_cents(amount) -> int:
    """An amount as whole cents, rounded half away from zero like SQL's ROUND(amount * 100)."""
    return int((Decimal(str(amount)) * 100).to_integral_value(rounding="ROUND_HALF_UP"))


def summarize_purchases(rows: Iterable[tuple], as_of: dt.date) -> Summary:
    """Summary as of `as_of` from (customer_id, local purchase date, amount) rows.

    One purchase day however many purchases it holds: its total is the sum of their amounts.
    Rows after `as_of` are ignored. Money is summed in whole cents, as the SQL does, so the
    two agree to the last bit.
    """
    days: dict = {}
    for customer_id, day, amount in rows:
        if day > as_of:
            continue
        totals = days.setdefault(customer_id, {})
        totals[day] = totals.get(day, 0) + to_cents(amount)
    ids = sorted(days)
    frequency = np.empty(len(ids), dtype=np.int64)
    recency = np.empty(len(ids))
    age = np.empty(len(ids))
    monetary = np.zeros(len(ids))
    for i, customer_id in enumerate(ids):
        totals = days[customer_id]
        first, last = min(totals), max(totals)
        frequency[i] = len(totals) - 1
        recency[i] = (last - first).days
        age[i] = (as_of - first).days
        if len(totals) > 1:
            monetary[i] = (sum(totals.values()) - totals[first]) / 100 / (len(totals) - 1)
    return Summary.from_arrays(
        customer_ids=np.array(ids), frequency=frequency, recency=recency, T=age, monetary=monetary
    )


# --- BG/NBD --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbd:
    """BG/NBD parameters; alpha is in days."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BgNbdFit(BgNbd):
    log_likelihood: float
    converged: bool
    message: str
    customers: int


def _bg_nbd_arrays(x, t_x, T):
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    if not (x.shape == t_x.shape == T.shape):
        raise ValueError("x, t_x and T must have the same shape")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T):
        raise ValueError("need x >= 0 and 0 <= t_x <= T")
    return x, t_x, T


def _bg_nbd_terms(r, alpha, a, b, x, t_x, T):
    """The log-likelihood's pieces: ll = A1 + A2 + logaddexp(A3, A4), with A4 = -inf at x = 0."""
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    bx1 = np.where(repeat, b + x - 1, 1.0)  # b + x - 1 >= b > 0 where it is used
    a4 = np.where(repeat, np.log(a) - np.log(bx1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1, a2, a3, a4, bx1


def bg_nbd_log_likelihood(params: BgNbd, x, t_x, T) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (FHL 2005 eq. 6), vectorised."""
    x, t_x, T = _bg_nbd_arrays(x, t_x, T)
    a1, a2, a3, a4, _ = _bg_nbd_terms(params.r, params.alpha, params.a, params.b, x, t_x, T)
    return a1 + a2 + np.logaddexp(a3, a4)


def _distinct_rows(*columns) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of equal-length columns, and how many times each occurs."""
    order = np.lexsort(columns[::-1])
    sorted_columns = [c[order] for c in columns]
    new = np.ones(order.size, dtype=bool)  # a sorted row is new when any column changes
    new[1:] = False
    for c in sorted_columns:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, order.size))
    return [c[starts] for c in sorted_columns], counts


@dataclass(frozen=True)
class _Data:
    """Distinct (x, t_x, T) rows with their counts, and each column's distinct values.

    Functions of x alone (gammaln, digamma) and of T or t_x alone (logs) are computed once per
    distinct value and gathered, so an evaluation costs a few vector operations per row.
    """

    x: np.ndarray
    weight: np.ndarray
    total: float
    xs: np.ndarray  # distinct x values, and each row's index into them
    x_index: np.ndarray
    ts: np.ndarray  # distinct values of t_x and T together
    t_x_index: np.ndarray
    T_index: np.ndarray

    @classmethod
    def of(cls, x, t_x, T) -> _Data:
        (x, t_x, T), counts = _distinct_rows(x, t_x, T)
        xs, x_index = np.unique(x, return_inverse=True)
        ts, index = np.unique(np.concatenate([t_x, T]), return_inverse=True)
        return cls(
            x=x,
            weight=counts.astype(np.float64),
            total=float(counts.sum()),
            xs=xs,
            x_index=x_index,
            ts=ts,
            t_x_index=index[: x.size],
            T_index=index[x.size :],
        )


def _bg_nbd_objective(theta, data: _Data):
    """Mean negative log-likelihood over log parameters, and its gradient (eq. 6)."""
    r, alpha, a, b = np.exp(theta)
    xs, ix = data.xs, data.x_index
    repeat = data.x > 0
    # Per distinct x: A1 + A2 of eq. 6 and their derivatives, then log(a / (b + x - 1)).
    bx1 = np.where(xs > 0, b + xs - 1, 1.0)
    psi_abx = digamma(a + b + xs)
    psi_ab = digamma(a + b)
    a12 = (
        gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
        + gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs)
    )  # fmt: skip
    d_r_x = digamma(r + xs) - digamma(r) + np.log(alpha)
    d_a_x = psi_ab - psi_abx
    d_b_x = psi_ab + digamma(b + xs) - digamma(b) - psi_abx
    log_odds_x = np.log(a) - np.log(bx1)
    # Per distinct day count: log(alpha + t) and 1 / (alpha + t).
    log_t = np.log(alpha + data.ts)
    inv_t = 1.0 / (alpha + data.ts)
    rx = r + data.x
    log_T, log_tx = log_t[data.T_index], log_t[data.t_x_index]
    a3 = -rx * log_T
    a4 = np.where(repeat, log_odds_x[ix] - rx * log_tx, -np.inf)
    # logaddexp(a3, a4) and the weight of a4's branch ("dropped out after the last purchase")
    # from one exp: e = exp(-|a4 - a3|) (0 where x = 0, as a4 = -inf there).
    d = a4 - a3
    e = np.exp(-np.abs(d))
    ll = a12[ix] + np.maximum(a3, a4) + np.log1p(e)
    share = np.where(d > 0, 1.0, e) / (1.0 + e)
    keep = 1.0 - share
    w = data.weight
    d_r = d_r_x[ix] - keep * log_T - share * log_tx
    d_alpha = r / alpha - rx * (keep * inv_t[data.T_index] + share * inv_t[data.t_x_index])
    d_a = d_a_x[ix] + share / a
    d_b = d_b_x[ix] - share / bx1[ix]
    grad = np.array([(d_r @ w) * r, (d_alpha @ w) * alpha, (d_a @ w) * a, (d_b @ w) * b])
    return -(ll @ w) / data.total, -grad / data.total


# Above twice this many customers a fit first runs on a fixed random subsample of this size; the
# full data then only refines that start, quasi-Newton with the subsample's curvature, which
# takes a handful of evaluations over every row instead of a dozen or more.
_SUBSAMPLE = 30_000

# At a maximum the mean log-likelihood's gradient (per customer, in log parameters) is ~0; a
# line search that gives up there, in floating-point noise, has still found it.
_GRADIENT_TOLERANCE = 1e-5


def _subsample(n: int) -> np.ndarray:
    return np.random.default_rng(0).choice(n, _SUBSAMPLE, replace=False)


def _fit(objective, start, data, sample, names) -> tuple[np.ndarray, float, bool, str]:
    """Minimise `objective` over `data`, warm-started on `sample` (the same kind, or None)."""
    if sample is None:
        return _minimize(objective, start, data, names)
    theta, _, converged, _ = _minimize(objective, start, sample, names)
    hess_inv = _inverse_hessian(objective, theta, sample) if converged else None
    if hess_inv is not None:
        result = minimize(
            objective,
            theta,
            args=(data,),
            jac=True,
            method="BFGS",
            options={"gtol": 1e-8, "maxiter": 200, "hess_inv0": hess_inv},
        )
        outcome = _outcome(result, names)
        if outcome[2]:
            return outcome
    return _minimize(objective, theta, data, names)


def _inverse_hessian(objective, theta, data) -> np.ndarray | None:
    """The inverse of the objective's Hessian at theta (central differences of its gradient),
    or None when it is not positive definite."""
    step = 1e-4
    columns = []
    for i in range(theta.size):
        shift = np.zeros_like(theta)
        shift[i] = step
        columns.append(
            (objective(theta + shift, data)[1] - objective(theta - shift, data)[1]) / 2 / step
        )
    hessian = np.array(columns)
    hessian = (hessian + hessian.T) / 2
    if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
        return None
    inverse = np.linalg.inv(hessian)
    return (inverse + inverse.T) / 2  # exactly symmetric, as BFGS requires


def _minimize(
    objective, start, data, names, tolerance=_GRADIENT_TOLERANCE
) -> tuple[np.ndarray, float, bool, str]:
    result = minimize(
        objective,
        start,
        args=(data,),
        jac=True,
        method="L-BFGS-B",
        bounds=[LOG_BOUNDS] * len(start),
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    return _outcome(result, names, tolerance)


def _outcome(result, names, tolerance=_GRADIENT_TOLERANCE) -> tuple[np.ndarray, float, bool, str]:
    """(theta, objective, converged, message) of an optimiser's result."""
    theta = result.x
    message = str(result.message).strip()
    finite = bool(np.all(np.isfinite(theta))) and bool(np.isfinite(result.fun))
    flat = bool(np.all(np.abs(result.jac) < tolerance))
    converged = finite and (bool(result.success) or flat)
    if finite and not result.success:
        gradient = f"gradient {np.max(np.abs(result.jac)):.2g}"
        message = f"{gradient} where the optimiser stopped ({message})"
    low, high = LOG_BOUNDS
    at_bound = [
        name
        for name, value in zip(names, theta, strict=True)
        if not low + 1e-6 < value < high - 1e-6
    ]
    limit = [name for name in at_bound if name in _OPEN_ABOVE and theta[names.index(name)] > 0]
    if at_bound and at_bound != limit:
        converged = False
        message = f"{', '.join(at_bound)} at the edge of its range ({message})"
    return theta, float(result.fun), converged, message


def _toward_same_dropout(theta) -> bool:
    """a + b past _SAME_DROPOUT: the beta mixing is all but one stopping probability."""
    return float(np.logaddexp(theta[2], theta[3])) > np.log(_SAME_DROPOUT)


def _same_dropout_theta(limit) -> np.ndarray:
    """(log r, log alpha, logit of a / (a + b)) -> theta with a + b at the range's top."""
    top = LOG_BOUNDS[1]
    log_p, log_q = -np.logaddexp(0.0, -limit[2]), -np.logaddexp(0.0, limit[2])
    return np.array([limit[0], limit[1], log_p + top, log_q + top])


def _same_dropout_objective(limit, data):
    value, grad = _bg_nbd_objective(_same_dropout_theta(limit), data)
    p = expit(limit[2])
    return value, np.array([grad[0], grad[1], grad[2] * (1 - p) - grad[3] * p])


def fit_bg_nbd(x, t_x, T) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit over all customers (x, t_x, T in days)."""
    x, t_x, T = _bg_nbd_arrays(x, t_x, T)
    if x.size == 0:
        raise ValueError("no customers to fit")
    data = _Data.of(x, t_x, T)
    # Start: r = 1, and alpha so that the mean rate r / alpha matches purchase days per day.
    alpha0 = max(float(np.sum(T) + 1.0) / float(np.sum(x) + x.size), 1e-3)
    start = np.log([1.0, alpha0, 1.0, 1.0])
    names = ("r", "alpha", "a", "b")
    sample = None
    if x.size > 2 * _SUBSAMPLE:
        pick = _subsample(x.size)
        sample = _Data.of(x[pick], t_x[pick], T[pick])
    theta, fun, converged, message = _fit(_bg_nbd_objective, start, data, sample, names)
    if not converged and _toward_same_dropout(theta):
        # Stalled on the ridge toward that limit, where the likelihood barely rises: fit the
        # limit itself (a + b at the range's top; r, alpha and a / (a + b) free).
        limit = np.array([theta[0], theta[1], theta[2] - theta[3]])
        limit, fun, converged, message = _minimize(
            _same_dropout_objective,
            limit,
            data,
            ("r", "alpha", "a / (a + b)"),
            tolerance=_SAME_DROPOUT_TOLERANCE,
        )
        theta = _same_dropout_theta(limit)
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    if converged and _toward_same_dropout(theta):
        message = (
            f"every customer stops after a purchase with the same probability, "
            f"{a / (a + b):.3g} (a + b = {a + b:.3g}: the model's limit where customers do "
            f"not differ in that; {message})"
        )
    return BgNbdFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=-fun * x.size,
        converged=converged,
        message=message,
        customers=int(x.size),
    )


def p_alive(params: BgNbd, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) (FHL 2005 eq. 13); 1 where x == 0. Log form: never overflows."""
    x, t_x, T = _bg_nbd_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    bx1 = np.where(repeat, b + x - 1, 1.0)
    log_odds_dead = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def expected_purchases(params: BgNbd, t: float, x, t_x, T) -> np.ndarray:
    """Expected purchase days in (T, T + t] given the history (FHL 2005 eq. 10)."""
    x, t_x, T = _bg_nbd_arrays(x, t_x, T)
    return p_alive(params, x, t_x, T) * expected_purchases_alive(params, t, x, T)


# |a - 1| or |a + b + x - 1| below this: the closed form's 1 / (a - 1), or 2F1's pole at
# c = 0, would cancel catastrophically, so the value is interpolated from points around it.
_NEAR_SINGULAR = 1e-3
_SHIFTS = np.array([-4.0, -2.0, 2.0, 4.0]) * _NEAR_SINGULAR
_SHIFT_WEIGHTS = np.array([-1.0, 4.0, 4.0, -1.0]) / 6  # Lagrange weights at 0 for _SHIFTS
_QUADRATURE_NODES = 64


def expected_purchases_alive(params: BgNbd, t: float, x, T) -> np.ndarray:
    """E[purchase days in (T, T + t] | alive at T, x, T].

    Given alive at T, lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x), and
    E[Y(t) | lambda, p] = (1 - exp(-lambda p t)) / p, so

        E = E_p[(1 - (1 + p u)^-(r + x)) / p],   u = t / (alpha + T),            (I)

    whose closed form is C / (a - 1) * (1 - G), C = a + b + x - 1, with
    G = (1 - z)^(r + x) 2F1(r + x, b + x; C; z), z = t / (alpha + T + t) (eq. 10).

    Numerics, in three steps:

    1. scipy's hyp2f1 fails (NaN, or wrong digits) when its first two parameters grow with x,
       as in eq. 10's form. Euler's transformation gives the same G as
       (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; C; z), whose first two parameters do not grow
       with x and whose c - a - b = x + r + 1 - a keeps it tame as z -> 1; held against
       mpmath over a wide random grid (tests/engagement/engine/test_prediction.py) it agrees
       to ~1e-10.
    2. Within 1e-3 of a = 1 (where 1 / (a - 1) meets 1 - G -> 0) or of C = 0 (2F1's pole,
       met by C / ...): E is smooth there, so it is interpolated (four points, fourth order)
       from the closed form at a (or, for C alone, b) shifted by +-2e-3 and +-4e-3.
    3. Anything still not finite, or outside 0 <= E <= (r + x) u (the bound E[lambda] t),
       is computed from the integral (I) by Gauss-Jacobi quadrature, which has no
       singularity; and the result is clipped to that range. No NaN or inf reaches a caller.
    """
    x = np.asarray(x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    x, T = np.broadcast_arrays(x, T)
    t = float(t)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if t <= 0:
        return np.zeros(x.shape)
    z = t / (alpha + T + t)
    bound = (r + x) * (t / (alpha + T))
    if abs(a - 1) < _NEAR_SINGULAR:
        shifted = zip(_SHIFTS, _SHIFT_WEIGHTS, strict=True)
        result = sum(w * _closed_form(r, a + s, b, x, z) for s, w in shifted)
    else:
        result = _closed_form(r, a, b, x, z)
        near_c = np.abs(a + b + x - 1) < _NEAR_SINGULAR
        if np.any(near_c) and b > 5 * _NEAR_SINGULAR:
            result[near_c] = sum(
                w * _closed_form(r, a, b + s, x[near_c], z[near_c])
                for s, w in zip(_SHIFTS, _SHIFT_WEIGHTS, strict=True)
            )
    bad = ~np.isfinite(result) | (result < -1e-9 * bound) | (result > bound * (1 + 1e-9))
    if np.any(bad):
        result[bad] = _expected_alive_quadrature(r, a, b, x[bad], T[bad], alpha, t)
    return np.clip(np.nan_to_num(result, nan=0.0, posinf=0.0, neginf=0.0), 0.0, bound)


def _closed_form(r, a, b, x, z) -> np.ndarray:
    """C / (a - 1) * (1 - G), G by Euler's transformation (see expected_purchases_alive)."""
    c = a + b + x - 1
    with np.errstate(all="ignore"):
        g = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        return np.asarray(c / (a - 1) * (1 - g), dtype=np.float64)


def _gauss_jacobi(n: int, alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and normalised weights for (1 - y)^alpha (1 + y)^beta on [-1, 1] (Golub-Welsch).

    Computed from the Jacobi matrix's eigenvectors, so the weights never pass through the
    2^(alpha + beta + 1) normalisation that overflows scipy's roots_jacobi for large alpha.
    """
    ab = alpha + beta
    k = np.arange(1, n, dtype=np.float64)
    two = 2 * k + ab
    diag = np.empty(n)
    diag[0] = (beta - alpha) / (ab + 2)
    diag[1:] = (beta**2 - alpha**2) / (two * (two + 2))
    off_sq = 4 * k * (k + alpha) * (k + beta) * (k + ab) / (two**2 * (two + 1) * (two - 1))
    # k = 1 with the (1 + ab) factor cancelled: finite even at ab = -1.
    off_sq[0] = 4 * (1 + alpha) * (1 + beta) / ((2 + ab) ** 2 * (3 + ab))
    nodes, vectors = eigh_tridiagonal(diag, np.sqrt(off_sq))
    weights = vectors[0] ** 2
    return nodes, weights / weights.sum()


def _expected_alive_quadrature(r, a, b, x, T, alpha, t) -> np.ndarray:
    """Integral (I) by Gauss-Jacobi quadrature, one node set per distinct x."""
    out = np.empty(x.shape)
    u = t / (alpha + T)
    for value in np.unique(x):
        rows = x == value
        # (1 - y)^(b + x - 1) (1 + y)^(a - 1) on [-1, 1] is Beta(a, b + x) in p = (1 + y) / 2.
        nodes, weights = _gauss_jacobi(_QUADRATURE_NODES, b + value - 1, a - 1)
        p = (1 + nodes)[None, :] / 2
        h = -np.expm1(-(r + value) * np.log1p(p * u[rows][:, None])) / p
        out[rows] = h @ weights
    return out


# --- Gamma-Gamma ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGamma:
    """Gamma-Gamma parameters (money in the amounts' currency). q > 1: the mean is finite."""

    p: float
    q: float
    gamma: float

    @property
    def mean(self) -> float:
        """The population mean value of a purchase day, p * gamma / (q - 1)."""
        return self.p * self.gamma / (self.q - 1)


@dataclass(frozen=True)
class GammaGammaFit(GammaGamma):
    log_likelihood: float
    converged: bool
    message: str
    customers: int


def _gamma_gamma_arrays(x, m):
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    if x.shape != m.shape:
        raise ValueError("x and m must have the same shape")
    return x, m


def gamma_gamma_log_likelihood(params: GammaGamma, x, m) -> np.ndarray:
    """Each repeat customer's Gamma-Gamma log-likelihood of her mean m over x repeat days."""
    x, m = _gamma_gamma_arrays(x, m)
    p, q, g = params.p, params.q, params.gamma
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


@dataclass(frozen=True)
class _SpendData:
    """Repeat customers' (x, m), with the sums and per-distinct-x counts the likelihood needs.

    Only log(gamma + m x) depends on both the parameters and the row; everything else is a
    function of x (computed once per distinct x) or a constant sum.
    """

    x: np.ndarray
    m: np.ndarray
    xs: np.ndarray  # distinct x
    counts: np.ndarray  # customers per distinct x
    sum_x_log_m: float
    sum_log_m: float
    sum_x_log_x: float

    @classmethod
    def of(cls, x, m) -> _SpendData:
        xs, counts = np.unique(x, return_counts=True)
        log_m = np.log(m)
        return cls(
            x=x,
            m=m,
            xs=xs,
            counts=counts.astype(np.float64),
            sum_x_log_m=float(x @ log_m),
            sum_log_m=float(log_m.sum()),
            sum_x_log_x=float(x @ np.log(x)),
        )


def _gamma_gamma_objective(theta, data: _SpendData):
    """Mean negative log-likelihood over (log p, log(q - 1), log gamma), and its gradient."""
    p, q_1, g = np.exp(theta)
    q = 1 + q_1
    xs, n = data.xs, data.counts
    pxs = p * xs
    log_g = math.log(g)
    ll_x = gammaln(pxs + q) - gammaln(pxs) - gammaln(q) + q * log_g
    psi_x = digamma(pxs + q)
    # The per-row part: log(gamma + m x).
    spend = g + data.m * data.x
    log_spend = np.log(spend)
    pxq = p * data.x + q
    ll = n @ ll_x + p * (data.sum_x_log_m + data.sum_x_log_x) - data.sum_log_m - pxq @ log_spend
    d_p = (
        n @ (xs * (psi_x - digamma(pxs))) + data.sum_x_log_m + data.sum_x_log_x - data.x @ log_spend
    )
    d_q = n @ (psi_x - digamma(q) + log_g) - log_spend.sum()
    d_g = n.sum() * q / g - (pxq / spend).sum()
    total = n.sum()
    grad = np.array([d_p * p, d_q * q_1, d_g * g])
    return -ll / total, -grad / total


def fit_gamma_gamma(x, m) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit over the customers with x >= 1 (others are skipped).

    q is fitted as 1 + exp(theta), so q > 1 and the expected value stays finite.
    """
    x, m = _gamma_gamma_arrays(x, m)
    keep = (x >= 1) & (m > 0)
    x, m = x[keep], m[keep]
    if x.size == 0:
        raise ValueError("no repeat customers to fit")
    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-6)])  # p = 1, q = 2: mean = mean(m)
    names = ("p", "q - 1", "gamma")
    sample = None
    if x.size > 2 * _SUBSAMPLE:
        pick = _subsample(x.size)
        sample = _SpendData.of(x[pick], m[pick])
    theta, fun, converged, message = _fit(
        _gamma_gamma_objective, start, _SpendData.of(x, m), sample, names
    )
    p, q_1, g = (float(v) for v in np.exp(theta))
    return GammaGammaFit(
        p=p,
        q=1 + q_1,
        gamma=g,
        log_likelihood=-fun * x.size,
        converged=converged,
        message=message,
        customers=int(x.size),
    )


def expected_value(params: GammaGamma, x, m) -> np.ndarray:
    """E[value of a purchase day | x, m]: a weighted mean of the population mean and m.

    (gamma + m x) p / (p x + q - 1); for x = 0 it is the population mean p gamma / (q - 1).
    """
    x, m = _gamma_gamma_arrays(x, m)
    m = np.where(x > 0, m, 0.0)
    return (params.gamma + m * x) * params.p / (params.p * x + params.q - 1)


# --- the model and per-customer predictions ------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """A fit as of some D: both models, or why there is none."""

    customers: int
    repeaters: int
    bg_nbd: BgNbdFit | None = None
    gamma_gamma: GammaGammaFit | None = None
    reason: str = ""  # why not fitted or not converged; empty when all is well

    @property
    def fitted(self) -> bool:
        return self.bg_nbd is not None and self.gamma_gamma is not None

    @property
    def converged(self) -> bool:
        return self.fitted and self.bg_nbd.converged and self.gamma_gamma.converged

    @property
    def log_likelihood(self) -> float | None:
        """The BG/NBD log-likelihood (the purchase model's; Gamma-Gamma's is on its own fit)."""
        return None if self.bg_nbd is None else self.bg_nbd.log_likelihood


def not_enough_data(customers: int, repeaters: int) -> str | None:
    """Why the minimum data for a fit is not there, or None when it is."""
    if customers < MIN_CUSTOMERS:
        return f"not fitted: {customers} customers with a purchase, at least {MIN_CUSTOMERS} needed"
    if repeaters < MIN_REPEATERS:
        return (
            f"not fitted: {repeaters} customers with a repeat purchase day, "
            f"at least {MIN_REPEATERS} needed"
        )
    return None


def fit_model(summary: Summary) -> Model:
    """Fit BG/NBD over every customer and Gamma-Gamma over the repeaters, if there is enough data.

    A fit that does not converge is returned with converged False and the reason; the caller
    keeps its previous model in use.
    """
    customers, repeaters = len(summary), summary.repeaters
    short = not_enough_data(customers, repeaters)
    if short:
        return Model(customers=customers, repeaters=repeaters, reason=short)
    bg = fit_bg_nbd(summary.frequency, summary.recency, summary.T)
    gg = fit_gamma_gamma(summary.frequency, summary.monetary)
    problems = [
        f"{name} did not converge: {fit.message}"
        for name, fit in (("BG/NBD", bg), ("Gamma-Gamma", gg))
        if not fit.converged
    ]
    return Model(
        customers=customers,
        repeaters=repeaters,
        bg_nbd=bg,
        gamma_gamma=gg,
        reason="; ".join(problems),
    )


@dataclass(frozen=True)
class Predictions:
    """Per customer, aligned with the Summary it was made from."""

    p_alive: np.ndarray
    expected_purchases_90: np.ndarray
    expected_purchases_365: np.ndarray
    expected_value: np.ndarray
    predicted_clv_365: np.ndarray


def predict(bg: BgNbd, gg: GammaGamma, summary: Summary) -> Predictions:
    """Every customer's prediction with the given parameters (no refit)."""
    x, t_x, T = summary.frequency, summary.recency, summary.T
    alive = p_alive(bg, x, t_x, T)
    e90, e365 = (alive * expected_purchases_alive(bg, t, x, T) for t in HORIZONS)
    value = expected_value(gg, x, summary.monetary)
    return Predictions(
        p_alive=alive,
        expected_purchases_90=e90,
        expected_purchases_365=e365,
        expected_value=value,
        predicted_clv_365=e365 * value,
    )


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def purchase_gap_days(bg: BgNbd, x, t_x) -> np.ndarray:
    """Days between purchase days of "a customer like this" while buying: (alpha + t_x) / (r + x).

    The mean of the rate's posterior (r + x) / (alpha + t_x) over the span in which she was seen
    buying, inverted; with no repeat it is the population's alpha / r.
    """
    return (bg.alpha + np.asarray(t_x, dtype=np.float64)) / (bg.r + np.asarray(x, np.float64))


def reason(p_alive_value: float, x: int, days_since_last: int, gap_days: int) -> str:
    """One line that explains a customer's P(alive) (days are whole days)."""
    last = "today" if days_since_last == 0 else f"{_days(days_since_last)} ago"
    if x == 0:
        return (
            f"p_alive {p_alive_value:.2f}: 1 purchase day, {last} (a drop-out shows only after "
            f"a repeat purchase), while a new customer buys every {_days(gap_days)}"
        )
    return (
        f"p_alive {p_alive_value:.2f}: {x + 1} purchase days, the last {last}, "
        f"while a customer like this buys every {_days(gap_days)}"
    )


def reasons(
    bg: BgNbd, summary: Summary, predictions: Predictions, rows: slice = slice(None)
) -> list[str]:
    """`reason` for the customers of the summary (`rows` of them: a batch at a time keeps a
    million strings out of memory)."""
    x, t_x = summary.frequency[rows], summary.recency[rows]
    since = np.rint(summary.T[rows] - t_x).astype(np.int64)
    gaps = np.rint(np.minimum(purchase_gap_days(bg, x, t_x), 1e12)).astype(np.int64)
    columns = (predictions.p_alive[rows], x, since, gaps)
    # Plain Python numbers (tolist) format several times faster than numpy scalars.
    return [reason(*row) for row in zip(*(c.tolist() for c in columns), strict=True)]
