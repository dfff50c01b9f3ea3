"""The OpenAPI schema is valid and lists every contract path; the docs page needs no internet."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = [
    "/api/customers/",
    "/api/customers/{id}/",
    "/api/customers/{id}/engagement/",
    "/api/contacts/",
    "/api/contacts/{id}/",
    "/api/products/",
    "/api/products/{id}/",
    "/api/subscriptions/",
    "/api/subscriptions/{id}/",
    "/api/interactions/",
    "/api/interactions/{id}/",
    "/api/interactions/bulk/",
    "/api/engagement/recompute/",
    "/api/engagement/rules/",
    "/api/segments/",
]


@pytest.fixture
def schema(anon_api):
    response = anon_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_without_warnings(tmp_path):
    # --validate checks the OpenAPI 3 document; --fail-on-warn catches undocumented views.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_schema_lists_every_contract_path(schema):
    missing = [path for path in CONTRACT_PATHS if path not in schema["paths"]]
    assert missing == []


@pytest.mark.parametrize(
    ("path", "names"),
    [
        (
            "/api/customers/",
            {
                "type",
                "status",
                "owner",
                "kind",
                "country",
                "industry",
                "search",
                "ordering",
                "page",
                "page_size",
                "archived",
            },
        ),
        ("/api/contacts/", {"customer", "search", "page_size"}),
        ("/api/subscriptions/", {"customer", "status", "search"}),
        (
            "/api/interactions/",
            {"customer", "kind", "direction", "occurred_after", "occurred_before", "search"},
        ),
    ],
)
def test_schema_documents_the_filters(schema, path, names):
    documented = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
    assert names <= documented


def test_schema_documents_error_responses(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
    engagement = schema["paths"]["/api/customers/{id}/engagement/"]["get"]
    assert any(p["name"] == "as_of" for p in engagement["parameters"])


def test_docs_page_loads_with_local_assets_only(anon_api):
    response = anon_api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert not [url for url in assets if url.startswith(("http:", "https:", "//"))]
    for url in assets:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    assert "/api/schema/" in html
