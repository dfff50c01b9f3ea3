"""The customer success admin: My work, alert actions, plan checklist, step completion, per role."""

import datetime as dt

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from customers.models import Interaction
from engagement.models.workflow import ActionPlan, Alert, AlertRule, Playbook
from engagement.workflow.plans import action_plan_start
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
ALERTS = reverse("admin:engagement_alert_changelist")
PLANS = reverse("admin:engagement_actionplan_changelist")
STEPS = reverse("admin:engagement_actionstep_changelist")
MY_WORK = reverse("admin:engagement_my_work")


def _alert(customer, assignee, severity="warning", rule="Slipped to at risk"):
    return Alert.objects.create(
        customer=customer,
        rule=AlertRule.objects.get(name=rule),
        severity=severity,
        message=f"Status changed for {customer.name}",
        assignee=assignee,
        fired_on=TODAY,
    )


@pytest.fixture
def plan(rep, cs):
    return action_plan_start(
        customer=CustomerFactory(owner=rep, name="Acme"),
        playbook=Playbook.objects.get(name="Churn save"),
        owner=cs,
        started_on=TODAY - dt.timedelta(days=3),
    )


def test_admin_index_links_my_work(client, cs):
    client.force_login(cs)
    assert MY_WORK in client.get(reverse("admin:index")).content.decode()


def test_my_work_lists_own_alerts_critical_first_and_due_steps(client, rep, cs, plan):
    _alert(CustomerFactory(owner=rep, name="Warned"), rep, "warning")
    _alert(CustomerFactory(owner=rep, name="Critical one"), rep, "critical", rule="Churned")
    _alert(CustomerFactory(owner=cs, name="Not mine"), cs)
    client.force_login(rep)
    page = client.get(MY_WORK).content.decode()
    assert page.index("Critical one") < page.index("Warned")
    assert "Not mine" not in page
    # The rep's call step (day 1) is overdue; the cs meeting is not theirs.
    assert "Call to learn the reason for leaving" in page
    assert "overdue" in page
    assert "Meet to present a save offer" not in page


@pytest.mark.parametrize("role", ["cs", "crm_admin"])
@pytest.mark.parametrize(
    ("action", "status"),
    [("acknowledge", "acknowledged"), ("resolve", "resolved"), ("dismiss", "dismissed")],
)
def test_full_roles_work_alerts_with_the_actions(client, request, rep, role, action, status):
    user = request.getfixturevalue(role)
    alerts = [_alert(CustomerFactory(owner=rep), rep) for _ in range(3)]
    client.force_login(user)
    response = client.post(
        ALERTS,
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [a.pk for a in alerts[:2]]},
        follow=True,
    )
    assert f"2 alert(s) {status}." in response.content.decode()
    assert sorted(Alert.objects.values_list("status", flat=True)) == sorted(
        ["open", status, status]
    )
    stored = Alert.objects.filter(status=status).first()
    if status == "acknowledged":
        assert stored.acknowledged_at is not None
    else:
        assert stored.resolved_by == user


def test_rep_reads_own_customers_alerts_without_actions(client, rep, other_rep):
    mine = _alert(CustomerFactory(owner=rep, name="Mine"), rep)
    _alert(CustomerFactory(owner=other_rep, name="Theirs"), other_rep)
    client.force_login(rep)
    response = client.get(ALERTS)
    page = response.content.decode()
    assert "Mine" in page
    assert "Theirs" not in page
    assert response.context["action_form"] is None  # no acknowledge/resolve/dismiss for reps
    client.post(ALERTS, {"action": "resolve", helpers.ACTION_CHECKBOX_NAME: [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "open"
    change = client.get(reverse("admin:engagement_alert_change", args=[mine.pk]))
    assert change.status_code == 200
    assert 'name="status"' not in change.content.decode()


def test_alert_list_query_count_is_flat(client, cs, rep, django_assert_max_num_queries):
    for _ in range(30):
        _alert(CustomerFactory(owner=rep), rep)
    client.force_login(cs)
    with django_assert_max_num_queries(12):
        assert client.get(ALERTS).status_code == 200


def test_plan_page_shows_checklist_and_progress(client, cs, plan, django_assert_max_num_queries):
    first = plan.steps.order_by("position").first()
    from engagement.workflow.plans import action_step_complete

    action_step_complete(step=first, user=cs)
    client.force_login(cs)
    page = client.get(
        reverse("admin:engagement_actionplan_change", args=[plan.pk])
    ).content.decode()
    assert "33% (1 of 3)" in page
    assert (
        reverse("admin:engagement_actionstep_complete", args=[plan.steps.get(position=1).pk])
        in page
    )
    for _ in range(20):
        action_plan_start(
            customer=CustomerFactory(), playbook=Playbook.objects.get(name="Onboarding")
        )
    with django_assert_max_num_queries(12):
        assert "% (" in client.get(PLANS).content.decode()


@pytest.mark.parametrize("role", ["cs", "crm_admin"])
def test_full_roles_start_a_plan_from_the_customer_page(client, request, cs, rep, role):
    customer = CustomerFactory(owner=rep)
    client.force_login(request.getfixturevalue(role))
    change = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    start_url = reverse("admin:engagement_actionplan_start", args=[customer.pk])
    assert start_url in change.content.decode()
    playbook = Playbook.objects.get(name="Onboarding")
    response = client.post(
        start_url, {"playbook": playbook.pk, "started_on": "2026-01-05", "objective": "Go live"}
    )
    plan = ActionPlan.objects.get(customer=customer)
    assert response.url == reverse("admin:engagement_actionplan_change", args=[plan.pk])
    assert plan.owner == cs
    assert [s.due_on for s in plan.steps.order_by("position")] == [
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 19),
    ]
    again = client.post(start_url, {"playbook": playbook.pk, "started_on": "2026-01-06"})
    assert "already has an active plan" in again.content.decode()


def test_rep_cannot_start_a_plan(client, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    url = reverse("admin:engagement_actionplan_start", args=[customer.pk])
    assert (
        url
        not in client.get(
            reverse("admin:customers_customer_change", args=[customer.pk])
        ).content.decode()
    )
    assert client.get(url).status_code == 403


def test_rep_completes_own_call_step_and_logs_the_call(client, rep, other_rep, plan):
    call = plan.steps.get(kind="call")
    url = reverse("admin:engagement_actionstep_complete", args=[call.pk])
    client.force_login(other_rep)
    assert client.post(url, {"status": "done"}).status_code == 403
    client.force_login(rep)
    response = client.post(url, {"status": "done", "log_interaction": "on", "outcome": "Stays"})
    assert response.url == MY_WORK
    call.refresh_from_db()
    assert (call.status, call.completed_by) == ("done", rep)
    assert Interaction.objects.get(customer=plan.customer, kind="call").direction == "outbound"
    meeting = plan.steps.get(kind="meeting")  # assigned to customer success
    assert (
        client.get(reverse("admin:engagement_actionstep_complete", args=[meeting.pk])).status_code
        == 403
    )


def test_step_actions_complete_only_what_the_user_may(client, rep, cs, plan):
    client.force_login(rep)
    steps = list(plan.steps.order_by("position"))
    response = client.post(
        STEPS,
        {"action": "mark_done", helpers.ACTION_CHECKBOX_NAME: [s.pk for s in steps]},
        follow=True,
    )
    assert "1 step(s) done." in response.content.decode()
    client.force_login(cs)
    client.post(
        STEPS, {"action": "mark_skipped", helpers.ACTION_CHECKBOX_NAME: [s.pk for s in steps]}
    )
    plan.refresh_from_db()
    assert plan.status == "completed"


@pytest.mark.parametrize(("role", "can_add"), [("rep", False), ("cs", False), ("crm_admin", True)])
def test_only_admin_edits_playbooks_and_alert_rules(client, request, role, can_add):
    client.force_login(request.getfixturevalue(role))
    for model in ("playbook", "alertrule"):
        assert client.get(reverse(f"admin:engagement_{model}_changelist")).status_code == 200
        add = client.get(reverse(f"admin:engagement_{model}_add"))
        assert add.status_code == (200 if can_add else 403)


def test_alert_rule_form_names_the_missing_parameter(client, crm_admin):
    client.force_login(crm_admin)
    response = client.post(
        reverse("admin:engagement_alertrule_add"),
        {"name": "Spike", "trigger": "support_spike", "severity": "warning", "cooldown_days": 30},
    )
    assert response.status_code == 200
    assert "count" in response.context["adminform"].form.errors


def test_my_work_of_customer_success_shows_alerts_of_the_plans_they_own(client, rep, cs, plan):
    alert = _alert(plan.customer, rep, "critical", rule="Churned")
    alert.action_plan = plan
    alert.save()
    client.force_login(cs)
    page = client.get(MY_WORK).content.decode()
    assert "Status changed for Acme" in page
    assert "Meet to present a save offer" in page  # theirs, due in two days
    assert "Call to learn the reason for leaving" not in page  # the rep's step
