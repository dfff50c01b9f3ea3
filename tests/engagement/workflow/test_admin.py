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


def test_my_work_lights_no_model_in_the_sidebar_and_its_old_address_redirects(client, cs):
    client.force_login(cs)
    page = client.get(MY_WORK).content.decode()
    assert "My work" in page
    assert 'id="nav-sidebar"' in page
    assert "current-model" not in page  # was "Action plans", My work lived under its address
    old = client.get(reverse("admin:engagement_actionplan_changelist") + "my-work/")
    assert old.status_code == 302
    assert old["Location"] == MY_WORK


def test_plan_page_numbers_steps_from_one(client, cs, plan):
    client.force_login(cs)
    page = client.get(reverse("admin:engagement_actionplan_change", args=[plan.pk]))
    html = page.content.decode()
    assert [s.position for s in plan.steps.order_by("position")] == [0, 1, 2]
    numbers = [
        html.split('<td class="field-step">')[n].split("</td>")[0].strip() for n in (1, 2, 3)
    ]
    assert numbers == ["<p>1</p>", "<p>2</p>", "<p>3</p>"]


def _playbook_post(playbook, steps, **extra):
    data = {
        "name": playbook.name,
        "objective": playbook.objective,
        "is_active": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(sum(1 for s in steps if s.get("id"))),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for n, step in enumerate(steps):
        for key, value in step.items():
            data[f"steps-{n}-{key}"] = value
        data[f"steps-{n}-playbook"] = playbook.pk
    return data


def test_playbook_steps_are_shown_and_typed_from_one(client, crm_admin):
    playbook = Playbook.objects.get(name="Onboarding")
    url = reverse("admin:engagement_playbook_change", args=[playbook.pk])
    client.force_login(crm_admin)
    form = client.get(url).context["inline_admin_formsets"][0].formset.forms[0]
    assert form["position"].value() == 1  # stored 0
    existing = list(playbook.steps.order_by("position", "pk"))
    steps = [
        {
            "id": s.pk,
            "position": str(len(existing) - n),  # reverse the order, counting from 1
            "title": s.title,
            "kind": s.kind,
            "offset_days": s.offset_days,
            "assignee_role": s.assignee_role,
        }
        for n, s in enumerate(existing)
    ]
    blank = {
        "position": "",
        "title": "Follow up",
        "kind": "call",
        "offset_days": "30",
        "assignee_role": existing[0].assignee_role,
    }
    response = client.post(url, _playbook_post(playbook, [*steps, blank]))
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    titles = list(playbook.steps.order_by("position").values_list("title", flat=True))
    assert titles == [*[s.title for s in reversed(existing)], "Follow up"]  # blank: after the last
    assert list(playbook.steps.order_by("position").values_list("position", flat=True)) == list(
        range(len(existing) + 1)
    )
    zero = client.post(url, _playbook_post(playbook, [{**steps[0], "position": "0"}]))
    assert zero.status_code == 200  # step numbers start at 1


def test_a_rep_completes_their_own_step_from_its_page(client, rep, cs, plan):
    mine = plan.steps.get(assignee=rep)
    theirs = plan.steps.exclude(assignee=rep).first()
    complete = reverse("admin:engagement_actionstep_complete", args=[mine.pk])
    client.force_login(rep)
    page = client.get(reverse("admin:engagement_actionstep_change", args=[mine.pk]))
    assert complete in page.content.decode()
    client.force_login(cs)
    other = client.get(reverse("admin:engagement_actionstep_change", args=[theirs.pk]))
    assert reverse("admin:engagement_actionstep_complete", args=[theirs.pk]) in (
        other.content.decode()
    )
    from engagement.workflow.plans import action_step_complete

    action_step_complete(step=mine, user=rep)
    client.force_login(rep)
    done = client.get(reverse("admin:engagement_actionstep_change", args=[mine.pk]))
    assert complete not in done.content.decode()
