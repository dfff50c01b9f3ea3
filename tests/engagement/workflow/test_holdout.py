"""Holdouts on alert rules: validation, the deterministic draw, held-out alerts' place."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagement.engine.rule_sets import rule_set_ensure
from engagement.models.results import EngagementResult
from engagement.models.workflow import ActionPlan, Alert, AlertRule, Playbook
from engagement.workflow.alerts import alert_update, alerts_evaluate, alerts_set_status
from engagement.workflow.outcome_stats import draw_arm
from engagement.workflow.selectors import my_work
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _rule(**fields):
    AlertRule.objects.update(is_active=False)  # only the rule under test fires
    defaults = {
        "name": "Held-out high value",
        "trigger": "high_value_inactive",
        "min_revenue": Decimal("1000.00"),
        "playbook": Playbook.objects.get(name="Reactivation"),
        "holdout_percent": 50,
    }
    return AlertRule.objects.create(**{**defaults, **fields})


def _inactive_customers(n, owner=None):
    customers = [CustomerFactory(owner=owner) for _ in range(n)]
    EngagementResult.objects.bulk_create(
        EngagementResult(
            customer=c,
            status="inactive",
            revenue_365=Decimal("5000.00"),
            rule_set=rule_set_ensure(),
            as_of=TODAY,
            computed_at=timezone.now(),
        )
        for c in customers
    )
    return customers


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"holdout_percent": 51}, "holdout_percent"),
        ({"holdout_percent": -1}, "holdout_percent"),
        ({"outcome_window_days": 0}, "outcome_window_days"),
    ],
)
def test_rule_refuses_a_holdout_over_half_or_an_empty_window(fields, field):
    rule = AlertRule(name="r", trigger="subscription_cancelled", **fields)
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert field in error.value.message_dict


def test_rule_defaults_no_holdout_and_a_sixty_day_window():
    rule = AlertRule.objects.create(name="r", trigger="subscription_cancelled")
    assert (rule.holdout_percent, rule.outcome_window_days) == (0, 60)


def test_database_refuses_a_holdout_over_half_and_a_control_alert_left_open():
    rule = AlertRule.objects.create(name="r", trigger="subscription_cancelled")
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertRule.objects.filter(pk=rule.pk).update(holdout_percent=80)
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            customer=customer,
            rule=rule,
            severity="info",
            message="x",
            fired_on=TODAY,
            arm="control",
        )


def test_held_out_alerts_follow_the_draw_start_no_plan_and_belong_to_nobody(rep):
    rule = _rule()
    customers = _inactive_customers(120, owner=rep)

    alerts_evaluate(triggers=["high_value_inactive"])

    alerts = {a.customer_id: a for a in Alert.objects.filter(rule=rule)}
    assert len(alerts) == 120
    for customer in customers:
        alert = alerts[customer.pk]
        expected = draw_arm(
            rule_or_campaign_key=f"rule:{rule.pk}",
            customer_id=customer.pk,
            day=TODAY,
            holdout_percent=50,
        )
        assert alert.arm == expected
        if expected == "control":
            assert (alert.status, alert.assignee, alert.action_plan) == ("held_out", None, None)
        else:
            assert (alert.status, alert.assignee) == ("open", rep)
            assert alert.action_plan is not None
    held_out = [a for a in alerts.values() if a.arm == "control"]
    assert 20 < len(held_out) < 100  # about half
    assert not ActionPlan.objects.filter(customer__in=[a.customer_id for a in held_out]).exists()
    work, _ = my_work(user=rep, today=TODAY)
    assert {a.pk for a in work} == {a.pk for a in alerts.values() if a.arm == "treatment"}


def test_no_holdout_means_every_alert_is_treatment(rep):
    _rule(holdout_percent=0)
    _inactive_customers(40, owner=rep)
    alerts_evaluate(triggers=["high_value_inactive"])
    assert set(Alert.objects.values_list("arm", "status").distinct()) == {("treatment", "open")}


def test_a_rerun_never_redraws_even_when_the_holdout_changed(rep):
    # Without a cooldown nothing but the stored alerts keeps a held-out customer out.
    rule = _rule(cooldown_days=0)
    _inactive_customers(60, owner=rep)
    alerts_evaluate(triggers=["high_value_inactive"])
    before = dict(Alert.objects.values_list("customer_id", "arm"))
    plans = ActionPlan.objects.count()
    assert "control" in before.values()

    rule.holdout_percent = 0  # a fresh draw would now make everybody treatment
    rule.save()
    alerts_evaluate(triggers=["high_value_inactive"])

    assert dict(Alert.objects.values_list("customer_id", "arm")) == before
    assert ActionPlan.objects.count() == plans
    assert not Alert.objects.filter(arm="control").exclude(status="held_out").exists()


def test_a_held_out_alert_counts_for_the_cooldown(rep):
    rule = _rule(holdout_percent=50, cooldown_days=30)
    _inactive_customers(40, owner=rep)
    fired = TODAY - dt.timedelta(days=10)
    alerts_evaluate(triggers=["high_value_inactive"], today=fired)
    control = set(Alert.objects.filter(arm="control").values_list("customer_id", flat=True))
    assert control

    assert alerts_evaluate(triggers=["high_value_inactive"])["alerts"] == 0

    # Past the cooldown the held-out customers fire again, with a draw of the new day.
    later = fired + dt.timedelta(days=31)
    alerts_evaluate(triggers=["high_value_inactive"], today=later)
    again = Alert.objects.filter(rule=rule, fired_on=later)
    assert control <= set(again.values_list("customer_id", flat=True))
    for alert in again.filter(customer__in=control):
        assert alert.arm == draw_arm(
            rule_or_campaign_key=f"rule:{rule.pk}",
            customer_id=alert.customer_id,
            day=later,
            holdout_percent=50,
        )


def test_held_out_is_never_set_nor_left_by_hand(rep, cs):
    _rule(holdout_percent=50)
    _inactive_customers(40, owner=rep)
    alerts_evaluate(triggers=["high_value_inactive"])
    held_out = Alert.objects.filter(status="held_out").first()
    treated = Alert.objects.filter(status="open").first()

    with pytest.raises(ValidationError) as error:
        alert_update(alert=held_out, user=cs, status="open")
    assert "status" in error.value.message_dict
    with pytest.raises(ValidationError):
        alert_update(alert=treated, user=cs, status="held_out")

    changed = alerts_set_status(alerts=Alert.objects.all(), user=cs, status="dismissed")
    assert changed == Alert.objects.filter(arm="treatment").count()
    assert Alert.objects.filter(arm="control").exclude(status="held_out").count() == 0
