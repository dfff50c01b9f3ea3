import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Customer
from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _result(customer, *, status="active", **types):
    rule_set = RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
    return EngagementResult.objects.create(
        customer=customer,
        status=status,
        rule_set=rule_set,
        as_of=timezone.localdate(),
        computed_at=timezone.now(),
        score=70,
        **{f"type_{code}": True for code in types},
    )


def _names(response):
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


# Listing ----------------------------------------------------------------------------------


def test_list_is_paginated_with_count_next_previous(rep_api):
    CustomerFactory.create_batch(3)
    body = rep_api.get("/api/customers/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]
    assert body["previous"] is None


def test_page_size_is_capped_at_500(rep_api):
    CustomerFactory.create_batch(3)
    body = rep_api.get("/api/customers/?page_size=100000").json()
    assert len(body["results"]) == 3


def test_a_page_past_the_end_is_a_json_404(rep_api):
    CustomerFactory.create_batch(2)
    response = rep_api.get("/api/customers/?page=9")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_list_carries_the_stored_engagement_or_null(rep_api):
    scored = CustomerFactory(name="Scored")
    CustomerFactory(name="Fresh")
    _result(scored, status="at_risk", loyal=True, recent_buyer=True)
    rows = {row["name"]: row for row in rep_api.get("/api/customers/").json()["results"]}
    assert rows["Fresh"]["engagement"] is None
    engagement = rows["Scored"]["engagement"]
    assert set(engagement) == {"status", "types", "reactivated", "score", "computed_at", "as_of"}
    assert engagement["status"] == "at_risk"
    assert sorted(engagement["types"]) == ["loyal", "recent_buyer"]
    assert engagement["score"] == 70


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=person", ["Bob"]),
        ("country=fr", ["Bob"]),
        ("industry=Retail", ["Acme"]),
        ("status=active", ["Acme"]),
        ("type=loyal", ["Acme"]),
        ("type=support", []),
    ],
)
def test_list_filters(rep_api, query, expected):
    acme = CustomerFactory(name="Acme", kind="company", country="DE", industry="Retail")
    CustomerFactory(name="Bob", kind="person", country="FR", industry="Health")
    _result(acme, status="active", loyal=True)
    assert _names(rep_api.get(f"/api/customers/?{query}")) == expected


def test_owner_filter(rep_api, rep, other_rep):
    CustomerFactory(name="Mine", owner=rep)
    CustomerFactory(name="Theirs", owner=other_rep)
    assert _names(rep_api.get(f"/api/customers/?owner={rep.pk}")) == ["Mine"]


@pytest.mark.parametrize("query", ["kind=robot", "type=vip", "status=asleep", "owner=abc"])
def test_a_bad_filter_value_is_a_400_naming_the_filter(rep_api, query):
    response = rep_api.get(f"/api/customers/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_search_matches_name_email_and_contact_names(rep_api):
    CustomerFactory(name="Acme Rockets", email="hello@acme.test")
    other = CustomerFactory(name="Globex")
    ContactFactory(customer=other, first_name="Hank", last_name="Scorpio")
    CustomerFactory(name="Initech")
    assert _names(rep_api.get("/api/customers/?search=acme")) == ["Acme Rockets"]
    assert _names(rep_api.get("/api/customers/?search=scorpio")) == ["Globex"]


def test_ordering(rep_api):
    CustomerFactory(name="B", customer_since=dt.date(2020, 1, 1))
    CustomerFactory(name="A", customer_since=dt.date(2022, 1, 1))
    body = rep_api.get("/api/customers/?ordering=-customer_since").json()
    assert [row["name"] for row in body["results"]] == ["A", "B"]
    body = rep_api.get("/api/customers/?ordering=customer_since").json()
    assert [row["name"] for row in body["results"]] == ["B", "A"]


def test_archived_customers_are_hidden_unless_asked_for(rep_api):
    CustomerFactory(name="Current")
    CustomerFactory(name="Gone", archived_at=timezone.now())
    assert _names(rep_api.get("/api/customers/")) == ["Current"]
    assert _names(rep_api.get("/api/customers/?archived=true")) == ["Gone"]
    assert _names(rep_api.get("/api/customers/?archived=false")) == ["Current"]


# Creating ---------------------------------------------------------------------------------


def test_rep_creating_a_customer_becomes_its_owner(rep_api, rep):
    response = rep_api.post(
        "/api/customers/",
        {"name": "New Co", "kind": "company", "customer_since": "2021-05-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == rep.pk
    assert body["customer_since"] == "2021-05-01"
    assert body["engagement"] is None
    assert Customer.objects.get(pk=body["id"]).owner == rep


def test_admin_creates_a_customer_for_another_owner(admin_api, rep):
    response = admin_api.post("/api/customers/", {"name": "X", "owner": rep.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["owner"] == rep.pk


def test_customer_success_cannot_create_customers(cs_api):
    response = cs_api.post("/api/customers/", {"name": "Nope"}, format="json")
    assert response.status_code == 403
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "X", "kind": "robot"}, "kind"),
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "X", "customer_since": "01/02/2020"}, "customer_since"),
        ({"name": "X", "owner": 999999}, "owner"),
    ],
)
def test_invalid_customer_is_a_400_naming_the_field(rep_api, body, field):
    response = rep_api.post("/api/customers/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Customer.objects.exists()


def test_a_repeated_external_id_is_a_400_naming_it(rep_api):
    CustomerFactory(external_id="shop-1")
    response = rep_api.post(
        "/api/customers/", {"name": "X", "external_id": "shop-1"}, format="json"
    )
    assert response.status_code == 400
    assert "external_id" in response.json()


# Editing ----------------------------------------------------------------------------------


def test_rep_edits_their_own_customer(rep_api, rep):
    customer = CustomerFactory(owner=rep)
    response = rep_api.patch(f"/api/customers/{customer.pk}/", {"phone": "123"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.phone == "123"


def test_rep_cannot_edit_other_reps_customer(rep_api, other_rep):
    customer = CustomerFactory(owner=other_rep, phone="")
    response = rep_api.patch(f"/api/customers/{customer.pk}/", {"phone": "123"}, format="json")
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.phone == ""


def test_customer_success_cannot_edit_customers(cs_api):
    customer = CustomerFactory()
    response = cs_api.patch(f"/api/customers/{customer.pk}/", {"phone": "1"}, format="json")
    assert response.status_code == 403


def test_admin_replaces_a_customer_with_put(admin_api):
    customer = CustomerFactory(name="Old")
    response = admin_api.put(
        f"/api/customers/{customer.pk}/", {"name": "New", "kind": "person"}, format="json"
    )
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.name, customer.kind) == ("New", "person")


def test_put_without_a_required_field_is_a_400(admin_api):
    customer = CustomerFactory()
    response = admin_api.put(f"/api/customers/{customer.pk}/", {"kind": "person"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_patch_with_an_invalid_value_names_the_field(admin_api):
    customer = CustomerFactory()
    response = admin_api.patch(f"/api/customers/{customer.pk}/", {"kind": "x"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()


def test_unknown_customer_is_a_json_404(rep_api):
    response = rep_api.get("/api/customers/999999/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


# Archiving --------------------------------------------------------------------------------


def test_admin_delete_archives_the_customer(admin_api, rep_api):
    customer = CustomerFactory(name="Gone")
    response = admin_api.delete(f"/api/customers/{customer.pk}/")
    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.archived_at is not None
    assert _names(rep_api.get("/api/customers/")) == []
    # Still readable by id, and restorable.
    assert rep_api.get(f"/api/customers/{customer.pk}/").json()["archived_at"] is not None
    assert admin_api.post(f"/api/customers/{customer.pk}/restore/").status_code == 200
    assert _names(rep_api.get("/api/customers/")) == ["Gone"]


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_only_admins_archive(api_for, rep, role):
    customer = CustomerFactory(owner=rep)
    response = api_for(role).delete(f"/api/customers/{customer.pk}/")
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.archived_at is None


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_only_admins_restore(api_for, role):
    customer = CustomerFactory(archived_at=timezone.now())
    assert api_for(role).post(f"/api/customers/{customer.pk}/restore/").status_code == 403
