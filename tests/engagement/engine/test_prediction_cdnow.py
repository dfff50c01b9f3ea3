"""The prediction models reproduce the literature on the CDNOW 1/10 sample (tests/data/).

Fader, Hardie and Lee (2005), "Counting your customers the easy way", table 1 / figure 4, and
"RFM and CLV" (Gamma-Gamma over the 946 repeat buyers): calibration 1997-01-01..1997-09-30,
x = repeat purchase days, t_x and T from the first purchase day, m = mean repeat-day total.
The per-customer outputs are held against the `lifetimes` package (a test-only reference
implementation) and against the closed forms evaluated by hand with mpmath.
"""

import datetime as dt
import math
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest

from engagement.engine import prediction as P
from engagement.engine.prediction_validation import read_cdnow, validate

pytestmark = pytest.mark.filterwarnings("ignore::Warning:lifetimes.*", "ignore::Warning:pandas.*")

DATA = Path(__file__).parents[2] / "data" / "CDNOW_sample.txt"
D = dt.date(1997, 9, 30)
HOLDOUT = 273  # 39 weeks: 1997-10-01..1998-06-30
WEEK = 7.0


@pytest.fixture(scope="module")
def rows():
    return read_cdnow(DATA)


@pytest.fixture(scope="module")
def summary(rows):
    return P.summarize_purchases(rows, D)


@pytest.fixture(scope="module")
def model(summary):
    return P.fit_model(summary)


def test_calibration_summary_is_the_papers(summary):
    assert len(summary) == 2357
    assert summary.repeaters == 946
    assert summary.frequency.sum() == 2457  # the paper's repeat transactions in weeks 1-39
    # Customer 4 (the first in the file, sample id 1): the paper's x = 2, t_x = 30.43 weeks,
    # T = 38.86 weeks, m = $22.35.
    first = np.searchsorted(summary.customer_ids, 4)
    assert summary.frequency[first] == 2
    assert summary.recency[first] == 213 == round(30.43 * WEEK)
    assert summary.T[first] == 272 == round(38.86 * WEEK)
    assert summary.monetary[first] == pytest.approx(22.345)


def test_bg_nbd_reproduces_the_published_estimates(model):
    bg = model.bg_nbd
    assert bg.converged, bg.message
    assert bg.r == pytest.approx(0.243, rel=0.01)
    assert bg.alpha == pytest.approx(4.414 * WEEK, rel=0.01)  # 30.90 days
    assert bg.a == pytest.approx(0.793, rel=0.01)
    assert bg.b == pytest.approx(2.426, rel=0.01)
    # The paper's LL = -9582.4 is in weeks; in days every repeat purchase's density is 7x
    # thinner, so the same fit has LL_days = LL_weeks - 2457 ln 7.
    assert bg.log_likelihood == pytest.approx(-9582.4 - 2457 * math.log(7), abs=0.1)


def test_gamma_gamma_reproduces_the_published_estimates(model):
    gg = model.gamma_gamma
    assert gg.converged, gg.message
    assert gg.customers == 946
    assert gg.p == pytest.approx(6.25, rel=0.01)
    assert gg.q == pytest.approx(3.74, rel=0.01)
    assert gg.gamma == pytest.approx(15.44, rel=0.01)


def test_per_customer_outputs_match_lifetimes(model, summary):
    pd = pytest.importorskip("pandas")
    lifetimes = pytest.importorskip("lifetimes")
    bg, gg = model.bg_nbd, model.gamma_gamma
    ours = P.predict(bg, gg, summary)
    # lifetimes in weeks: the same customers and parameters, another unit and another code.
    reference = lifetimes.BetaGeoFitter()
    reference.params_ = pd.Series({"r": bg.r, "alpha": bg.alpha / WEEK, "a": bg.a, "b": bg.b})
    x, t_x, T = summary.frequency, summary.recency / WEEK, summary.T / WEEK
    np.testing.assert_allclose(
        ours.p_alive, reference.conditional_probability_alive(x, t_x, T), rtol=1e-9
    )
    for days, got in ((90, ours.expected_purchases_90), (365, ours.expected_purchases_365)):
        expected = reference.conditional_expected_number_of_purchases_up_to_time(
            days / WEEK, x, t_x, T
        )
        np.testing.assert_allclose(got, expected, rtol=1e-9)
    spend = lifetimes.GammaGammaFitter()
    spend.params_ = pd.Series({"p": gg.p, "q": gg.q, "v": gg.gamma})
    expected_value = spend.conditional_expected_average_profit(
        pd.Series(x), pd.Series(summary.monetary)
    )
    np.testing.assert_allclose(ours.expected_value, expected_value, rtol=1e-12)


def test_lifetimes_own_fit_finds_the_same_maximum(model, summary):
    lifetimes = pytest.importorskip("lifetimes")
    reference = lifetimes.BetaGeoFitter().fit(summary.frequency, summary.recency, summary.T)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(model.bg_nbd, name) == pytest.approx(reference.params_[name], rel=1e-3)
    repeat = summary.frequency > 0
    spend = lifetimes.GammaGammaFitter().fit(summary.frequency[repeat], summary.monetary[repeat])
    for ours, theirs in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert getattr(model.gamma_gamma, ours) == pytest.approx(spend.params_[theirs], rel=1e-3)


def test_a_few_customers_by_hand(model, summary):
    """Eq. 13, eq. 10 (its own 2F1, in mpmath) and the Gamma-Gamma mean, at 50 digits."""
    bg, gg = model.bg_nbd, model.gamma_gamma
    ours = P.predict(bg, gg, summary)
    with mp.workdps(50):
        r, alpha, a, b = map(mp.mpf, (bg.r, bg.alpha, bg.a, bg.b))
        p, q, g = map(mp.mpf, (gg.p, gg.q, gg.gamma))
        picks = [0, *np.flatnonzero(summary.frequency == summary.frequency.max())]
        picks += [int(np.flatnonzero(summary.frequency == k)[0]) for k in (1, 3, 10)]
        for i in picks:
            x = int(summary.frequency[i])
            t_x, T, m = (
                mp.mpf(float(v[i])) for v in (summary.recency, summary.T, summary.monetary)
            )
            alive = (
                1
                if x == 0
                else 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
            )
            t = mp.mpf(365)
            hyp = mp.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
            e365 = (
                (a + b + x - 1)
                / (a - 1)
                * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
                * alive
            )
            value = (g + m * x) * p / (p * x + q - 1)
            assert ours.p_alive[i] == pytest.approx(float(alive), rel=1e-10)
            assert ours.expected_purchases_365[i] == pytest.approx(float(e365), rel=1e-9)
            assert ours.expected_value[i] == pytest.approx(float(value), rel=1e-12)
            assert ours.predicted_clv_365[i] == pytest.approx(float(e365 * value), rel=1e-9)


def test_holdout_by_frequency_tracks_what_customers_did(rows, summary):
    later = P.summarize_purchases(rows, D + dt.timedelta(days=HOLDOUT))
    table = validate(summary, later, D, HOLDOUT).rows
    assert [row.group for row in table] == ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]
    assert sum(row.customers for row in table[:-1]) == table[-1].customers == 2357
    # Actual: purchase days in the holdout, counted straight from the file.
    holdout_days = {(c, day) for c, day, _ in rows if D < day <= D + dt.timedelta(days=HOLDOUT)}
    assert table[-1].actual * 2357 == pytest.approx(len(holdout_days))
    predicted = [row.predicted for row in table[:-1]]
    assert predicted == sorted(predicted)  # more purchases before, more expected after
    for row in table:  # the paper's figure 4: the model tracks every group
        assert abs(row.predicted - row.actual) < 0.3 * row.actual + 0.05, row
