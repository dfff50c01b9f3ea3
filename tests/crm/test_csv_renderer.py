"""?format=csv on API lists: the whole filtered queryset, streamed, nested fields flattened."""

import pytest
from django.conf import settings

from tests.customers.dataio import read_csv_bytes
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.crm.csv_api_urls")]


def test_csv_renderer_is_a_default_renderer():
    assert "crm.api.renderers.CSVRenderer" in settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]


def test_format_csv_streams_every_filtered_row_not_a_page(
    client, rep, django_assert_max_num_queries
):
    for index in range(5):
        CustomerFactory(name=f"Kunde {index}", country="DE", owner=rep)
    CustomerFactory(name="Elsewhere", country="FR")
    client.force_login(rep)
    json_page = client.get("/api/customers/", {"country": "DE"}).json()
    assert (json_page["count"], len(json_page["results"])) == (5, 2)  # JSON stays paginated

    with django_assert_max_num_queries(6):
        response = client.get("/api/customers/", {"country": "DE", "format": "csv"})
        data = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv_bytes(data)
    assert [r["name"] for r in rows] == [f"Kunde {i}" for i in range(5)]
    assert rows[0]["owner"] == rep.username
    assert rows[0]["engagement.status"] == "active"
    assert rows[0]["engagement.types"] == "loyal, support"
    assert rows[0]["extra"] == '{"a": 1}'
    assert list(rows[0]) == [
        "id",
        "name",
        "country",
        "owner",
        "engagement.status",
        "engagement.types",
        "extra",
    ]


def test_format_csv_keeps_search(client, cs):
    CustomerFactory(name="Needle Co")
    CustomerFactory(name="Haystack")
    client.force_login(cs)
    response = client.get("/api/customers/", {"search": "needle", "format": "csv"})
    assert [r["name"] for r in read_csv_bytes(b"".join(response.streaming_content))] == [
        "Needle Co"
    ]


def test_empty_list_is_an_empty_csv(client, cs):
    client.force_login(cs)
    response = client.get("/api/customers/", {"format": "csv"})
    assert read_csv_bytes(b"".join(response.streaming_content)) == []


def test_a_detail_renders_as_one_csv_row(client, cs):
    customer = CustomerFactory(name="Solo")
    client.force_login(cs)
    response = client.get(f"/api/customers/{customer.pk}/", {"format": "csv"})
    assert response.status_code == 200
    rows = read_csv_bytes(response.content)
    assert [(r["name"], r["engagement.status"]) for r in rows] == [("Solo", "active")]


def test_unauthenticated_csv_is_refused(client):
    response = client.get("/api/customers/", {"format": "csv"})
    assert response.status_code in (401, 403)
