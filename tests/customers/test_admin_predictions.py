"""The customer list's prediction columns and P(alive) filter, and the customer page's
prediction panel: what each shows, sorting, saving the band in a segment, query counts."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagement.admin.segments import segment_filters_from_list
from engagement.models.predictions import CustomerPrediction
from tests.engagement.prediction_data import a_fit, a_prediction
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


@pytest.fixture
def predicted(rep):
    fit = a_fit()
    rows = {"Low": (0.12, "300.00"), "Mid": (0.4, "2500.00"), "High": (0.93, "1200.50")}
    customers = {}
    for name, (p_alive, clv) in rows.items():
        customers[name] = CustomerFactory(name=name, owner=rep)
        a_prediction(customers[name], fit=fit, p_alive=p_alive, clv=clv)
    customers["Idle"] = CustomerFactory(name="Idle", owner=rep)
    a_prediction(customers["Idle"], fit=fit, p_alive=None, clv=None, frequency=None)
    customers["New"] = CustomerFactory(name="New", owner=rep)  # no prediction stored
    return customers


def _names(response):
    return [c.name for c in response.context["cl"].result_list]


def _column(response, name):
    return response.context["cl"].list_display.index(name)


def test_the_list_shows_p_alive_and_predicted_clv(client, rep, predicted):
    client.force_login(rep)
    response = client.get(CHANGELIST)
    html = response.content.decode()
    assert '<th scope="col" class="sortable column-p_alive">' in html
    assert '<td class="field-p_alive">0.12</td>' in html
    assert '<td class="field-predicted_clv">2,500.00</td>' in html
    assert '<td class="field-predicted_clv">1,200.50</td>' in html
    assert html.count('<td class="field-p_alive">-</td>') == 2  # Idle and New


def test_both_columns_sort_with_customers_without_a_prediction_last(client, rep, predicted):
    client.force_login(rep)
    first = client.get(CHANGELIST)
    clv, p_alive = _column(first, "predicted_clv"), _column(first, "p_alive")
    by_clv = _names(client.get(CHANGELIST, {"o": f"-{clv}"}))
    assert by_clv[:3] == ["Mid", "High", "Low"]
    assert set(by_clv[3:]) == {"Idle", "New"}
    assert _names(client.get(CHANGELIST, {"o": str(clv)}))[:3] == ["Low", "High", "Mid"]
    by_p = _names(client.get(CHANGELIST, {"o": str(p_alive)}))
    assert by_p[:3] == ["Low", "Mid", "High"]
    assert set(by_p[3:]) == {"Idle", "New"}
    assert _names(client.get(CHANGELIST, {"o": f"-{p_alive}"}))[:3] == ["High", "Mid", "Low"]


@pytest.mark.parametrize(
    ("band", "names"),
    [
        ("lt25", {"Low"}),
        ("25to50", {"Mid"}),
        ("50to75", set()),
        ("gte75", {"High"}),
        ("none", {"Idle", "New"}),
    ],
)
def test_the_p_alive_band_filter(client, rep, predicted, band, names):
    client.force_login(rep)
    response = client.get(CHANGELIST, {"p_alive": band})
    assert set(_names(response)) == names
    assert "P(alive)" in response.content.decode()


def test_a_band_is_saved_in_a_segment_as_its_two_bounds(rep):
    saved = QueryDict(segment_filters_from_list(QueryDict("p_alive=25to50"), user=rep))
    assert saved.dict() == {"p_alive_gte": "0.25", "p_alive_lt": "0.5"}
    assert segment_filters_from_list(QueryDict("p_alive=lt25"), user=rep) == "p_alive_lt=0.25"
    with pytest.raises(ValidationError, match="No prediction"):
        segment_filters_from_list(QueryDict("p_alive=none"), user=rep)


def test_the_list_with_predictions_keeps_its_query_count(client, rep, predicted):
    client.force_login(rep)
    clv = _column(client.get(CHANGELIST), "predicted_clv")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CHANGELIST, {"o": f"-{clv}", "p_alive": "lt25"}).status_code == 200
        return len(queries)

    few = count()
    fit = CustomerPrediction.objects.first().fit
    for n in range(40):
        a_prediction(CustomerFactory(owner=rep), fit=fit, p_alive=0.1 + n / 1000, clv="5.00")
    assert count() == few <= 15


def test_the_customer_page_shows_the_prediction_panel(client, rep, predicted):
    client.force_login(rep)
    html = client.get(change_url(predicted["Mid"])).content.decode()
    assert 'id="prediction-panel"' in html
    assert '<strong id="prediction-p-alive">0.40</strong>' in html
    assert '<strong id="prediction-clv">2,500.00</strong>' in html
    assert '<strong id="prediction-at-stake">1,500.00</strong>' in html  # 2,500 x 0.6
    assert "p_alive 0.40: 4 purchase days, the last 180 days ago" in html
    assert "Expected purchase days in 365 days" in html
    assert "with the model fitted as of" in html


def test_the_customer_page_says_why_there_is_no_prediction(client, rep, predicted):
    client.force_login(rep)
    idle = client.get(change_url(predicted["Idle"])).content.decode()
    assert 'id="prediction-reason" class="help">no purchase yet' in idle
    new = client.get(change_url(predicted["New"])).content.decode()
    assert "No prediction yet: the next fit or refresh makes one." in new
    CustomerPrediction.objects.all().delete()
    from engagement.models.predictions import PredictionFit

    PredictionFit.objects.all().delete()
    html = client.get(change_url(predicted["New"])).content.decode()
    assert "No prediction yet: the model has not been fitted" in html
