"""`?format=csv` on the real API lists: every filtered row, streamed, with flat queries."""

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
from tests.customers.dataio import read_csv_bytes
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def api_as(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def csv_rows(response):
    assert response.status_code == 200
    assert response.streaming
    return read_csv_bytes(b"".join(response.streaming_content))


def test_customers_csv_is_the_whole_filtered_list_with_engagement(
    cs, django_assert_max_num_queries
):
    rule_set, _ = RuleSet.objects.get_or_create(version=1)
    for index in range(60):
        customer = CustomerFactory(name=f"DE {index:02d}", country="DE")
        if index % 2:
            EngagementResult.objects.create(
                customer=customer,
                rule_set=rule_set,
                as_of=timezone.localdate(),
                computed_at=timezone.now(),
                status="at_risk",
                type_loyal=True,
            )
    CustomerFactory(country="FR")
    api = api_as(cs)
    with django_assert_max_num_queries(8):
        rows = csv_rows(
            api.get("/api/customers/", {"country": "DE", "page_size": 10, "format": "csv"})
        )
    assert len(rows) == 60  # not one page
    by_name = {r["name"]: r for r in rows}
    assert by_name["DE 00"]["engagement.status"] == ""  # not computed yet
    assert by_name["DE 01"]["engagement.status"] == "at_risk"
    assert by_name["DE 01"]["engagement.types"] == "loyal"


def test_interactions_csv_keeps_filters(rep):
    customer = CustomerFactory()
    InteractionFactory.create_batch(3, customer=customer, kind="login")
    InteractionFactory(customer=customer, kind="support")
    rows = csv_rows(api_as(rep).get("/api/interactions/", {"kind": "support", "format": "csv"}))
    assert [r["kind"] for r in rows] == ["support"]


def test_json_lists_stay_paginated(rep):
    CustomerFactory.create_batch(3)
    body = api_as(rep).get("/api/customers/", {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (3, 2)


def test_api_csv_writes_formula_like_text_as_text(cs):
    customer = CustomerFactory(name="=1+2", industry="@cmd", phone="+49 30 1")
    InteractionFactory(customer=customer, kind="purchase", amount="12.50", subject="-1+1")
    api = api_as(cs)
    (row,) = csv_rows(api.get("/api/customers/?format=csv"))
    assert (row["name"], row["industry"], row["phone"]) == ("'=1+2", "'@cmd", "'+49 30 1")
    (row,) = csv_rows(api.get("/api/interactions/?format=csv"))
    assert (row["subject"], row["amount"]) == ("'-1+1", "12.50")
    detail = api.get(f"/api/customers/{customer.pk}/?format=csv")
    assert detail.status_code == 200
    assert read_csv_bytes(detail.content)[0]["name"] == "'=1+2"


def test_api_csv_drops_control_characters(cs):
    CustomerFactory(name="Bell\x07 Ltd")
    (row,) = csv_rows(api_as(cs).get("/api/customers/?format=csv"))
    assert row["name"] == "Bell Ltd"
