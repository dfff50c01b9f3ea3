"""Contacts, products, subscriptions and interactions: CRUD, filters and each role's rights."""

import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Contact, Interaction, Product, Subscription
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


# Contacts ---------------------------------------------------------------------------------


def test_contacts_filter_by_customer_and_search(cs_api):
    a, b = CustomerFactory(), CustomerFactory()
    ca = ContactFactory(customer=a, last_name="Hopper")
    cb = ContactFactory(customer=b, last_name="Turing")
    assert _ids(cs_api.get(f"/api/contacts/?customer={a.pk}")) == [ca.pk]
    assert _ids(cs_api.get("/api/contacts/?search=turing")) == [cb.pk]


@pytest.mark.parametrize(("role", "expected"), [("rep", 201), ("cs", 403), ("admin", 201)])
def test_contact_create_per_role_on_reps_customer(api_for, rep, role, expected):
    customer = CustomerFactory(owner=rep)
    response = api_for(role).post(
        "/api/contacts/", {"customer": customer.pk, "last_name": "Lovelace"}, format="json"
    )
    assert response.status_code == expected
    assert Contact.objects.filter(customer=customer).exists() == (expected == 201)


def test_rep_cannot_add_a_contact_to_other_reps_customer(rep_api, other_rep):
    customer = CustomerFactory(owner=other_rep)
    response = rep_api.post(
        "/api/contacts/", {"customer": customer.pk, "last_name": "X"}, format="json"
    )
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_contact_validation_names_the_field(admin_api):
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True)
    response = admin_api.post(
        "/api/contacts/",
        {"customer": customer.pk, "last_name": "Y", "is_primary": True},
        format="json",
    )
    assert response.status_code == 400
    assert "is_primary" in response.json()
    response = admin_api.post("/api/contacts/", {"customer": customer.pk}, format="json")
    assert response.status_code == 400
    assert "last_name" in response.json()


def test_contact_edit_follows_the_customers_owner_and_delete_is_admins(
    rep_api, other_rep_api, admin_api, rep
):
    contact = ContactFactory(customer=CustomerFactory(owner=rep), title="")
    url = f"/api/contacts/{contact.pk}/"
    assert other_rep_api.patch(url, {"title": "CTO"}, format="json").status_code == 403
    assert rep_api.patch(url, {"title": "CTO"}, format="json").status_code == 200
    contact.refresh_from_db()
    assert contact.title == "CTO"
    assert other_rep_api.delete(url).status_code == 403
    assert rep_api.delete(url).status_code == 403
    assert admin_api.delete(url).status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_rep_cannot_move_a_contact_to_other_reps_customer(rep_api, rep, other_rep):
    contact = ContactFactory(customer=CustomerFactory(owner=rep))
    theirs = CustomerFactory(owner=other_rep)
    response = rep_api.patch(f"/api/contacts/{contact.pk}/", {"customer": theirs.pk}, format="json")
    assert response.status_code == 403


# Products ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), [("rep", 403), ("cs", 403), ("admin", 201)])
def test_only_admins_create_products(api_for, role, expected):
    response = api_for(role).post(
        "/api/products/", {"name": "Pro", "sku": "PRO-1", "kind": "service"}, format="json"
    )
    assert response.status_code == expected
    assert Product.objects.filter(sku="PRO-1").exists() == (expected == 201)


def test_products_read_filter_and_validate(rep_api, admin_api):
    service = ProductFactory(kind="service", name="Consulting")
    ProductFactory(kind="product")
    assert _ids(rep_api.get("/api/products/?kind=service")) == [service.pk]
    assert _ids(rep_api.get("/api/products/?search=consult")) == [service.pk]
    response = admin_api.post(
        "/api/products/", {"name": "X", "sku": service.sku, "price": "-1"}, format="json"
    )
    assert response.status_code == 400
    assert {"sku", "price"} <= set(response.json())


def test_a_subscribed_product_is_not_deleted(admin_api):
    subscription = SubscriptionFactory()
    response = admin_api.delete(f"/api/products/{subscription.product_id}/")
    assert response.status_code == 400
    assert "product" in response.json()
    assert admin_api.delete(f"/api/products/{ProductFactory().pk}/").status_code == 204


# Subscriptions ----------------------------------------------------------------------------


def test_subscriptions_filter_by_customer_and_status(cs_api):
    a = CustomerFactory()
    active = SubscriptionFactory(customer=a, status="active")
    SubscriptionFactory(customer=a, status="trial")
    SubscriptionFactory(status="active")
    assert _ids(cs_api.get(f"/api/subscriptions/?customer={a.pk}&status=active")) == [active.pk]
    assert cs_api.get("/api/subscriptions/?status=gone").status_code == 400


@pytest.mark.parametrize(("role", "expected"), [("rep", 201), ("cs", 403), ("admin", 201)])
def test_subscription_create_per_role(api_for, rep, role, expected):
    customer = CustomerFactory(owner=rep)
    product = ProductFactory()
    response = api_for(role).post(
        "/api/subscriptions/",
        {"customer": customer.pk, "product": product.pk, "amount": "10.00", "interval": "year"},
        format="json",
    )
    assert response.status_code == expected, response.content
    if expected == 201:
        assert response.json()["monthly_amount"] == "0.83"


def test_cancelled_subscription_needs_an_end_date(admin_api):
    response = admin_api.post(
        "/api/subscriptions/",
        {
            "customer": CustomerFactory().pk,
            "product": ProductFactory().pk,
            "status": "cancelled",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "ended_at" in response.json()
    assert not Subscription.objects.exists()


def test_subscription_edit_per_owner(rep_api, other_rep_api, rep):
    subscription = SubscriptionFactory(customer=CustomerFactory(owner=rep))
    url = f"/api/subscriptions/{subscription.pk}/"
    body = {"status": "paused"}
    assert other_rep_api.patch(url, body, format="json").status_code == 403
    assert rep_api.patch(url, body, format="json").status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == "paused"


# Interactions -----------------------------------------------------------------------------


def test_interaction_filters(cs_api):
    customer = CustomerFactory()
    now = timezone.now()
    old_call = InteractionFactory(
        customer=customer,
        kind="call",
        direction="outbound",
        occurred_at=now - dt.timedelta(days=40),
    )
    login = InteractionFactory(customer=customer, kind="login", occurred_at=now)
    other = InteractionFactory(kind="login", occurred_at=now)
    assert _ids(cs_api.get(f"/api/interactions/?customer={customer.pk}")) == sorted(
        [old_call.pk, login.pk]
    )
    assert _ids(cs_api.get("/api/interactions/?kind=login")) == sorted([login.pk, other.pk])
    assert _ids(cs_api.get("/api/interactions/?direction=outbound")) == [old_call.pk]
    cutoff = (now - dt.timedelta(days=10)).date().isoformat()
    assert _ids(cs_api.get(f"/api/interactions/?occurred_before={cutoff}")) == [old_call.pk]
    assert _ids(cs_api.get(f"/api/interactions/?occurred_after={cutoff}")) == sorted(
        [login.pk, other.pk]
    )


@pytest.mark.parametrize("query", ["occurred_after=yesterday", "kind=dance", "direction=up"])
def test_bad_interaction_filters_are_400_naming_them(cs_api, query):
    response = cs_api.get(f"/api/interactions/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize(
    ("role", "owner", "expected"),
    [
        ("rep", "rep", 201),
        ("rep", "other_rep", 403),
        ("cs", "other_rep", 201),
        ("admin", "other_rep", 201),
    ],
)
def test_log_interaction_per_role(api_for, request, role, owner, expected):
    customer = CustomerFactory(owner=request.getfixturevalue(owner))
    response = api_for(role).post(
        "/api/interactions/", {"customer": customer.pk, "kind": "call"}, format="json"
    )
    assert response.status_code == expected
    assert Interaction.objects.filter(customer=customer).count() == (expected == 201)


def test_logged_interaction_defaults_direction_and_author(cs_api, cs):
    customer = CustomerFactory()
    body = cs_api.post(
        "/api/interactions/", {"customer": customer.pk, "kind": "note"}, format="json"
    ).json()
    assert body["direction"] == "outbound"
    assert body["created_by"] == cs.pk


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"kind": "purchase"}, "amount"),
        ({"kind": "login", "amount": "5.00"}, "amount"),
        ({"kind": "dance"}, "kind"),
        ({"kind": "call", "occurred_at": "tuesday"}, "occurred_at"),
    ],
)
def test_invalid_interaction_names_the_field(admin_api, extra, field):
    response = admin_api.post(
        "/api/interactions/", {"customer": CustomerFactory().pk, **extra}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Interaction.objects.exists()


def test_contact_of_another_customer_is_refused(admin_api):
    contact = ContactFactory()
    response = admin_api.post(
        "/api/interactions/",
        {"customer": CustomerFactory().pk, "contact": contact.pk, "kind": "call"},
        format="json",
    )
    assert response.status_code == 400
    assert "contact" in response.json()


def test_interaction_edit_per_owner_and_delete_is_admins(rep_api, other_rep_api, rep):
    interaction = InteractionFactory(customer=CustomerFactory(owner=rep), subject="")
    url = f"/api/interactions/{interaction.pk}/"
    assert other_rep_api.patch(url, {"subject": "Hi"}, format="json").status_code == 403
    assert rep_api.patch(url, {"subject": "Hi"}, format="json").status_code == 200
    # Hard deletes are crm_admin's, even on the rep's own customer (the permission matrix).
    assert other_rep_api.delete(url).status_code == 403
    assert rep_api.delete(url).status_code == 403


@pytest.mark.parametrize("role", ["rep", "cs", "admin"])
def test_every_role_reads_every_resource_list_and_record(api_for, other_rep, role):
    customer = CustomerFactory(owner=other_rep)
    records = {
        "customers": customer,
        "contacts": ContactFactory(customer=customer),
        "subscriptions": SubscriptionFactory(customer=customer),
        "interactions": InteractionFactory(customer=customer),
    }
    records["products"] = records["subscriptions"].product
    api = api_for(role)
    for name, record in records.items():
        listed = api.get(f"/api/{name}/")
        assert listed.status_code == 200, name
        assert [row["id"] for row in listed.json()["results"]] == [record.pk], name
        assert api.get(f"/api/{name}/{record.pk}/").json()["id"] == record.pk, name
