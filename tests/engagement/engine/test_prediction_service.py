"""Stored predictions: the fit kept, one row per customer, the empty and kept cases, the
refresh without refit, and the batch discipline (on SQLite, and PostgreSQL with
DATABASE_URL)."""

import datetime as dt
import io
import math
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.models import Customer
from engagement.engine import prediction_service
from engagement.engine.prediction import (
    NO_PURCHASE_REASON,
    BgNbd,
    GammaGamma,
    expected_purchases,
    expected_value,
    fit_model,
    p_alive,
)
from engagement.engine.prediction_service import (
    fit_in_use,
    predictions_fit,
    predictions_refresh,
)
from engagement.models.predictions import CustomerPrediction, PredictionFit
from tests.engagement.prediction_data import make_buyers, purchase
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = dt.date(2025, 6, 30)


@pytest.fixture
def base():
    """150 buyers, one customer without a purchase, one archived buyer."""
    buyers = make_buyers(150, as_of=D, seed=3)
    idle = CustomerFactory(name="Idle")
    gone = buyers[-1]
    gone.archived_at = timezone.now()
    gone.save()
    return buyers[:-1], idle, gone


def test_a_fit_is_kept_and_every_current_customer_gets_one_row(base):
    buyers, idle, gone = base
    fit = predictions_fit(as_of=D)

    stored = PredictionFit.objects.get()
    assert stored == fit
    assert stored.converged
    assert stored.fitted
    assert stored.message == ""
    assert stored.as_of == D
    assert stored.customers == len(buyers)
    assert 20 <= stored.repeaters < stored.customers
    assert stored.log_likelihood < 0
    assert stored.gamma_gamma_log_likelihood < 0
    assert min(stored.r, stored.alpha, stored.a, stored.b, stored.p, stored.gamma) > 0
    assert stored.q > 1
    assert set(fit.timings) == {"summary_s", "fit_s", "predict_s", "write_s", "total_s"}

    rows = CustomerPrediction.objects.all()
    assert {r.customer_id for r in rows} == {c.pk for c in buyers} | {idle.pk}
    assert not CustomerPrediction.objects.filter(customer=gone).exists()
    assert {r.fit_id for r in rows} == {fit.pk}
    assert {r.as_of for r in rows} == {D}

    empty = CustomerPrediction.objects.get(customer=idle)
    assert empty.reason == NO_PURCHASE_REASON
    assert empty.frequency is None
    assert empty.p_alive is None
    assert empty.predicted_clv_365 is None
    assert empty.historical_clv == Decimal("0.00")


def test_stored_figures_follow_the_closed_forms_with_the_stored_parameters(base):
    buyers, _, _ = base
    fit = predictions_fit(as_of=D)
    bg = BgNbd(r=fit.r, alpha=fit.alpha, a=fit.a, b=fit.b)
    gg = GammaGamma(p=fit.p, q=fit.q, gamma=fit.gamma)
    rows = {r.customer_id: r for r in CustomerPrediction.objects.all()}
    checked_repeat = checked_single = 0
    for customer in buyers:
        row = rows[customer.pk]
        totals = {}
        for i in customer.interactions.filter(kind="purchase"):
            totals[i.occurred_at.date()] = totals.get(i.occurred_at.date(), 0) + i.amount
        days = sorted(totals)
        x, t_x, T = len(days) - 1, (days[-1] - days[0]).days, (D - days[0]).days
        m = float(sum(totals[d] for d in days[1:]) / x) if x else 0.0
        assert (row.frequency, row.recency, row.T) == (x, t_x, T)
        # P(alive) by hand: 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)).
        by_hand = (
            1.0
            if x == 0
            else 1
            / (1 + fit.a / (fit.b + x - 1) * ((fit.alpha + T) / (fit.alpha + t_x)) ** (fit.r + x))
        )
        assert row.p_alive == pytest.approx(by_hand, rel=1e-9)
        e365 = expected_purchases(bg, 365, np.array([x]), np.array([t_x]), np.array([T]))[0]
        assert row.expected_purchases_365 == pytest.approx(e365, rel=1e-9)
        if x == 0:
            assert row.monetary is None
        else:  # to the cent (a float rounding of a half cent may go either way)
            assert float(row.monetary) == pytest.approx(m, abs=0.0051)
        value = expected_value(gg, np.array([x]), np.array([m]))[0]
        assert float(row.expected_value) == pytest.approx(value, abs=0.0051)
        assert float(row.predicted_clv_365) == pytest.approx(e365 * value, abs=0.01)
        assert row.expected_purchases_90 < row.expected_purchases_365
        assert row.reason.startswith(f"p_alive {row.p_alive:.2f}: {x + 1} purchase day")
        net = sum(i.amount for i in customer.interactions.filter(kind="purchase"))
        assert row.historical_clv == net
        checked_repeat += x > 0
        checked_single += x == 0
    assert checked_repeat >= 20
    assert checked_single >= 1
    # x = 0: alive by definition, and the population's mean value of a purchase day.
    single = next(r for r in rows.values() if r.frequency == 0)
    assert single.p_alive == 1.0
    assert single.monetary is None
    assert float(single.expected_value) == pytest.approx(gg.mean, abs=0.005)


def test_historical_clv_nets_refunds_up_to_the_day(base):
    buyers, idle, _ = base
    customer = buyers[0]
    before = sum(i.amount for i in customer.interactions.filter(kind="purchase"))
    purchase(customer, D - dt.timedelta(days=1), "7.50", kind="refund")
    purchase(customer, D + dt.timedelta(days=1), "1000.00")  # after D: not counted
    purchase(idle, D - dt.timedelta(days=3), "4.00", kind="refund")  # a refund, no purchase
    predictions_fit(as_of=D)
    assert CustomerPrediction.objects.get(customer=customer).historical_clv == before - Decimal(
        "7.50"
    )
    idle_row = CustomerPrediction.objects.get(customer=idle)
    assert idle_row.reason == NO_PURCHASE_REASON
    assert idle_row.historical_clv == Decimal("-4.00")


def test_not_enough_data_is_stored_as_not_fitted_and_empties_the_predictions():
    buyers = make_buyers(150, as_of=D, seed=3)
    first = predictions_fit(as_of=D)
    assert first.converged
    # Archive all but 60 buyers: too few for a fit.
    Customer.objects.filter(pk__in=[c.pk for c in buyers[60:]]).update(archived_at=timezone.now())

    second = predictions_fit(as_of=D)

    assert not second.fitted
    assert not second.converged
    assert second.r is None
    assert second.customers == 60
    assert second.message == "not fitted: 60 customers with a purchase, at least 100 needed"
    rows = CustomerPrediction.objects.all()
    assert rows.count() == 60
    for row in rows:
        assert row.fit_id == second.pk
        assert row.reason == second.message
        assert row.p_alive is None
        assert row.predicted_clv_365 is None
        assert row.frequency is not None  # the summary stays: facts, not a prediction
    assert PredictionFit.objects.count() == 2  # every fit kept
    assert fit_in_use() == second


def test_a_fit_that_does_not_converge_leaves_the_previous_model_predicting(base, monkeypatch):
    buyers, _, _ = base
    good = predictions_fit(as_of=D)
    later = D + dt.timedelta(days=30)

    def stuck(summary):
        model = fit_model(summary)
        bg = model.bg_nbd.__class__(
            **{**model.bg_nbd.__dict__, "converged": False, "message": "stopped"}
        )
        return model.__class__(
            customers=model.customers,
            repeaters=model.repeaters,
            bg_nbd=bg,
            gamma_gamma=model.gamma_gamma,
            reason="BG/NBD did not converge: stopped",
        )

    monkeypatch.setattr(prediction_service, "fit_model", stuck)
    bad = predictions_fit(as_of=later)

    assert bad.fitted
    assert not bad.converged
    assert bad.message == "BG/NBD did not converge: stopped"
    assert PredictionFit.objects.count() == 2
    assert fit_in_use() == good
    rows = CustomerPrediction.objects.exclude(frequency=None)
    assert {r.fit_id for r in rows} == {good.pk}
    # Predicted as of the new day with the previous model: T grew by 30 days.
    row = rows.get(customer=buyers[0])
    assert row.as_of == later
    bg = BgNbd(r=good.r, alpha=good.alpha, a=good.a, b=good.b)
    expected = p_alive(bg, np.array([row.frequency]), np.array([row.recency]), np.array([row.T]))
    assert row.p_alive == pytest.approx(expected[0], rel=1e-9)


def test_the_refresh_predicts_some_customers_with_the_model_in_use_without_refitting(base):
    buyers, idle, _ = base
    fit = predictions_fit(as_of=D)
    customer = buyers[0]
    before = CustomerPrediction.objects.get(customer=customer)
    later = D + dt.timedelta(days=10)
    purchase(customer, later, "50.00")
    purchase(idle, later, "20.00")
    untouched = CustomerPrediction.objects.get(customer=buyers[1])

    answer = predictions_refresh(customer_ids=[customer.pk, idle.pk], as_of=later)

    assert answer == {"customers": 2, "fit": fit.pk, "as_of": later.isoformat()}
    assert PredictionFit.objects.count() == 1
    after = CustomerPrediction.objects.get(customer=customer)
    assert after.frequency == before.frequency + 1
    assert after.recency == after.T
    assert after.as_of == later
    assert after.fit_id == fit.pk
    # Bought today: alive unless she dropped out right after, 1 / (1 + a / (b + x - 1)).
    assert after.p_alive == pytest.approx(1 / (1 + fit.a / (fit.b + after.frequency - 1)))
    new = CustomerPrediction.objects.get(customer=idle)
    assert new.frequency == 0
    assert new.p_alive == 1.0
    assert new.reason.startswith("p_alive 1.00")
    assert CustomerPrediction.objects.get(customer=buyers[1]).as_of == untouched.as_of == D


def test_the_refresh_drops_an_archived_customer_and_does_nothing_without_a_model(base):
    buyers, _, _ = base
    assert predictions_refresh(customer_ids=[buyers[0].pk]) is None
    assert not CustomerPrediction.objects.exists()
    predictions_fit(as_of=D)
    buyers[0].archived_at = timezone.now()
    buyers[0].save()
    answer = predictions_refresh(customer_ids=[buyers[0].pk], as_of=D)
    assert answer["customers"] == 0
    assert not CustomerPrediction.objects.filter(customer=buyers[0]).exists()


def test_each_batch_is_one_transaction(base, monkeypatch):
    _buyers, _idle, _ = base
    calls = []
    write = prediction_service._write

    def failing(rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        write(rows)

    monkeypatch.setattr(prediction_service, "_write", failing)
    with pytest.raises(RuntimeError):
        predictions_fit(as_of=D, batch_size=40)
    # Two whole batches of 40 written, nothing of the third.
    assert calls[:2] == [40, 40]
    assert CustomerPrediction.objects.count() == 80
    assert PredictionFit.objects.count() == 1  # the fit itself is kept


def test_the_command_prints_the_parameters(base):
    out = io.StringIO()
    call_command("fit_predictions", "--as-of", D.isoformat(), stdout=out)
    fit = PredictionFit.objects.get()
    text = out.getvalue()
    assert f"Fit as of {D}: {fit.customers:,} customers with a purchase" in text
    assert f"r = {fit.r:.4f}, alpha = {fit.alpha:.4f} days" in text
    assert f"p = {fit.p:.4f}, q = {fit.q:.4f}, gamma = {fit.gamma:.4f}" in text
    assert "Converged" in text
    assert math.isfinite(fit.seconds)
    assert fit.seconds > 0


def test_the_command_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--as-of"):
        call_command("fit_predictions", "--as-of", "2025-13-01")


def test_a_base_without_any_purchase_fits_nothing_and_says_so():
    customers = CustomerFactory.create_batch(3)
    fit = predictions_fit(as_of=D)
    assert not fit.fitted
    assert fit.message == "not fitted: 0 customers with a purchase, at least 100 needed"
    rows = CustomerPrediction.objects.order_by("customer_id")
    assert [r.customer_id for r in rows] == [c.pk for c in customers]
    assert {r.reason for r in rows} == {NO_PURCHASE_REASON}
    assert {r.historical_clv for r in rows} == {Decimal("0.00")}
