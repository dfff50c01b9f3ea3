"""The prediction API: predictions/model/, predictions/fit/, customers/{id}/prediction/, the
customer body's `prediction`, the p_alive filters and the predicted_clv_365 ordering."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagement.engine.prediction_service import predictions_fit
from engagement.models.predictions import CustomerPrediction, PredictionFit
from tests.engagement.prediction_data import make_buyers
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = dt.date(2025, 6, 30)
MODEL_KEYS = {
    "as_of",
    "fitted_at",
    "customers",
    "repeaters",
    "converged",
    "log_likelihood",
    "time_unit",
    "bg_nbd",
    "gamma_gamma",
}
PREDICTION_KEYS = [
    "customer",
    "as_of",
    "frequency",
    "recency",
    "T",
    "monetary",
    "p_alive",
    "expected_purchases_90",
    "expected_purchases_365",
    "expected_value",
    "predicted_clv_365",
    "historical_clv",
    "reason",
]


@pytest.fixture
def fitted():
    buyers = make_buyers(130, as_of=D, seed=5)
    idle = CustomerFactory(name="Idle")
    fit = predictions_fit(as_of=D)
    return buyers, idle, fit


def test_the_model_is_404_before_the_first_fit(cs_api):
    response = cs_api.get("/api/predictions/model/")
    assert response.status_code == 404
    assert "No prediction model yet" in response.json()["detail"]


def test_the_model_answers_the_latest_fit(cs_api, fitted):
    _, _, fit = fitted
    body = cs_api.get("/api/predictions/model/").json()
    assert set(body) == MODEL_KEYS
    assert body["as_of"] == D.isoformat()
    assert body["customers"] == fit.customers == 130
    assert body["repeaters"] == fit.repeaters
    assert body["converged"] is True
    assert body["time_unit"] == "day"
    assert body["log_likelihood"] == pytest.approx(fit.log_likelihood)
    assert body["bg_nbd"] == {"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b}
    assert body["gamma_gamma"] == {"p": fit.p, "q": fit.q, "gamma": fit.gamma}


def test_a_fit_without_enough_data_answers_null_parameters(cs_api):
    make_buyers(40, as_of=D, seed=1)
    predictions_fit(as_of=D)
    body = cs_api.get("/api/predictions/model/").json()
    assert body["converged"] is False
    assert body["bg_nbd"] is None
    assert body["gamma_gamma"] is None
    assert body["customers"] == 40


def test_only_a_crm_admin_fits_and_without_a_broker_the_answer_is_the_model(
    rep_api, cs_api, admin_api
):
    make_buyers(120, as_of=D, seed=2)
    for api in (rep_api, cs_api):
        assert api.post("/api/predictions/fit/", {"as_of": D.isoformat()}).status_code == 403
    assert not PredictionFit.objects.exists()
    response = admin_api.post("/api/predictions/fit/", {"as_of": D.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == MODEL_KEYS
    assert body["as_of"] == D.isoformat()
    assert body["customers"] == 120
    assert PredictionFit.objects.get().as_of == D
    assert CustomerPrediction.objects.count() == 120


def test_a_fit_with_a_bad_day_is_400_naming_as_of(admin_api):
    response = admin_api.post("/api/predictions/fit/", {"as_of": "30/06/2025"}, format="json")
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_a_customer_prediction_has_exactly_the_contract_fields(cs_api, fitted):
    _buyers, idle, _ = fitted
    repeat = CustomerPrediction.objects.filter(frequency__gte=1).first()
    body = cs_api.get(f"/api/customers/{repeat.customer_id}/prediction/").json()
    assert list(body) == PREDICTION_KEYS
    assert body["customer"] == repeat.customer_id
    assert body["as_of"] == D.isoformat()
    assert body["frequency"] == repeat.frequency
    assert body["T"] == repeat.T
    assert body["p_alive"] == pytest.approx(repeat.p_alive)
    assert body["expected_purchases_365"] == pytest.approx(repeat.expected_purchases_365)
    # Money as strings with two decimals, as everywhere in the API.
    for name in ("monetary", "expected_value", "predicted_clv_365", "historical_clv"):
        assert Decimal(body[name]) == getattr(repeat, name), name
        assert body[name].split(".")[1].__len__() == 2
    assert body["reason"].startswith(f"p_alive {repeat.p_alive:.2f}: ")

    empty = cs_api.get(f"/api/customers/{idle.pk}/prediction/").json()
    assert empty["reason"] == "no purchase yet"
    assert empty["p_alive"] is None
    assert empty["predicted_clv_365"] is None
    assert empty["frequency"] is None


def test_a_customer_prediction_404s(cs_api, fitted):
    assert cs_api.get("/api/customers/999999/prediction/").status_code == 404
    newcomer = CustomerFactory()
    response = cs_api.get(f"/api/customers/{newcomer.pk}/prediction/")
    assert response.status_code == 404
    assert "No prediction yet" in response.json()["detail"]


def test_the_customer_body_nests_the_same_prediction(cs_api, fitted):
    buyers, _idle, _ = fitted
    customer = buyers[3]
    nested = cs_api.get(f"/api/customers/{customer.pk}/").json()["prediction"]
    assert nested == cs_api.get(f"/api/customers/{customer.pk}/prediction/").json()
    newcomer = CustomerFactory()
    assert cs_api.get(f"/api/customers/{newcomer.pk}/").json()["prediction"] is None


def _ids(api, query):
    response = api.get(f"/api/customers/?page_size=500&{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_p_alive_filters(cs_api, fitted):
    rows = CustomerPrediction.objects.exclude(p_alive=None)
    low = {r.customer_id for r in rows if r.p_alive < 0.5}
    assert 0 < len(low) < rows.count()
    assert set(_ids(cs_api, "p_alive_lt=0.5")) == low
    high = {r.customer_id for r in rows if r.p_alive >= 0.5}
    assert set(_ids(cs_api, "p_alive_gte=0.5")) == high
    band = {r.customer_id for r in rows if 0.2 <= r.p_alive < 0.8}
    assert set(_ids(cs_api, "p_alive_gte=0.2&p_alive_lt=0.8")) == band


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("p_alive_lt=abc", "p_alive_lt"),
        ("p_alive_gte=1.5", "p_alive_gte"),
        ("p_alive_lt=-0.1", "p_alive_lt"),
        ("ordering=predicted_clv", "ordering"),
        ("ordering=-p_alive,name", "ordering"),
        ("ordering=,", "ordering"),
    ],
)
def test_bad_prediction_parameters_are_400_naming_the_field(cs_api, query, field):
    response = cs_api.get(f"/api/customers/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_ordering_by_predicted_clv_puts_customers_without_one_last(cs_api, fitted):
    _buyers, idle, _ = fitted
    newcomer = CustomerFactory(name="No prediction at all")
    predicted = sorted(
        CustomerPrediction.objects.exclude(predicted_clv_365=None).values_list(
            "predicted_clv_365", "customer_id"
        )
    )
    ascending = _ids(cs_api, "ordering=predicted_clv_365")
    descending = _ids(cs_api, "ordering=-predicted_clv_365")
    n = len(predicted)
    assert [pk for _, pk in predicted] == ascending[:n]
    values = dict((pk, v) for v, pk in predicted)
    assert [values[pk] for pk in descending[:n]] == sorted(values.values(), reverse=True)
    # No purchase (stored, empty) and no stored prediction: last, by id, both ways.
    assert ascending[n:] == descending[n:] == sorted([idle.pk, newcomer.pk])


def test_the_customer_list_with_predictions_does_not_grow_with_the_page(cs_api, fitted):
    def count(size):
        with CaptureQueriesContext(connection) as queries:
            response = cs_api.get(
                f"/api/customers/?page_size={size}&ordering=-predicted_clv_365&p_alive_gte=0"
            )
        assert response.status_code == 200
        assert all(row["prediction"] for row in response.json()["results"])
        return len(queries)

    assert count(5) == count(100)
