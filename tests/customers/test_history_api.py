"""History rows for API edits: the same audit trail as the admin and imports."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import Customer
from tests.factories import ContactFactory, CustomerFactory, ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def api_as(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_api_edits_write_history_naming_the_token_user(rep):
    customer = CustomerFactory(owner=rep, industry="Retail")
    contact = ContactFactory(customer=customer, title="CEO")
    subscription = SubscriptionFactory(customer=customer, product=ProductFactory())
    api = api_as(rep)
    assert api.patch(f"/api/customers/{customer.pk}/", {"industry": "Energy"}).status_code == 200
    assert api.patch(f"/api/contacts/{contact.pk}/", {"title": "CTO"}).status_code == 200
    response = api.patch(f"/api/subscriptions/{subscription.pk}/", {"status": "paused"})
    assert response.status_code == 200
    for obj, field, value in (
        (customer, "industry", "Energy"),
        (contact, "title", "CTO"),
        (subscription, "status", "paused"),
    ):
        latest = obj.history.latest()
        assert (latest.history_type, latest.history_user, getattr(latest, field)) == (
            "~",
            rep,
            value,
        )


def test_api_create_and_archive_write_history(crm_admin):
    api = api_as(crm_admin)
    response = api.post("/api/customers/", {"name": "Via API"}, format="json")
    assert response.status_code == 201
    customer_id = response.json()["id"]
    assert api.delete(f"/api/customers/{customer_id}/").status_code == 204
    versions = list(Customer.history.filter(id=customer_id).order_by("history_id"))
    assert [v.history_type for v in versions] == ["+", "~"]
    assert versions[-1].archived_at is not None
    assert {v.history_user for v in versions} == {crm_admin}


def test_refused_api_edit_writes_no_history(rep, other_rep):
    customer = CustomerFactory(owner=other_rep)
    response = api_as(rep).patch(f"/api/customers/{customer.pk}/", {"industry": "Energy"})
    assert response.status_code == 403
    assert customer.history.count() == 1
