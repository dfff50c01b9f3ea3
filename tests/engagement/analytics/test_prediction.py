"""Predictions across customers: predicted CLV by status and type, value at risk by owner,
predicted CLV of active versus non-active customers, and their dashboard panels."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from engagement.analytics.board import dashboard
from engagement.analytics.periods import Period, Segment
from engagement.analytics.prediction import (
    predicted_clv_by_activity,
    predicted_value,
    value_at_risk_by_owner,
)
from engagement.models import EngagementResult, RuleSet
from tests.engagement.prediction_data import a_fit, a_prediction
from tests.factories import CustomerFactory, InteractionFactory, UserFactory

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/engagement/dashboard/"


def _result(customer, status, **types):
    rules = RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
    EngagementResult.objects.create(
        customer=customer,
        status=status,
        rule_set=rules,
        as_of=timezone.localdate(),
        computed_at=timezone.now(),
        **types,
    )


@pytest.fixture
def base():
    """Ann's two customers, Bob's one, one without owner, one without prediction, one
    archived (never counted)."""
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    fit = a_fit()
    rows = [
        # owner, status, types, p_alive, clv
        (ann, "active", {"type_loyal": True}, 0.9, "1000.00"),
        (ann, "at_risk", {"type_loyal": True, "type_support": True}, 0.3, "200.00"),
        (bob, "churned", {}, 0.1, "50.50"),
        (None, "active", {"type_recent_buyer": True}, 0.45, "80.00"),
    ]
    customers = []
    for owner, status, types, p, clv in rows:
        customer = CustomerFactory(owner=owner)
        _result(customer, status, **types)
        a_prediction(customer, fit=fit, p_alive=p, clv=clv)
        customers.append(customer)
    unpredicted = CustomerFactory(owner=bob)
    _result(unpredicted, "new")
    archived = CustomerFactory(owner=bob, archived_at=timezone.now())
    _result(archived, "churned")
    a_prediction(archived, fit=fit, p_alive=0.05, clv="9999.00")
    return {"ann": ann, "bob": bob, "fit": fit, "customers": customers}


def test_predicted_value_by_status_type_and_at_risk(base):
    value = predicted_value()
    assert value["total"] == Decimal("1330.50")
    assert value["predicted"] == 4
    assert value["by_status"]["active"] == {"customers": 2, "predicted_clv": Decimal("1080.00")}
    assert value["by_status"]["at_risk"] == {"customers": 1, "predicted_clv": Decimal("200.00")}
    assert value["by_status"]["churned"] == {"customers": 1, "predicted_clv": Decimal("50.50")}
    assert value["by_status"]["new"] == {"customers": 1, "predicted_clv": Decimal("0.00")}
    assert value["by_type"]["loyal"]["predicted_clv"] == Decimal("1200.00")
    assert value["by_type"]["support"]["predicted_clv"] == Decimal("200.00")
    assert value["by_type"]["recent_buyer"]["predicted_clv"] == Decimal("80.00")
    assert value["by_type"]["contact"] == {"customers": 0, "predicted_clv": Decimal("0.00")}
    # P(alive) below 0.5: 200 + 50.50 + 80 (the archived 9,999 is not counted).
    assert value["at_risk"] == {"customers": 3, "predicted_clv": Decimal("330.50")}
    assert value["model"] == base["fit"]


def test_value_at_risk_by_owner_largest_first(base):
    rows = value_at_risk_by_owner()
    assert [(r["owner"], r["customers"], r["predicted_clv"]) for r in rows] == [
        ("ann", 1, Decimal("200.00")),
        ("", 1, Decimal("80.00")),
        ("bob", 1, Decimal("50.50")),
    ]
    mine = value_at_risk_by_owner(segment=Segment(owner_id=base["bob"].pk))
    assert [(r["owner"], r["predicted_clv"]) for r in mine] == [("bob", Decimal("50.50"))]


def test_predicted_clv_of_active_and_non_active_customers(base):
    ann_active, _ann_at_risk, *_ = base["customers"]
    today = timezone.localdate()
    InteractionFactory(customer=ann_active, occurred_at=timezone.now() - dt.timedelta(days=2))
    sums = predicted_clv_by_activity(end=today)
    assert sums == {"active": Decimal("1000.00"), "non_active": Decimal("330.50")}
    # On the dashboard: per customer of each group (3 non-active customers with a
    # prediction, and the one without: 330.50 / 4).
    board = dashboard(period=Period.parse(end=today.isoformat()))
    groups = {g["group"]: g for g in board.comparison}
    assert groups["active"]["customers"] == 1
    assert groups["active"]["predicted_clv"] == Decimal("1000.00")
    assert groups["non_active"]["customers"] == 4
    assert groups["non_active"]["predicted_clv"] == Decimal("82.62")  # 82.625, half to even


def test_without_a_model_the_figures_are_zero_and_the_panels_say_so(client, rep):
    CustomerFactory()
    value = predicted_value()
    assert value["total"] == Decimal("0.00")
    assert value["model"] is None
    assert value_at_risk_by_owner() == []
    client.force_login(rep)
    html = client.get(DASHBOARD, {"owner": "all"}).content.decode()
    assert "No prediction model fitted yet" in html


def test_the_dashboard_panels_show_the_predictions(client, cs, base):
    client.force_login(cs)
    response = client.get(DASHBOARD, {"owner": "all"})
    assert response.status_code == 200
    panels = {p.id: p for p in response.context["panels"]}
    assert panels["predicted-clv-status"].rows[1] == ["Active", 2, Decimal("1080.00")]
    assert ["Loyal", 2, Decimal("1200.00")] in panels["predicted-clv-type"].rows
    assert panels["value-at-risk"].rows == [
        ["ann", 1, Decimal("200.00")],
        ["No owner", 1, Decimal("80.00")],
        ["bob", 1, Decimal("50.50")],
    ]
    assert "3, with a predicted 365-day CLV of 330.50" in panels["value-at-risk"].note
    comparison = {row[0]: row[1:] for row in panels["comparison"].rows}
    assert "Predicted 365-day CLV per customer" in comparison
    # The CSV of a panel holds its numbers.
    text = client.get(DASHBOARD, {"owner": "all", "csv": "value-at-risk"}).content.decode()
    assert list(csv.reader(io.StringIO(text)))[1] == ["ann", "1", "200.00"]


def test_a_rep_sees_the_value_at_risk_of_their_own_accounts(client, base):
    rep = UserFactory(username="repx", role="sales_rep")
    for customer in base["customers"][:2]:
        customer.owner = rep
        customer.save()
    client.force_login(rep)
    panels = {p.id: p for p in client.get(DASHBOARD).context["panels"]}
    assert panels["value-at-risk"].rows == [["repx", 1, Decimal("200.00")]]
