"""BG/NBD and Gamma-Gamma (engagement.engine.prediction): plain functions, no database.

The closed forms are held against mpmath (50 digits, its own hypergeometric function) over a
wide grid and at the numerically hard corners; the fits against data simulated from known
parameters; the CDNOW reproduction is in test_prediction_cdnow.py.
"""

import datetime as dt
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from scipy.optimize import approx_fprime

from engagement.engine import prediction as P
from engagement.engine.prediction import BgNbd, GammaGamma, Summary

mp.mp.dps = 50
DATA = Path(__file__).parents[2] / "data"
D = dt.date(2025, 6, 30)


def simulate_bg_nbd(n, r=0.25, alpha=30.0, a=0.8, b=2.5, seed=0, max_T=900):
    """Customers drawn from the BG/NBD story, in days (numpy only)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.integers(0, max_T + 1, n).astype(float)
    x = np.zeros(n, np.int64)
    t_x = np.zeros(n)
    now = np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1 / lam[active])
        active = active[now[active] <= T[active]]
        x[active] += 1
        t_x[active] = now[active]
        active = active[rng.random(active.size) >= p[active]]
    return x, t_x, T


# --- summary -------------------------------------------------------------------------------------


def test_summary_counts_purchase_days_and_means_the_repeat_days():
    rows = [
        (7, dt.date(2025, 1, 1), "10.00"),
        (7, dt.date(2025, 1, 1), "5.00"),  # same day: one purchase day of 15.00
        (7, dt.date(2025, 3, 1), "20.00"),
        (7, dt.date(2025, 3, 1), "0.10"),
        (7, dt.date(2025, 5, 1), "40.00"),
        (7, dt.date(2025, 7, 1), "99.00"),  # after D: ignored
        (3, dt.date(2025, 6, 30), "12.34"),  # one purchase, on D
    ]
    s = P.summarize_purchases(rows, D)
    assert s.customer_ids.tolist() == [3, 7]
    assert s.frequency.tolist() == [0, 2]
    assert s.recency.tolist() == [0, (dt.date(2025, 5, 1) - dt.date(2025, 1, 1)).days]
    assert s.T.tolist() == [0, (D - dt.date(2025, 1, 1)).days]
    assert s.monetary.tolist() == [0.0, (20.10 + 40.00) / 2]
    assert s.repeaters == 1


# --- BG/NBD likelihood and fit -------------------------------------------------------------------


def bg_nbd_likelihood_mp(r, alpha, a, b, x, t_x, T):
    """FHL 2005 eq. 6, not in logs, with mpmath."""
    r, alpha, a, b, t_x, T = map(mp.mpf, (r, alpha, a, b, t_x, T))
    common = mp.gamma(r + x) * alpha**r / mp.gamma(r)
    first = mp.beta(a, b + x) / mp.beta(a, b) * common / (alpha + T) ** (r + x)
    if x == 0:
        return first
    return first + mp.beta(a + 1, b + x - 1) / mp.beta(a, b) * common / (alpha + t_x) ** (r + x)


def test_log_likelihood_is_eq_6():
    params = BgNbd(r=0.3, alpha=25.0, a=0.9, b=3.1)
    x = np.array([0, 1, 4, 40, 300])
    t_x = np.array([0.0, 10.0, 200.0, 700.0, 800.0])
    T = np.array([5.0, 300.0, 201.0, 900.0, 800.0])
    ll = P.bg_nbd_log_likelihood(params, x, t_x, T)
    expected = [
        float(mp.log(bg_nbd_likelihood_mp(0.3, 25.0, 0.9, 3.1, *row)))
        for row in zip(x, t_x, T, strict=True)
    ]
    np.testing.assert_allclose(ll, expected, rtol=1e-12)


def test_objective_gradient_matches_finite_differences():
    x, t_x, T = simulate_bg_nbd(500, seed=4)
    data = P._Data.of(x.astype(float), t_x, T)
    for theta in (np.log([0.3, 25.0, 0.9, 3.1]), np.log([2.0, 3.0, 0.1, 20.0])):
        _, grad = P._bg_nbd_objective(theta, data)
        numeric = approx_fprime(theta, lambda th: P._bg_nbd_objective(th, data)[0], 1e-7)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


def test_fit_recovers_the_parameters_that_made_the_data():
    x, t_x, T = simulate_bg_nbd(30_000, r=0.4, alpha=20.0, a=0.7, b=2.0, seed=1)
    fit = P.fit_bg_nbd(x, t_x, T)
    assert fit.converged, fit.message
    assert fit.customers == 30_000
    for fitted, true in ((fit.r, 0.4), (fit.alpha, 20.0), (fit.a, 0.7), (fit.b, 2.0)):
        assert fitted == pytest.approx(true, rel=0.15)
    ll = P.bg_nbd_log_likelihood(fit, x, t_x, T).sum()
    assert fit.log_likelihood == pytest.approx(ll, rel=1e-10)
    # It is a maximum: nudging any parameter lowers the likelihood.
    for field in ("r", "alpha", "a", "b"):
        nudged = BgNbd(
            **{k: getattr(fit, k) * (1.02 if k == field else 1) for k in ["r", "alpha", "a", "b"]}
        )
        assert P.bg_nbd_log_likelihood(nudged, x, t_x, T).sum() < ll


def test_large_fit_warm_starts_on_a_subsample_and_still_finds_the_maximum(monkeypatch):
    x, t_x, T = simulate_bg_nbd(20_000, seed=2)
    full = P.fit_bg_nbd(x, t_x, T)
    monkeypatch.setattr(P, "_SUBSAMPLE", 5_000)
    warm = P.fit_bg_nbd(x, t_x, T)
    assert warm.converged
    for field in ("r", "alpha", "a", "b"):
        assert getattr(warm, field) == pytest.approx(getattr(full, field), rel=1e-4)


def test_fit_without_any_repeat_reports_no_convergence_with_finite_parameters():
    T = np.arange(200, dtype=float)
    fit = P.fit_bg_nbd(np.zeros(200), np.zeros(200), T)
    assert not fit.converged
    assert "edge of its range" in fit.message
    assert all(np.isfinite([fit.r, fit.alpha, fit.a, fit.b]))


def _same_dropout_fit(name):
    """(fit, x, t_x, T) of a saved summary (tests/data/README.md), fitted and converged on
    the limit where every customer stops with the same probability."""
    x, t_x, T = np.loadtxt(DATA / name, delimiter=",", skiprows=1).T
    fit = P.fit_bg_nbd(x, t_x, T)
    assert fit.converged
    assert "same probability" in fit.message
    return fit, x, t_x, T


def test_fit_where_customers_do_not_differ_in_dropping_out_is_that_limit():
    # A demo base's steady buyers: the likelihood grows as a and b grow together (a / (a + b)
    # held), up to the top of the range: one stopping probability for everyone, a fit.
    fit, x, t_x, T = _same_dropout_fit("bg_nbd_same_dropout.csv")
    assert max(fit.a, fit.b) > 1e6
    stop = fit.a / (fit.a + fit.b)
    assert 0.01 < stop < 0.2
    # The limit beats the same stopping probability spread over customers (smaller a and b).
    spread = P.BgNbd(r=fit.r, alpha=fit.alpha, a=stop * 50, b=(1 - stop) * 50)
    assert P.bg_nbd_log_likelihood(fit, x, t_x, T).sum() > (
        P.bg_nbd_log_likelihood(spread, x, t_x, T).sum()
    )
    alive = P.p_alive(fit, x, t_x, T)
    later = P.expected_purchases(fit, 365, x, t_x, T)
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(later) & (later >= 0))


def test_fit_that_stalls_on_the_way_to_that_limit_fits_the_limit():
    fit, x, t_x, T = _same_dropout_fit("bg_nbd_same_dropout_stall.csv")
    stop = fit.a / (fit.a + fit.b)
    # Nothing near it does better: neither another stopping probability nor another r.
    for other in (
        P.BgNbd(r=fit.r, alpha=fit.alpha, a=fit.a * 1.05, b=fit.b),
        P.BgNbd(r=fit.r, alpha=fit.alpha, a=fit.a * 0.95, b=fit.b),
        P.BgNbd(r=fit.r * 1.02, alpha=fit.alpha, a=fit.a, b=fit.b),
        P.BgNbd(r=fit.r, alpha=fit.alpha, a=stop * 100, b=(1 - stop) * 100),
    ):
        assert P.bg_nbd_log_likelihood(other, x, t_x, T).sum() < fit.log_likelihood


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="t_x <= T"):
        P.fit_bg_nbd([1], [10.0], [5.0])
    with pytest.raises(ValueError, match="same shape"):
        P.p_alive(BgNbd(1, 1, 1, 1), [1, 2], [1.0], [2.0])


# --- P(alive) ------------------------------------------------------------------------------------


def test_p_alive_is_eq_13_and_one_without_a_repeat():
    params = BgNbd(r=0.243, alpha=30.9, a=0.793, b=2.426)
    x, t_x, T = (
        np.array([0, 2, 2, 2]),
        np.array([0.0, 100.0, 100.0, 100.0]),
        np.array([50.0, 100.0, 200.0, 400.0]),
    )
    alive = P.p_alive(params, x, t_x, T)
    assert alive[0] == 1.0
    assert alive[1] > alive[2] > alive[3]  # the longer the silence, the likelier gone
    by_hand = 1 / (1 + 0.793 / (2.426 + 2 - 1) * ((30.9 + 200) / (30.9 + 100)) ** (0.243 + 2))
    assert alive[2] == pytest.approx(by_hand, rel=1e-12)


def test_p_alive_stays_a_probability_at_extremes():
    params = BgNbd(r=5.0, alpha=0.01, a=0.01, b=0.01)
    x = np.array([1, 5000, 5000, 1])
    t_x = np.array([0.0, 0.0, 1e6, 1e6])
    T = np.array([1e6, 1e6, 1e6, 1e6])
    alive = P.p_alive(params, x, t_x, T)
    assert np.all(np.isfinite(alive))
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[1] == 0.0  # 5,000 purchases and then a million silent days
    assert alive[2] == pytest.approx(1 / (1 + 0.01 / (0.01 + 5000 - 1)))


# --- expected purchases: the hypergeometric term -------------------------------------------------


def expected_alive_mp(r, alpha, a, b, x, T, t):
    """C / (a - 1) (1 - G), G from eq. 10's own 2F1, at 60 digits; a = 1 and C = 0 as limits."""
    with mp.workdps(60):
        r, alpha, a, b, x, T, t = map(mp.mpf, (r, alpha, a, b, x, T, t))
        if a == 1:
            a += mp.mpf(10) ** -30
        if a + b + x - 1 == 0:
            b += mp.mpf(10) ** -30
        c = a + b + x - 1
        z = t / (alpha + T + t)
        g = ((alpha + T) / (alpha + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, c, z)
        return c / (a - 1) * (1 - g)


def grid():
    rng = np.random.default_rng(3)
    for _ in range(150):
        r, alpha = 10 ** rng.uniform(-2, 1.5), 10 ** rng.uniform(-3, 3)
        a, b = 10 ** rng.uniform(-2, 1.3), 10 ** rng.uniform(-2, 1.5)
        x = int(10 ** rng.uniform(0, 3.3)) if rng.random() < 0.8 else 0
        yield r, alpha, a, b, x, float(rng.integers(0, 3000)), float(rng.choice([1, 90, 365, 3650]))


CORNERS = [
    # (r, alpha, a, b, x, T, t)
    (0.243, 30.9, 0.793, 2.426, 2, 200.0, 365.0),  # CDNOW-like
    (1.6, 5.0, 0.0128, 6.7, 1048, 99.0, 365.0),  # large x: eq. 10's 2F1 is NaN in scipy
    (0.06, 0.004, 0.013, 2.9, 917, 965.0, 3650.0),  # large x, z near 1
    (11.7, 0.0065, 0.99999, 0.2, 1325, 2237.0, 3650.0),  # a within 1e-5 of 1, large x
    (0.75, 418.0, 1.001, 0.28, 830, 2780.0, 1e6),  # a near 1, horizon far beyond alpha + T
    (0.07, 0.0034, 1.0, 0.88, 225, 1721.0, 1e6),  # a exactly 1
    (1.3, 24.3, 1.0, 0.16, 0, 580.0, 1e6),  # a exactly 1, no repeat
    (0.3, 10.0, 0.4, 0.6, 0, 50.0, 365.0),  # c = a + b - 1 exactly 0 (2F1's pole)
    (0.3, 10.0, 0.4, 0.6000004, 0, 50.0, 365.0),  # c within 1e-6 of 0
    (0.5, 1e-3, 0.5, 5.0, 0, 0.0, 1e6),  # T = 0, alpha tiny: z = 1 - 1e-9
    (30.0, 1.0, 5.0, 0.01, 3000, 3000.0, 365.0),  # large r and x, small b
]


@pytest.mark.parametrize("case", [*CORNERS, *grid()])
def test_expected_purchases_alive_matches_mpmath(case):
    r, alpha, a, b, x, T, t = case
    got = P.expected_purchases_alive(BgNbd(r, alpha, a, b), t, np.array([x]), np.array([T]))
    assert np.all(np.isfinite(got))
    assert float(got[0]) == pytest.approx(float(expected_alive_mp(*case)), rel=1e-7)


def test_expected_purchases_are_finite_bounded_and_grow_with_the_horizon():
    params = BgNbd(r=0.243, alpha=30.9, a=0.793, b=2.426)
    x = np.array([0, 1, 5, 50, 500])
    t_x = np.array([0.0, 30.0, 100.0, 300.0, 310.0])
    T = np.array([10.0, 300.0, 300.0, 320.0, 310.0])
    previous = np.zeros(5)
    for t in (0, 1, 30, 90, 365, 3650):
        e = P.expected_purchases(params, t, x, t_x, T)
        assert np.all(np.isfinite(e))
        assert np.all(e >= previous)
        previous = e
    assert P.expected_purchases(params, 0, x, t_x, T).tolist() == [0.0] * 5


def test_quadrature_fallback_agrees_with_the_closed_form():
    for r, alpha, a, b, x, T, t in [
        (0.243, 30.9, 0.793, 2.426, 2, 200.0, 365.0),
        (2.0, 10.0, 3.0, 1.5, 40, 500.0, 90.0),
        (0.5, 100.0, 0.3, 0.5, 0, 10.0, 365.0),
    ]:
        got = P._expected_alive_quadrature(r, a, b, np.array([float(x)]), np.array([T]), alpha, t)
        assert float(got[0]) == pytest.approx(
            float(expected_alive_mp(r, alpha, a, b, x, T, t)), rel=1e-5
        )


def test_a_broken_closed_form_falls_back_to_quadrature(monkeypatch):
    params = BgNbd(r=0.243, alpha=30.9, a=0.793, b=2.426)
    monkeypatch.setattr(P, "hyp2f1", lambda *args: np.full(np.broadcast(*args).shape, np.nan))
    got = P.expected_purchases_alive(params, 365, np.array([2]), np.array([200.0]))
    assert float(got[0]) == pytest.approx(
        float(expected_alive_mp(0.243, 30.9, 0.793, 2.426, 2, 200.0, 365.0)), rel=1e-5
    )


# --- Gamma-Gamma ---------------------------------------------------------------------------------


def test_gamma_gamma_log_likelihood_by_hand():
    params = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    x, m = np.array([1, 3, 20]), np.array([20.0, 35.5, 100.0])
    ll = P.gamma_gamma_log_likelihood(params, x, m)
    for value, xi, mi in zip(ll, x, m, strict=True):
        p, q, g, xi, mi = map(mp.mpf, (6.25, 3.74, 15.44, int(xi), mi))
        by_hand = (
            mp.gamma(p * xi + q) / (mp.gamma(p * xi) * mp.gamma(q))
            * g**q * mi ** (p * xi - 1) * xi ** (p * xi) / (g + mi * xi) ** (p * xi + q)
        )  # fmt: skip
        assert value == pytest.approx(float(mp.log(by_hand)), rel=1e-12)


def test_gamma_gamma_fit_recovers_the_parameters_and_skips_non_repeaters():
    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.integers(1, 12, n)
    nu = rng.gamma(3.0, 1 / 20.0, n)  # q = 3, gamma = 20
    m = rng.gamma(5.0 * x, 1 / nu) / x  # p = 5: the mean of x purchase days
    x = np.concatenate([x, np.zeros(500, np.int64)])
    m = np.concatenate([m, np.zeros(500)])
    fit = P.fit_gamma_gamma(x, m)
    assert fit.converged, fit.message
    assert fit.customers == n
    assert (fit.p, fit.q, fit.gamma) == pytest.approx((5.0, 3.0, 20.0), rel=0.1)


def test_expected_value_shrinks_the_own_mean_towards_the_population():
    params = GammaGamma(p=6.25, q=3.74, gamma=15.44)
    value = P.expected_value(
        params, np.array([0, 1, 10, 10_000]), np.array([0.0, 100.0, 100.0, 100.0])
    )
    assert value[0] == pytest.approx(params.mean) == pytest.approx(6.25 * 15.44 / 2.74)
    assert params.mean < value[1] < value[2] < value[3] < 100.0
    assert value[3] == pytest.approx(100.0, rel=1e-3)


# --- the model, predictions and reasons ----------------------------------------------------------


def summary_of(x, t_x, T, m=None):
    n = len(x)
    m = np.where(np.asarray(x) > 0, 30.0, 0.0) if m is None else m
    return Summary.from_arrays(customer_ids=np.arange(n), frequency=x, recency=t_x, T=T, monetary=m)


def test_minimum_data_rule():
    x, t_x, T = simulate_bg_nbd(99, seed=6)
    model = P.fit_model(summary_of(x, t_x, T))
    assert not model.fitted
    assert model.reason == "not fitted: 99 customers with a purchase, at least 100 needed"

    x = np.zeros(150, np.int64)
    x[:19] = 1
    model = P.fit_model(summary_of(x, np.where(x > 0, 10.0, 0.0), np.full(150, 100.0)))
    assert not model.fitted
    assert model.reason == "not fitted: 19 customers with a repeat purchase day, at least 20 needed"
    assert model.log_likelihood is None


def test_fit_model_and_predict():
    x, t_x, T = simulate_bg_nbd(3_000, seed=7)
    m = np.where(x > 0, np.random.default_rng(8).gamma(4.0, 10.0, x.size), 0.0)
    summary = summary_of(x, t_x, T, m)
    model = P.fit_model(summary)
    assert model.converged
    assert model.reason == ""
    assert (model.customers, model.repeaters) == (3_000, int((x > 0).sum()))
    pred = P.predict(model.bg_nbd, model.gamma_gamma, summary)
    for field in (
        "p_alive",
        "expected_purchases_90",
        "expected_purchases_365",
        "expected_value",
        "predicted_clv_365",
    ):
        assert np.all(np.isfinite(getattr(pred, field))), field
    assert np.all(pred.expected_purchases_365 >= pred.expected_purchases_90)
    np.testing.assert_allclose(
        pred.predicted_clv_365, pred.expected_purchases_365 * pred.expected_value
    )
    np.testing.assert_allclose(
        pred.expected_purchases_90, P.expected_purchases(model.bg_nbd, 90, x, t_x, T)
    )
    assert np.all(pred.expected_value[x == 0] == pytest.approx(model.gamma_gamma.mean))


def test_reasons():
    params = BgNbd(r=0.243, alpha=30.9, a=0.793, b=2.426)
    summary = summary_of(
        np.array([1, 0, 9]), np.array([40.0, 0.0, 100.0]), np.array([300.0, 1.0, 100.0])
    )
    pred = P.Predictions(*(np.array([0.2149, 1.0, 0.97]),) * 5)
    lines = P.reasons(params, summary, pred)
    assert lines == [
        "p_alive 0.21: 2 purchase days, the last 260 days ago, "
        "while a customer like this buys every 57 days",  # (30.9 + 40) / 1.243
        "p_alive 1.00: 1 purchase day, 1 day ago (a drop-out shows only after a repeat purchase), "
        "while a new customer buys every 127 days",  # 30.9 / 0.243
        "p_alive 0.97: 10 purchase days, the last today, "
        "while a customer like this buys every 14 days",  # 130.9 / 9.243
    ]
    assert P.reasons(params, summary, pred, rows=slice(1, 2)) == lines[1:2]


@pytest.mark.parametrize(("gradient", "converged"), [(1e-7, True), (1e-2, False)])
def test_a_stopped_optimiser_has_converged_only_where_the_gradient_is_flat(
    monkeypatch, gradient, converged
):
    from scipy.optimize import OptimizeResult

    stopped = OptimizeResult(
        x=np.log([0.3, 25.0, 0.9, 3.1]),
        fun=4.0,
        jac=np.full(4, gradient),
        success=False,
        message="ABNORMAL: ",
    )
    monkeypatch.setattr(P, "minimize", lambda *args, **kwargs: stopped)
    x, t_x, T = simulate_bg_nbd(300, seed=9)
    fit = P.fit_bg_nbd(x, t_x, T)
    assert fit.converged is converged
    assert fit.message == f"gradient {gradient:.2g} where the optimiser stopped (ABNORMAL:)"
