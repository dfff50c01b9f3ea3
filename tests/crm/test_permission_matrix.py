"""The permission matrix for editing and deleting a customer's records, asked of both faces.

Edit a contact or subscription: reps on customers they own, crm_admin. Edit an interaction:
reps on customers they own, customer success those they logged, crm_admin. Delete (hard) a
contact, subscription or interaction: crm_admin only. The API answers 403 to a refused
write; the admin offers no change or delete.
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from customers.models import Contact, Interaction, Subscription
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    SubscriptionFactory,
)
from tests.fixtures.api import client_for

pytestmark = pytest.mark.django_db

ROLES = ("rep", "other_rep", "cs", "crm_admin")

# record -> role -> (may edit, may delete). "rep" owns the customer of every record;
# "cs" logged `logged_by_cs`, "other_rep" logged `logged_by_other`.
MATRIX = {
    "contact": {
        "rep": (True, False),
        "other_rep": (False, False),
        "cs": (False, False),
        "crm_admin": (True, True),
    },
    "subscription": {
        "rep": (True, False),
        "other_rep": (False, False),
        "cs": (False, False),
        "crm_admin": (True, True),
    },
    "logged_by_cs": {
        "rep": (True, False),
        "other_rep": (False, False),
        "cs": (True, False),
        "crm_admin": (True, True),
    },
    "logged_by_other": {
        "rep": (True, False),
        "other_rep": (False, False),
        "cs": (False, False),
        "crm_admin": (True, True),
    },
}
CASES = [(record, role) for record in MATRIX for role in ROLES]

_PATHS = {
    "contact": "contacts",
    "subscription": "subscriptions",
    "logged_by_cs": "interactions",
    "logged_by_other": "interactions",
}
_EDITS = {
    "contact": {"title": "CTO"},
    "subscription": {"amount": "59.00"},
    "logged_by_cs": {"subject": "Edited"},
    "logged_by_other": {"subject": "Edited"},
}


@pytest.fixture
def records(rep, other_rep, cs):
    customer = CustomerFactory(owner=rep)
    return {
        "contact": ContactFactory(customer=customer),
        "subscription": SubscriptionFactory(customer=customer),
        "logged_by_cs": InteractionFactory(customer=customer, created_by=cs, subject=""),
        "logged_by_other": InteractionFactory(
            customer=customer, created_by=other_rep, subject=""
        ),
    }


@pytest.fixture
def users(rep, other_rep, cs, crm_admin):
    return {"rep": rep, "other_rep": other_rep, "cs": cs, "crm_admin": crm_admin}


def _exists(record) -> bool:
    return type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize(("record_name", "role"), CASES)
def test_api_edit(records, users, record_name, role):
    may_edit, _ = MATRIX[record_name][role]
    record = records[record_name]
    url = f"/api/{_PATHS[record_name]}/{record.pk}/"
    response = client_for(users[role]).patch(url, _EDITS[record_name], format="json")
    assert response.status_code == (200 if may_edit else 403), response.content
    assert "detail" in response.json() or may_edit


@pytest.mark.parametrize(("record_name", "role"), CASES)
def test_api_delete(records, users, record_name, role):
    _, may_delete = MATRIX[record_name][role]
    record = records[record_name]
    url = f"/api/{_PATHS[record_name]}/{record.pk}/"
    response = client_for(users[role]).delete(url)
    assert response.status_code == (204 if may_delete else 403)
    assert _exists(record) == (not may_delete)


@pytest.mark.parametrize(("record_name", "role"), CASES)
def test_admin_agrees(records, users, record_name, role, client):
    may_edit, may_delete = MATRIX[record_name][role]
    record = records[record_name]
    request = RequestFactory().get("/admin/")
    request.user = users[role]
    model_admin = admin.site.get_model_admin(type(record))
    assert model_admin.has_change_permission(request, record) == may_edit
    assert model_admin.has_delete_permission(request, record) == may_delete
    client.force_login(users[role])
    opts = type(record)._meta
    page = client.get(f"/admin/{opts.app_label}/{opts.model_name}/{record.pk}/delete/")
    assert page.status_code == (200 if may_delete else 403)


def test_bulk_delete_in_the_admin_is_refused_to_reps(client, records, rep):
    client.force_login(rep)
    response = client.post(
        "/admin/customers/interaction/",
        {"action": "delete_selected", "_selected_action": [records["logged_by_cs"].pk]},
    )
    assert response.status_code in (200, 302, 403)
    assert Interaction.objects.filter(pk=records["logged_by_cs"].pk).exists()


def test_the_models_are_the_ones_named():
    assert {Contact, Subscription, Interaction} <= set(admin.site._registry)
