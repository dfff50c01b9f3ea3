"""playbooks/, alert-rules/, alerts/, action-plans/, action-steps/{id}/: shapes and every role."""

import datetime as dt

import pytest
from django.utils import timezone

from engagement.models.workflow import ActionPlan, Alert, AlertRule, Playbook
from engagement.workflow.plans import action_plan_start, action_step_complete
from tests.factories import CustomerFactory
from tests.fixtures.api import client_for

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def plan(rep, cs):
    customer = CustomerFactory(owner=rep)
    return action_plan_start(
        customer=customer, playbook=Playbook.objects.get(name="Churn save"), owner=cs
    )


def _alert(customer, rule_name="Churned", **fields):
    return Alert.objects.create(
        customer=customer,
        rule=AlertRule.objects.get(name=rule_name),
        severity="critical",
        message="Status changed",
        fired_on=TODAY,
        **fields,
    )


def test_playbooks_nest_their_steps_in_order(rep_api, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        body = rep_api.get("/api/playbooks/").json()
    reactivation = next(p for p in body["results"] if p["name"] == "Reactivation")
    assert [s["offset_days"] for s in reactivation["steps"]] == [0, 2, 5, 14]


@pytest.mark.parametrize(("role", "allowed"), [("rep", False), ("cs", False), ("admin", True)])
def test_only_admin_writes_playbooks_and_alert_rules(api_for, role, allowed):
    api = api_for(role)
    made = api.post(
        "/api/playbooks/",
        {
            "name": "Upsell",
            "objective": "Grow",
            "steps": [
                {"title": "Call", "kind": "call", "offset_days": 3},
                {"title": "Demo", "kind": "meeting", "offset_days": 7},
            ],
        },
        format="json",
    )
    assert made.status_code == (201 if allowed else 403)
    rule = api.post(
        "/api/alert-rules/",
        {"name": "Spike", "trigger": "support_spike", "count": 3, "window_days": 7},
        format="json",
    )
    assert rule.status_code == (201 if allowed else 403)
    if allowed:
        assert [s["title"] for s in made.json()["steps"]] == ["Call", "Demo"]
        pk = made.json()["id"]
        changed = api.patch(
            f"/api/playbooks/{pk}/", {"steps": [{"title": "Only", "offset_days": 1}]}, format="json"
        )
        assert [s["title"] for s in changed.json()["steps"]] == ["Only"]
        assert api.delete(f"/api/playbooks/{pk}/").status_code == 204
    assert api.get("/api/alert-rules/").status_code == 200


def test_alert_rule_without_its_trigger_parameters_is_refused(admin_api):
    answer = admin_api.post(
        "/api/alert-rules/", {"name": "Bad", "trigger": "support_spike"}, format="json"
    )
    assert answer.status_code == 400
    assert "count" in str(answer.json())


def test_alerts_filter_and_rep_sees_only_own_customers(
    rep, other_rep, rep_api, cs_api, django_assert_max_num_queries
):
    mine = _alert(CustomerFactory(owner=rep), assignee=rep)
    _alert(CustomerFactory(owner=other_rep), assignee=other_rep)
    for _ in range(5):
        _alert(CustomerFactory(owner=other_rep), rule_name="Became inactive")
    with django_assert_max_num_queries(8):
        all_alerts = cs_api.get("/api/alerts/?severity=critical&status=open").json()
    assert all_alerts["count"] == 7
    assert [a["id"] for a in rep_api.get("/api/alerts/").json()["results"]] == [mine.pk]
    assert cs_api.get(f"/api/alerts/?assignee={rep.pk}").json()["count"] == 1


@pytest.mark.parametrize(("role", "allowed"), [("rep", False), ("cs", True), ("admin", True)])
def test_alert_status_changes_by_role(api_for, rep, role, allowed):
    alert = _alert(CustomerFactory(owner=rep), assignee=rep)
    answer = api_for(role).patch(f"/api/alerts/{alert.pk}/", {"status": "resolved"}, format="json")
    assert answer.status_code == (200 if allowed else 403)
    alert.refresh_from_db()
    assert (alert.status == "resolved") is allowed
    if allowed:
        assert alert.resolved_at is not None


@pytest.mark.parametrize(("role", "allowed"), [("rep", False), ("cs", True), ("admin", True)])
def test_start_plan_by_role(api_for, rep, role, allowed):
    customer = CustomerFactory(owner=rep)
    playbook = Playbook.objects.get(name="Reactivation")
    answer = api_for(role).post(
        "/api/action-plans/",
        {"customer": customer.pk, "playbook": playbook.pk, "started_on": "2026-05-04"},
        format="json",
    )
    assert answer.status_code == (201 if allowed else 403)
    if allowed:
        body = answer.json()
        assert [s["due_on"] for s in body["steps"]] == [
            "2026-05-04",
            "2026-05-06",
            "2026-05-09",
            "2026-05-18",
        ]
        assert body["progress"] == 0
        again = api_for(role).post(
            "/api/action-plans/", {"customer": customer.pk, "playbook": playbook.pk}, format="json"
        )
        assert again.status_code == 400
        assert "playbook" in again.json() or "playbook" in str(again.json())


def test_plans_list_filters_and_rep_visibility(
    plan, rep, other_rep, cs, rep_api, cs_api, django_assert_max_num_queries
):
    for _ in range(4):
        action_plan_start(
            customer=CustomerFactory(owner=other_rep),
            playbook=Playbook.objects.get(name="Onboarding"),
            owner=cs,
        )
    with django_assert_max_num_queries(8):
        body = cs_api.get(f"/api/action-plans/?owner={cs.pk}&status=active").json()
    assert body["count"] == 5
    mine = rep_api.get("/api/action-plans/").json()
    assert [p["id"] for p in mine["results"]] == [plan.pk]
    action_step_complete(step=plan.steps.get(assignee=rep), user=rep)
    assert rep_api.get("/api/action-plans/").json()["results"][0]["progress"] == 33
    assert cs_api.get(f"/api/action-plans/?customer={plan.customer_id}").json()["count"] == 1


def test_rep_completes_own_step_but_nothing_else(plan, rep, other_rep):
    rep_api, other_api = client_for(rep), client_for(other_rep)
    own = plan.steps.filter(assignee=rep).first()
    cs_step = plan.steps.exclude(assignee=rep).first()
    assert (
        rep_api.patch(f"/api/action-steps/{own.pk}/", {"due_on": "2030-01-01"}).status_code == 403
    )
    assert other_api.get(f"/api/action-steps/{own.pk}/").status_code == 404
    assert other_api.patch(f"/api/action-steps/{own.pk}/", {"status": "done"}).status_code == 404
    answer = rep_api.patch(f"/api/action-steps/{own.pk}/", {"status": "done"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["completed_by"] == rep.pk
    # Visible (their customer's plan) but not assigned to them: read, not complete.
    assert rep_api.get(f"/api/action-steps/{cs_step.pk}/").status_code == 200
    assert rep_api.patch(f"/api/action-steps/{cs_step.pk}/", {"status": "done"}).status_code == 403


@pytest.mark.parametrize("role", ["cs", "admin"])
def test_full_roles_reassign_reschedule_and_close_the_plan(api_for, plan, other_rep, role):
    api = api_for(role)
    steps = list(plan.steps.order_by("position"))
    answer = api.patch(
        f"/api/action-steps/{steps[0].pk}/",
        {"assignee": other_rep.pk, "due_on": (TODAY + dt.timedelta(days=9)).isoformat()},
        format="json",
    )
    assert answer.status_code == 200
    assert answer.json()["assignee"] == other_rep.pk
    for step in steps:
        assert api.patch(f"/api/action-steps/{step.pk}/", {"status": "skipped"}).status_code == 200
    plan.refresh_from_db()
    assert plan.status == ActionPlan.PlanStatus.COMPLETED
    assert api.get(f"/api/action-plans/{plan.pk}/").json()["progress"] == 100


@pytest.mark.parametrize(
    "path", ["/api/playbooks/", "/api/alert-rules/", "/api/alerts/", "/api/action-plans/"]
)
def test_users_without_a_crm_role_and_anonymous_are_refused(path, anon_api):
    from tests.factories import UserFactory

    assert client_for(UserFactory(username="nobody")).get(path).status_code == 403
    assert anon_api.get(path).status_code in (401, 403)
