"""The outcome statistics against published worked values, edge cases and a simulation."""

import math
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from engagement.workflow.outcome_stats import (
    CONTROL,
    MIN_ARM_SIZE,
    TREATMENT,
    draw_arm,
    mean_uplift,
    mean_uplift_from_values,
    newcombe_interval,
    rate_uplift,
    welch_interval,
    welch_interval_from_stats,
    wilson_interval,
)

# --- Wilson -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe 1998a ("Two-sided confidence intervals for the single proportion"),
        # Table I, method 3 (score interval without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_published_values(successes, n, low, high):
    got = wilson_interval(successes, n)
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


def test_wilson_edges_are_exact_and_inside_the_unit_interval():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    low = wilson_interval(10, 10)[0]
    assert 0 < low < 1
    # 0/n and n/n are mirror images.
    assert wilson_interval(0, 10)[1] == pytest.approx(1 - low)


def test_wilson_narrows_with_confidence_and_rejects_bad_counts():
    wide = wilson_interval(30, 100, confidence=0.99)
    narrow = wilson_interval(30, 100, confidence=0.90)
    assert wide[0] < narrow[0] < 0.3 < narrow[1] < wide[1]
    with pytest.raises(ValueError, match="n must"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 10, confidence=1.0)


# --- Newcombe ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        # Newcombe 1998b ("Interval estimation for the difference between independent
        # proportions: comparison of eleven methods"), Table II, method 10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_newcombe_matches_published_method_10_values(x1, n1, x2, n2, low, high):
    got = newcombe_interval(x1, n1, x2, n2)
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


def test_newcombe_all_or_nothing_arms_give_sane_intervals():
    # Both arms all-success: no observed difference, the interval straddles 0 and
    # mirrors the all-failure case.
    low, high = newcombe_interval(10, 10, 20, 20)
    assert -1 < low < 0 < high < 1
    none_low, none_high = newcombe_interval(0, 10, 0, 20)
    assert (low, high) == pytest.approx((-none_high, -none_low))
    # Swapping the arms negates and swaps the interval.
    a = newcombe_interval(56, 70, 48, 80)
    b = newcombe_interval(48, 80, 56, 70)
    assert b == pytest.approx((-a[1], -a[0]))


# --- Welch ------------------------------------------------------------------------------

# R's `sleep` data (Cushny and Peebles): extra hours of sleep under two drugs.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welch_matches_r_textbook_example():
    # R: t.test(extra ~ group, data = sleep) -> df = 17.776,
    # 95 percent confidence interval: -3.3654832  0.2054832
    low, high = welch_interval(SLEEP_1, SLEEP_2)
    assert (round(low, 7), round(high, 7)) == (-3.3654832, 0.2054832)


def test_welch_matches_scipy_ttest_on_skewed_unequal_arms():
    rng = np.random.default_rng(7)
    a = rng.exponential(120.0, size=45)
    b = rng.exponential(80.0, size=300)
    for confidence in (0.9, 0.95, 0.99):
        expected = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)
        got = welch_interval(a, b, confidence=confidence)
        assert got == pytest.approx((expected.low, expected.high), rel=1e-10)
        # The same from per-arm aggregates, as SQL gives them.
        from_stats = welch_interval_from_stats(
            n_1=a.size,
            mean_1=a.mean(),
            variance_1=a.var(ddof=1),
            n_2=b.size,
            mean_2=b.mean(),
            variance_2=b.var(ddof=1),
            confidence=confidence,
        )
        assert from_stats == pytest.approx(got, rel=1e-12)


def test_welch_one_constant_arm_is_the_other_arms_one_sample_interval():
    # Control revenue all zero: the uncertainty is the treatment arm's alone, with
    # its n - 1 degrees of freedom.
    treatment = [0.0, 50.0, 20.0, 0.0, 100.0, 35.0]
    control = [0.0] * 40
    low, high = welch_interval(treatment, control)
    sample = np.array(treatment)
    half = stats.t.ppf(0.975, sample.size - 1) * sample.std(ddof=1) / math.sqrt(sample.size)
    assert (low, high) == pytest.approx((sample.mean() - half, sample.mean() + half))


def test_welch_both_constant_arms_give_the_exact_difference():
    assert welch_interval([5.0] * 30, [5.0] * 40) == (0.0, 0.0)
    assert welch_interval([7.5] * 30, [5.0] * 40) == (2.5, 2.5)


def test_welch_rejects_arms_it_cannot_measure():
    with pytest.raises(ValueError, match="at least 2"):
        welch_interval([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        welch_interval([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError, match="negative"):
        welch_interval_from_stats(n_1=5, mean_1=1, variance_1=-1, n_2=5, mean_2=1, variance_2=1)


# --- Uplift -----------------------------------------------------------------------------


def test_rate_uplift_is_treatment_minus_control_with_newcombe_interval():
    got = rate_uplift(treatment_successes=56, treatment_n=70, control_successes=48, control_n=80)
    assert got["value"] == pytest.approx(0.8 - 0.6)
    assert (round(got["low"], 4), round(got["high"], 4)) == (0.0524, 0.3339)


def test_uplift_is_not_enough_data_below_the_minimum_arm_size():
    small = MIN_ARM_SIZE - 1
    assert (
        rate_uplift(treatment_successes=10, treatment_n=small, control_successes=5, control_n=500)
        is None
    )
    assert (
        rate_uplift(treatment_successes=10, treatment_n=500, control_successes=5, control_n=small)
        is None
    )
    assert (
        rate_uplift(
            treatment_successes=10,
            treatment_n=MIN_ARM_SIZE,
            control_successes=5,
            control_n=MIN_ARM_SIZE,
        )
        is not None
    )
    assert mean_uplift_from_values([1.0] * 100, [1.0] * small) is None
    assert (
        mean_uplift(
            treatment_n=small,
            treatment_mean=1,
            treatment_variance=1,
            control_n=100,
            control_mean=1,
            control_variance=1,
        )
        is None
    )


def test_mean_uplift_accepts_decimal_aggregates():
    from decimal import Decimal

    got = mean_uplift(
        treatment_n=40,
        treatment_mean=Decimal("120.50"),
        treatment_variance=Decimal("900"),
        control_n=60,
        control_mean=Decimal("100.00"),
        control_variance=Decimal("400"),
    )
    assert got["value"] == pytest.approx(20.5)
    assert got["low"] < 20.5 < got["high"]


# --- The draw ---------------------------------------------------------------------------

DAY = date(2025, 3, 14)


def test_draw_is_stable_for_the_same_key_customer_and_day():
    first = [
        draw_arm(rule_or_campaign_key="rule:7", customer_id=c, day=DAY, holdout_percent=30)
        for c in range(500)
    ]
    again = [
        draw_arm(rule_or_campaign_key="rule:7", customer_id=c, day=DAY, holdout_percent=30)
        for c in range(500)
    ]
    assert first == again
    assert set(first) == {TREATMENT, CONTROL}


def test_draw_differs_between_keys_and_days():
    def arms(key, day):
        return [
            draw_arm(rule_or_campaign_key=key, customer_id=c, day=day, holdout_percent=50)
            for c in range(2000)
        ]

    base = arms("rule:7", DAY)
    # Independent draws agree on about half the customers, not all of them.
    for other in (arms("rule:8", DAY), arms("campaign:7", DAY), arms("rule:7", DAY + timedelta(1))):
        agree = sum(a == b for a, b in zip(base, other, strict=True))
        assert 850 < agree < 1150


def test_holdout_zero_is_always_treatment_and_hundred_always_control():
    for c in range(1000):
        assert (
            draw_arm(rule_or_campaign_key="rule:1", customer_id=c, day=DAY, holdout_percent=0)
            == TREATMENT
        )
        assert (
            draw_arm(rule_or_campaign_key="rule:1", customer_id=c, day=DAY, holdout_percent=100)
            == CONTROL
        )


@pytest.mark.parametrize("holdout", [1, 10, 25, 50])
def test_control_share_matches_holdout_percent(holdout):
    n = 10_000
    controls = sum(
        draw_arm(rule_or_campaign_key="rule:42", customer_id=c, day=DAY, holdout_percent=holdout)
        == CONTROL
        for c in range(n)
    )
    p = holdout / 100
    # Four binomial standard deviations: a correct draw fails this about once in 16,000.
    assert abs(controls - n * p) < 4 * math.sqrt(n * p * (1 - p))


def test_a_larger_holdout_keeps_every_earlier_control_customer():
    # The draw is one uniform number per customer against a threshold, so raising the
    # percent only adds control customers; nobody flips from control to treatment.
    for c in range(2000):
        small = draw_arm(rule_or_campaign_key="rule:3", customer_id=c, day=DAY, holdout_percent=10)
        large = draw_arm(rule_or_campaign_key="rule:3", customer_id=c, day=DAY, holdout_percent=20)
        assert not (small == CONTROL and large == TREATMENT)


def test_draw_rejects_out_of_range_holdout():
    with pytest.raises(ValueError, match="holdout_percent"):
        draw_arm(rule_or_campaign_key="rule:1", customer_id=1, day=DAY, holdout_percent=101)
    with pytest.raises(TypeError, match="holdout_percent"):
        draw_arm(rule_or_campaign_key="rule:1", customer_id=1, day=DAY, holdout_percent=12.5)


# --- Simulation: a known true effect is recovered ---------------------------------------

N_CUSTOMERS = 4000
HOLDOUT = 50
CONTROL_RATE = 0.20
# Revenue per customer: a converted customer spends an exponential amount.
CONTROL_SPEND, TREATMENT_SPEND = 100.0, 120.0


def _simulate(rng, is_treatment, treatment_rate, treatment_spend):
    rate = np.where(is_treatment, treatment_rate, CONTROL_RATE)
    converted = rng.random(is_treatment.size) < rate
    spend = np.where(is_treatment, treatment_spend, CONTROL_SPEND)
    revenue = np.where(converted, rng.exponential(spend), 0.0)
    t, c = is_treatment, ~is_treatment
    conversion = rate_uplift(
        treatment_successes=int(converted[t].sum()),
        treatment_n=int(t.sum()),
        control_successes=int(converted[c].sum()),
        control_n=int(c.sum()),
    )
    revenue_uplift = mean_uplift_from_values(revenue[t], revenue[c])
    return conversion, revenue_uplift


def _arms(day):
    return np.array(
        [
            draw_arm(
                rule_or_campaign_key="rule:99", customer_id=c, day=day, holdout_percent=HOLDOUT
            )
            == TREATMENT
            for c in range(N_CUSTOMERS)
        ]
    )


def _covers(uplift, truth):
    return uplift["low"] <= truth <= uplift["high"]


def test_simulated_effect_is_covered_and_detected():
    rng = np.random.default_rng(2025)
    is_treatment = _arms(DAY)
    true_conversion = 0.30 - CONTROL_RATE
    true_revenue = 0.30 * TREATMENT_SPEND - CONTROL_RATE * CONTROL_SPEND
    conversion, revenue = _simulate(rng, is_treatment, 0.30, TREATMENT_SPEND)
    assert _covers(conversion, true_conversion)
    assert _covers(revenue, true_revenue)
    # With about 2,000 per arm a 10-point effect is clearly told apart from none.
    assert conversion["low"] > 0
    assert revenue["low"] > 0


def test_simulated_no_effect_covers_zero():
    rng = np.random.default_rng(2026)
    conversion, revenue = _simulate(rng, _arms(DAY), CONTROL_RATE, CONTROL_SPEND)
    assert _covers(conversion, 0.0)
    assert _covers(revenue, 0.0)


def test_intervals_cover_the_truth_about_95_percent_of_the_time():
    # One lucky seed proves little: repeat the trial, each repetition on another day (so
    # another draw of the arms) with new outcomes, and count how often the truth is
    # inside. A sound 95% interval covers it ~190 times in 200 (sd ~3).
    rng = np.random.default_rng(14)
    repetitions, n = 200, 600
    scenarios = [(0.30, TREATMENT_SPEND), (CONTROL_RATE, CONTROL_SPEND)]  # effect, none
    covered = np.zeros((len(scenarios), 2), dtype=int)
    for r in range(repetitions):
        day = DAY + timedelta(days=r)
        is_treatment = np.array(
            [
                draw_arm(rule_or_campaign_key="rule:5", customer_id=c, day=day, holdout_percent=30)
                == TREATMENT
                for c in range(n)
            ]
        )
        for i, (treatment_rate, treatment_spend) in enumerate(scenarios):
            conversion, revenue = _simulate(rng, is_treatment, treatment_rate, treatment_spend)
            covered[i, 0] += _covers(conversion, treatment_rate - CONTROL_RATE)
            true_revenue = treatment_rate * treatment_spend - CONTROL_RATE * CONTROL_SPEND
            covered[i, 1] += _covers(revenue, true_revenue)
    assert (covered >= 0.90 * repetitions).all(), covered
