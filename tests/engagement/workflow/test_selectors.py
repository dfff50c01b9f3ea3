"""Reads of the workflow: My work puts the most urgent alerts first, whatever their age."""

import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Customer
from engagement.models.workflow import Alert, AlertRule
from engagement.workflow.selectors import MY_WORK_ROWS, my_work

pytestmark = pytest.mark.django_db


def test_an_older_critical_alert_is_not_dropped_by_newer_warnings(rep):
    today = timezone.localdate()
    rule = AlertRule.objects.order_by("pk").first()
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {n}", owner=rep) for n in range(MY_WORK_ROWS + 1)
    )
    Alert.objects.bulk_create(
        Alert(
            customer=customer,
            rule=rule,
            severity=AlertRule.Severity.CRITICAL if n == 0 else AlertRule.Severity.WARNING,
            message="",
            assignee=rep,
            fired_on=today,
        )
        for n, customer in enumerate(customers)
    )
    critical = Alert.objects.get(severity=AlertRule.Severity.CRITICAL)
    # The critical alert is the oldest: newest first alone would cut it off.
    Alert.objects.filter(pk=critical.pk).update(created_at=timezone.now() - dt.timedelta(days=30))

    alerts, _steps = my_work(user=rep, today=today)

    assert len(alerts) == MY_WORK_ROWS
    assert alerts[0] == critical
    assert all(a.severity == AlertRule.Severity.WARNING for a in alerts[1:])


def test_my_work_orders_by_severity_then_newest(rep):
    today = timezone.localdate()
    rules = list(AlertRule.objects.order_by("pk")[:3])
    customer = Customer.objects.create(name="Acme", owner=rep)
    made = [
        Alert.objects.create(
            customer=customer,
            rule=rule,
            severity=severity,
            message="",
            assignee=rep,
            fired_on=today,
        )
        for rule, severity in zip(
            rules,
            [AlertRule.Severity.INFO, AlertRule.Severity.CRITICAL, AlertRule.Severity.WARNING],
            strict=True,
        )
    ]
    alerts, _steps = my_work(user=rep, today=today)
    assert alerts == [made[1], made[2], made[0]]


def test_within_a_severity_the_largest_value_at_stake_comes_first_before_the_limit(
    rep, monkeypatch
):
    from engagement.workflow import selectors
    from tests.engagement.prediction_data import a_fit, a_prediction

    today = timezone.localdate()
    rule = AlertRule.objects.order_by("pk").first()
    fit = a_fit()
    # name: (severity, p_alive, predicted CLV); value at stake = CLV x (1 - p_alive).
    cases = {
        "Small stake": ("warning", 0.5, "100.00"),  # 50
        "Big stake": ("warning", 0.2, "1000.00"),  # 800
        "Sure to stay": ("warning", 0.99, "4000.00"),  # 40: the largest CLV, yet little at stake
        "No prediction": ("warning", None, None),  # 0
        "Critical, small": ("critical", 0.9, "10.00"),  # 1
    }
    alerts = {}
    for age, (name, (severity, p_alive, clv)) in enumerate(cases.items()):
        customer = Customer.objects.create(name=name, owner=rep)
        if p_alive is not None:
            a_prediction(customer, fit=fit, p_alive=p_alive, clv=clv)
        alert = Alert.objects.create(
            customer=customer, rule=rule, severity=severity, assignee=rep, fired_on=today
        )
        # The big stake is the oldest alert: newest first would put it last.
        created = timezone.now() - dt.timedelta(days=10 if name == "Big stake" else age)
        Alert.objects.filter(pk=alert.pk).update(created_at=created)
        alerts[name] = alert

    work, _ = my_work(user=rep, today=today)
    assert [a.customer.name for a in work] == [
        "Critical, small",
        "Big stake",
        "Small stake",
        "Sure to stay",
        "No prediction",
    ]
    assert work[1].value_at_stake == pytest.approx(800.0)
    assert work[-1].value_at_stake == 0.0

    # The order is the query's: a limit keeps the most at stake, whatever their age.
    monkeypatch.setattr(selectors, "MY_WORK_ROWS", 2)
    limited, _ = selectors.my_work(user=rep, today=today)
    assert [a.customer.name for a in limited] == ["Critical, small", "Big stake"]
