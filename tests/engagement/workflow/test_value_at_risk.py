"""The value_at_risk trigger: its shipped rule, its parameters, who it fires for and why."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from engagement.models.workflow import ActionPlan, Alert, AlertRule
from engagement.workflow.alerts import alerts_evaluate
from engagement.workflow.playbooks import alert_rule_save
from engagement.workflow.runs import engagement_run
from tests.engagement.prediction_data import a_fit, a_prediction, make_buyers
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SHIPPED = "Valuable customer slipping away"


@pytest.fixture
def rule():
    rule = AlertRule.objects.get(name=SHIPPED)
    return alert_rule_save(rule=rule, is_active=True)


def test_the_rule_ships_inactive_with_its_parameters():
    rule = AlertRule.objects.get(name=SHIPPED)
    assert rule.trigger == AlertRule.Trigger.VALUE_AT_RISK
    assert rule.is_active is False
    assert rule.max_p_alive == 0.5
    assert rule.min_revenue == Decimal("1000.00")
    assert rule.playbook.name == "Reactivation"
    assert rule.severity == "warning"


def test_inactive_it_fires_for_nobody(rep):
    a_prediction(CustomerFactory(owner=rep), fit=a_fit(), p_alive=0.1, clv="5000.00")
    assert alerts_evaluate(triggers=["value_at_risk"])["alerts"] == 0


def test_it_fires_below_max_p_alive_at_or_above_min_revenue_with_the_figures(rep, rule):
    fit = a_fit()
    slipping = CustomerFactory(owner=rep, name="Slipping")
    a_prediction(slipping, fit=fit, p_alive=0.3, clv="2000.00")
    exactly = CustomerFactory(owner=rep, name="Exactly the bar")
    a_prediction(exactly, fit=fit, p_alive=0.498, clv="1000.00")
    a_prediction(CustomerFactory(owner=rep), fit=fit, p_alive=0.6, clv="9000.00")  # alive
    a_prediction(CustomerFactory(owner=rep), fit=fit, p_alive=0.5, clv="9000.00")  # not below
    a_prediction(CustomerFactory(owner=rep), fit=fit, p_alive=0.1, clv="999.99")  # too small
    a_prediction(CustomerFactory(owner=rep), fit=fit, p_alive=None, clv=None)  # no purchase
    CustomerFactory(owner=rep)  # no prediction at all

    assert alerts_evaluate(triggers=["value_at_risk"])["alerts"] == 2

    alerts = {a.customer.name: a for a in Alert.objects.select_related("customer")}
    assert set(alerts) == {"Slipping", "Exactly the bar"}
    message = alerts["Slipping"].message
    assert message.startswith(
        "Predicted value at risk: P(alive) 0.30 below 0.50, predicted 365-day CLV 2,000.00 "
        ">= 1,000.00 (value at stake 1,400.00, prediction as of "
    )
    assert "p_alive 0.30: 4 purchase days, the last 180 days ago" in message
    # Rounded to two digits 0.498 would read "0.50 below 0.50".
    assert "P(alive) 0.498 below 0.50" in alerts["Exactly the bar"].message
    assert alerts["Slipping"].assignee == rep
    assert alerts["Slipping"].severity == "warning"
    plan = alerts["Slipping"].action_plan
    assert plan is not None
    assert plan.playbook == rule.playbook
    # Cooldown: a second evaluation adds nothing.
    assert alerts_evaluate(triggers=["value_at_risk"])["alerts"] == 0
    assert ActionPlan.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"max_p_alive": None, "min_revenue": Decimal("10")}, "max_p_alive"),
        ({"max_p_alive": 0.4, "min_revenue": None}, "min_revenue"),
        ({"max_p_alive": 1.5, "min_revenue": Decimal("10")}, "max_p_alive"),
    ],
)
def test_the_rule_needs_both_parameters_in_range(fields, named):
    with pytest.raises(ValidationError) as error:
        alert_rule_save(name="Mine", trigger="value_at_risk", **fields)
    assert named in error.value.message_dict


def test_the_api_names_a_missing_or_bad_parameter(admin_api):
    body = {"name": "At risk", "trigger": "value_at_risk", "min_revenue": "100.00"}
    response = admin_api.post("/api/alert-rules/", body, format="json")
    assert response.status_code == 400
    assert "max_p_alive" in response.json()
    response = admin_api.post("/api/alert-rules/", {**body, "max_p_alive": 2}, format="json")
    assert response.status_code == 400
    assert "max_p_alive" in response.json()
    response = admin_api.post("/api/alert-rules/", {**body, "max_p_alive": 0.35}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["max_p_alive"] == 0.35


def test_a_full_run_fits_then_the_rule_reads_the_fresh_predictions(rep):
    today = dt.date.today()
    make_buyers(150, as_of=today - dt.timedelta(days=1), seed=11, owner=rep)
    alert_rule_save(
        name="Any value at risk",
        trigger="value_at_risk",
        max_p_alive=0.5,
        min_revenue=Decimal("0.01"),
        severity="info",
    )
    summary = engagement_run(as_of=today)
    assert summary.predictions.startswith(f"as of {today}: converged")
    fired = Alert.objects.filter(rule__name="Any value at risk")
    assert fired.count() == summary.alerts_by_rule["Any value at risk"] > 0
    for alert in fired.select_related("customer__prediction"):
        assert alert.customer.prediction.p_alive < 0.5
