"""The permission matrix (crm/permissions.py), one table: every role x every action, asked
through the admin and through the API, which must agree with the table and so with each other.

"own" is a customer owned by the sales rep; "other" one owned by another rep.
"""

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from customers.models import Contact, Customer, Interaction, Subscription
from engagement.models import Alert, AlertRule, Playbook, RuleSet
from engagement.workflow.plans import action_plan_start
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    SubscriptionFactory,
    UserFactory,
)
from tests.fixtures.api import client_for

pytestmark = pytest.mark.django_db

ROLES = ("rep", "cs", "admin")
Y, N = True, False

# action: allowed for (sales rep, customer success, crm admin)
MATRIX = {
    "read customers": (Y, Y, Y),
    "create a customer": (Y, N, Y),
    "edit an own customer": (Y, N, Y),
    "edit another rep's customer": (N, N, Y),
    "log an interaction on an own customer": (Y, Y, Y),
    "log an interaction on another rep's customer": (N, Y, Y),
    "edit an interaction one logged on an own customer": (Y, Y, Y),
    "archive a customer": (N, N, Y),
    "delete a contact": (N, N, Y),
    "delete a subscription": (N, N, Y),
    "delete an interaction": (N, N, Y),
    "read the engagement rules": (Y, Y, Y),
    "change the engagement rules": (N, N, Y),
    "change a playbook": (N, N, Y),
    "change an alert rule": (N, N, Y),
    "work an alert of an own customer": (N, Y, Y),
    "start an action plan": (N, Y, Y),
    "complete a step assigned to one": (Y, Y, Y),
}


@dataclass
class World:
    users: dict
    own: Customer
    other: Customer
    contact: Contact
    subscription: Subscription
    logged: dict  # role -> an interaction on `own` logged by that role's user
    alert: Alert
    steps: dict  # role -> an open step assigned to that role's user
    playbook: Playbook


@pytest.fixture
def world(rep, other_rep, cs, crm_admin):
    users = {"rep": rep, "cs": cs, "admin": crm_admin}
    own = CustomerFactory(owner=rep)
    playbook = Playbook.objects.get(name="Churn save")
    plans = {
        role: action_plan_start(customer=CustomerFactory(owner=rep), playbook=playbook, owner=cs)
        for role in ROLES
    }
    steps = {}
    for role, plan in plans.items():
        step = plan.steps.order_by("position").first()
        step.assignee = users[role]
        step.save(update_fields=["assignee"])
        steps[role] = step
    return World(
        users=users,
        own=own,
        other=CustomerFactory(owner=other_rep),
        contact=ContactFactory(customer=own),
        subscription=SubscriptionFactory(customer=own),
        logged={role: InteractionFactory(customer=own, created_by=users[role]) for role in ROLES},
        alert=Alert.objects.create(
            customer=own,
            rule=AlertRule.objects.order_by("pk").first(),
            severity=AlertRule.Severity.WARNING,
            message="Status changed.",
            assignee=rep,
            fired_on=own.customer_since,
        ),
        steps=steps,
        playbook=playbook,
    )


# --- the API: allowed is a 2xx answer, refused a 403 -------------------------------------------


def _api(action, api, w: World, role):
    own, other = w.own.pk, w.other.pk
    return {
        "read customers": lambda: api.get("/api/customers/"),
        "create a customer": lambda: api.post(
            "/api/customers/", {"name": "New", "kind": "company"}
        ),
        "edit an own customer": lambda: api.patch(f"/api/customers/{own}/", {"phone": "1"}),
        "edit another rep's customer": lambda: api.patch(
            f"/api/customers/{other}/", {"phone": "1"}
        ),
        "log an interaction on an own customer": lambda: api.post(
            "/api/interactions/", {"customer": own, "kind": "call"}
        ),
        "log an interaction on another rep's customer": lambda: api.post(
            "/api/interactions/", {"customer": other, "kind": "call"}
        ),
        "edit an interaction one logged on an own customer": lambda: api.patch(
            f"/api/interactions/{w.logged[role].pk}/", {"subject": "Edited"}
        ),
        "archive a customer": lambda: api.delete(f"/api/customers/{own}/"),
        "delete a contact": lambda: api.delete(f"/api/contacts/{w.contact.pk}/"),
        "delete a subscription": lambda: api.delete(f"/api/subscriptions/{w.subscription.pk}/"),
        "delete an interaction": lambda: api.delete(f"/api/interactions/{w.logged['rep'].pk}/"),
        "read the engagement rules": lambda: api.get("/api/engagement/rules/"),
        "change the engagement rules": lambda: api.patch(
            "/api/engagement/rules/", {"active_days": 25}
        ),
        "change a playbook": lambda: api.patch(
            f"/api/playbooks/{w.playbook.pk}/", {"objective": "Changed"}
        ),
        "change an alert rule": lambda: api.post(
            "/api/alert-rules/", {"name": "New rule", "trigger": "subscription_cancelled"}
        ),
        "work an alert of an own customer": lambda: api.patch(
            f"/api/alerts/{w.alert.pk}/", {"status": "acknowledged"}
        ),
        "start an action plan": lambda: api.post(
            "/api/action-plans/",
            {"customer": w.other.pk, "playbook": Playbook.objects.get(name="Onboarding").pk},
        ),
        "complete a step assigned to one": lambda: api.patch(
            f"/api/action-steps/{w.steps[role].pk}/", {"status": "done"}
        ),
    }[action]()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", MATRIX)
def test_api_follows_the_matrix(world, action, role):
    api = client_for(world.users[role])
    api.default_format = "json"
    response = _api(action, api, world, role)
    allowed = MATRIX[action][ROLES.index(role)]
    if allowed:
        assert 200 <= response.status_code < 300, (response.status_code, response.content)
    else:
        assert response.status_code == 403, (response.status_code, response.content)


# --- the admin: the ModelAdmins' permissions and the custom pages ------------------------------


def _model_admin(model):
    return admin.site._registry[model]


def _admin(action, request, client, w: World, role) -> bool:
    customers, interactions = _model_admin(Customer), _model_admin(Interaction)

    def may_log_on(customer):
        return interactions.has_add_permission(request) and (
            interactions.customer_choices(request, Customer.objects.filter(pk=customer.pk))
            .filter(pk=customer.pk)
            .exists()
        )

    def page(url):
        return client.get(url).status_code == 200

    return {
        "read customers": lambda: customers.has_view_permission(request),
        "create a customer": lambda: customers.has_add_permission(request),
        "edit an own customer": lambda: customers.has_change_permission(request, w.own),
        "edit another rep's customer": lambda: customers.has_change_permission(request, w.other),
        "log an interaction on an own customer": lambda: may_log_on(w.own),
        "log an interaction on another rep's customer": lambda: may_log_on(w.other),
        "edit an interaction one logged on an own customer": lambda: (
            interactions.has_change_permission(request, w.logged[role])
        ),
        "archive a customer": lambda: customers.has_archive_permission(request),
        "delete a contact": lambda: _model_admin(Contact).has_delete_permission(request, w.contact),
        "delete a subscription": lambda: _model_admin(Subscription).has_delete_permission(
            request, w.subscription
        ),
        "delete an interaction": lambda: interactions.has_delete_permission(
            request, w.logged["rep"]
        ),
        "read the engagement rules": lambda: _model_admin(RuleSet).has_view_permission(request),
        "change the engagement rules": lambda: page(
            reverse("admin:engagement_ruleset_change_rules")
        ),
        "change a playbook": lambda: _model_admin(Playbook).has_change_permission(
            request, w.playbook
        ),
        "change an alert rule": lambda: _model_admin(AlertRule).has_add_permission(request),
        "work an alert of an own customer": lambda: _model_admin(Alert).has_change_permission(
            request, w.alert
        ),
        "start an action plan": lambda: page(
            reverse("admin:engagement_actionplan_start", args=[w.other.pk])
        ),
        "complete a step assigned to one": lambda: page(
            reverse("admin:engagement_actionstep_complete", args=[w.steps[role].pk])
        ),
    }[action]()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", MATRIX)
def test_admin_follows_the_matrix(client, world, action, role):
    user = world.users[role]
    client.force_login(user)
    request = RequestFactory().get("/admin/")
    request.user = user
    allowed = MATRIX[action][ROLES.index(role)]
    assert _admin(action, request, client, world, role) is allowed


def test_a_user_without_a_role_may_do_nothing(client, world):
    nobody = UserFactory(username="nobody", is_staff=True)
    assert client_for(nobody).get("/api/customers/").status_code == 403
    client.force_login(nobody)
    assert client.get("/admin/customers/customer/").status_code == 403
