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
