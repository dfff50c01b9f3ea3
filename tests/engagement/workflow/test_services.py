"""Alerts per trigger (with figures), cooldown, idempotence, plans from playbooks, reminders."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import services as customer_services
from customers.models import Interaction
from engagement.engine.rule_sets import rule_set_ensure
from engagement.models.results import EngagementResult, StatusHistory, TypeChange
from engagement.models.workflow import ActionPlan, ActionStep, Alert, AlertRule, Playbook
from engagement.workflow.alerts import alert_update, alerts_evaluate
from engagement.workflow.plans import action_plan_start, action_step_complete
from engagement.workflow.reminders import overdue_steps_remind
from tests.factories import CustomerFactory, InteractionFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _result(customer, status="at_risk", **fields):
    defaults = {
        "status": status,
        "rule_set": rule_set_ensure(),
        "as_of": TODAY,
        "computed_at": timezone.now(),
        "last_activity_on": TODAY - dt.timedelta(days=75),
        "revenue_365": Decimal("1200.00"),
    }
    defaults.update(fields)
    return EngagementResult.objects.create(customer=customer, **defaults)


def _moved(customer, from_status="active", to_status="at_risk"):
    _result(customer, status=to_status)
    StatusHistory.objects.create(
        customer=customer,
        from_status=from_status,
        to_status=to_status,
        as_of=TODAY,
        changed_at=timezone.now(),
        rule_set=rule_set_ensure(),
    )


def test_defaults_ship_six_playbooks_and_rules_for_every_trigger():
    names = set(Playbook.objects.values_list("name", flat=True))
    assert {
        "Reactivation",
        "Churn save",
        "Onboarding",
        "Passive-subscriber adoption",
        "Support escalation",
        "Loyalty thanks",
    } <= names
    assert set(AlertRule.objects.values_list("trigger", flat=True)) >= {
        "status_changed",
        "type_gained",
        "subscription_cancelled",
        "support_spike",
        "high_value_inactive",
    }


def test_status_change_alerts_the_owner_with_figures_and_starts_the_playbook(rep, cs):
    customer = CustomerFactory(owner=rep)
    _moved(customer)

    alerts_evaluate(triggers=["status_changed"])

    alert = Alert.objects.get(customer=customer)
    assert alert.rule.name == "Slipped to at risk"
    assert alert.assignee == rep
    assert "from active to at_risk" in alert.message
    assert "75 days ago" in alert.message
    assert "1200.00" in alert.message
    plan = alert.action_plan
    assert plan.playbook.name == "Reactivation"
    assert plan.owner == cs
    assert plan.steps.count() == 4


def test_first_classification_is_not_a_status_change(rep):
    customer = CustomerFactory(owner=rep)
    _moved(customer, from_status="")
    alerts_evaluate(triggers=["status_changed"])
    assert not Alert.objects.exists()


def test_a_move_already_undone_alerts_nobody(rep):
    customer = CustomerFactory(owner=rep)
    _moved(customer)
    EngagementResult.objects.filter(customer=customer).update(status="active")
    alerts_evaluate(triggers=["status_changed"])
    assert not Alert.objects.exists()


def test_type_gained_and_lost(cs):
    gained, lost = CustomerFactory(), CustomerFactory()
    _result(gained, status="active", type_loyal=True)
    _result(lost, status="active", type_support=False)
    for customer, kind, flag in ((gained, "loyal", True), (lost, "support", False)):
        TypeChange.objects.create(
            customer=customer,
            customer_type=kind,
            gained=flag,
            as_of=TODAY,
            changed_at=timezone.now(),
            rule_set=rule_set_ensure(),
        )
    AlertRule.objects.create(name="Lost support", trigger="type_lost", customer_type="support")

    alerts_evaluate(triggers=["type_gained", "type_lost"])

    assert "Became loyal" in Alert.objects.get(customer=gained).message
    unassigned = Alert.objects.get(customer=lost)
    assert "No longer support-heavy" in unassigned.message
    assert unassigned.assignee == cs  # no owner: a customer success user


def test_subscription_cancelled_through_the_service_alerts_at_once(
    rep, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep)
    subscription = SubscriptionFactory(customer=customer, product__name="Analytics")
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.subscription_update(
            subscription=subscription, status="cancelled", ended_at=TODAY
        )
    alert = Alert.objects.get(customer=customer, rule__trigger="subscription_cancelled")
    assert "Analytics" in alert.message
    assert "0 live subscription(s) left" in alert.message


def test_support_spike_counts_within_the_window(rep):
    spiking, calm = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    for _ in range(5):
        InteractionFactory(customer=spiking, kind="support", occurred_at=timezone.now())
    for days in (1, 2, 3, 4, 30):  # one of five is outside the 14-day window
        InteractionFactory(
            customer=calm, kind="support", occurred_at=timezone.now() - dt.timedelta(days=days)
        )
    alerts_evaluate(triggers=["support_spike"])
    alert = Alert.objects.get()
    assert alert.customer == spiking
    assert "5 support interactions in the last 14 days (threshold 5)" in alert.message


def test_high_value_inactive_needs_revenue_and_a_slipping_status(rep):
    rich = CustomerFactory(owner=rep)
    _result(rich, status="inactive", revenue_365=Decimal("8000.00"))
    _result(CustomerFactory(owner=rep), status="inactive", revenue_365=Decimal("100.00"))
    _result(CustomerFactory(owner=rep), status="active", revenue_365=Decimal("9000.00"))
    alerts_evaluate(triggers=["high_value_inactive"])
    alert = Alert.objects.get()
    assert alert.customer == rich
    assert alert.severity == "critical"
    assert "8000.00 >= 5000.00" in alert.message


def test_evaluating_twice_creates_nothing_new(rep):
    customer = CustomerFactory(owner=rep)
    _result(customer, status="churned", revenue_365=Decimal("8000.00"))
    alerts_evaluate()
    counts = (Alert.objects.count(), ActionPlan.objects.count(), ActionStep.objects.count())
    assert counts[0] == 1
    assert alerts_evaluate()["alerts"] == 0
    assert (Alert.objects.count(), ActionPlan.objects.count(), ActionStep.objects.count()) == counts


def test_cooldown_holds_after_the_alert_is_resolved(rep, cs):
    customer = CustomerFactory(owner=rep)
    _result(customer, status="churned", revenue_365=Decimal("8000.00"))
    alerts_evaluate(triggers=["high_value_inactive"], as_of=TODAY - dt.timedelta(days=10))
    alert = Alert.objects.get()
    alert_update(alert=alert, user=cs, status="resolved")
    assert alerts_evaluate(triggers=["high_value_inactive"])["alerts"] == 0
    # After the 30 days of cooldown it may fire again.
    later = TODAY + dt.timedelta(days=25)
    assert alerts_evaluate(triggers=["high_value_inactive"], as_of=later)["alerts"] == 1


def test_database_refuses_duplicate_alerts_and_active_plans(rep):
    customer = CustomerFactory(owner=rep)
    rule = AlertRule.objects.get(name="Churned")
    Alert.objects.create(customer=customer, rule=rule, severity="info", message="x", fired_on=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            customer=customer, rule=rule, severity="info", message="x", fired_on=TODAY
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # a second open one, another day
        Alert.objects.create(
            customer=customer,
            rule=rule,
            severity="info",
            message="x",
            fired_on=TODAY - dt.timedelta(days=1),
        )
    playbook = Playbook.objects.get(name="Churn save")
    ActionPlan.objects.create(customer=customer, playbook=playbook, started_on=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionPlan.objects.create(customer=customer, playbook=playbook, started_on=TODAY)


def test_plan_due_dates_follow_the_offsets_and_assignee_roles(rep, cs):
    customer = CustomerFactory(owner=rep)
    start = dt.date(2026, 3, 2)
    plan = action_plan_start(
        customer=customer, playbook=Playbook.objects.get(name="Reactivation"), started_on=start
    )
    steps = list(plan.steps.order_by("position"))
    assert [s.due_on for s in steps] == [start + dt.timedelta(days=d) for d in (0, 2, 5, 14)]
    assert [s.assignee for s in steps] == [cs, rep, rep, cs]
    assert plan.due_on == start + dt.timedelta(days=14)
    with pytest.raises(Exception, match="already has an active plan"):
        action_plan_start(customer=customer, playbook=plan.playbook)


def test_plan_completes_when_the_last_open_step_closes(rep, cs):
    plan = action_plan_start(
        customer=CustomerFactory(owner=rep), playbook=Playbook.objects.get(name="Loyalty thanks")
    )
    first, last = plan.steps.order_by("position")
    action_step_complete(step=first, user=rep)
    plan.refresh_from_db()
    assert plan.status == "active"
    action_step_complete(step=last, user=cs, status="skipped", outcome="Not needed")
    plan.refresh_from_db()
    assert plan.status == "completed"
    assert plan.completed_at is not None


def test_completing_a_call_step_logs_an_outbound_call(rep):
    customer = CustomerFactory(owner=rep)
    plan = action_plan_start(customer=customer, playbook=Playbook.objects.get(name="Churn save"))
    call = plan.steps.get(kind="call")
    action_step_complete(step=call, user=rep, log_interaction=True, outcome="Will stay")
    interaction = Interaction.objects.get(customer=customer)
    assert (interaction.kind, interaction.direction) == ("call", "outbound")
    assert interaction.notes == "Will stay"
    assert interaction.created_by == rep


def test_overdue_steps_are_reminded_once_a_day(rep, cs):
    plan = action_plan_start(
        customer=CustomerFactory(owner=rep),
        playbook=Playbook.objects.get(name="Churn save"),
        started_on=TODAY - dt.timedelta(days=6),
    )
    # Due on days 1 and 5: both overdue; the day-10 step is not.
    assert overdue_steps_remind(today=TODAY) == 2
    assert overdue_steps_remind(today=TODAY) == 0
    assert sorted(m.to[0] for m in mail.outbox) == [cs.email, rep.email]
    assert "Overdue" in mail.outbox[0].subject
    assert overdue_steps_remind(today=TODAY + dt.timedelta(days=1)) == 2
    action_step_complete(step=plan.steps.get(position=0), user=rep)
    assert overdue_steps_remind(today=TODAY + dt.timedelta(days=2)) == 1


def test_recording_support_interactions_evaluates_the_spike_rule(
    rep, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            customer_services.interaction_record(customer=customer, kind="support")
    alert = Alert.objects.get(customer=customer)
    assert alert.rule.trigger == "support_spike"
    assert alert.action_plan.playbook.name == "Support escalation"


def test_daily_reminder_is_a_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="engagement.workflow_tasks.remind_overdue_steps")
    assert (task.crontab.hour, task.crontab.minute) == ("8", "0")


def test_reminder_task_sends_through_django_mail(rep):
    from engagement.tasks import remind_overdue_steps

    action_plan_start(
        customer=CustomerFactory(owner=rep),
        playbook=Playbook.objects.get(name="Loyalty thanks"),
        started_on=TODAY - dt.timedelta(days=10),
    )
    assert remind_overdue_steps.delay().get() == 2
    assert [m.to for m in mail.outbox] == [[rep.email], [rep.email]]


def test_evaluation_queries_do_not_grow_with_the_alerts(rep, django_assert_max_num_queries):
    AlertRule.objects.filter(name="Slipped to at risk").update(playbook=None)
    for _ in range(25):
        _moved(CustomerFactory(owner=rep))
    # Five status rules, a few queries each (savepoint, match, figures, insert, re-read).
    with django_assert_max_num_queries(20):
        assert alerts_evaluate(triggers=["status_changed"])["alerts"] == 25
    assert "from active to at_risk" in Alert.objects.first().message
