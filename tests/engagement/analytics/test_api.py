"""The metrics API: the contract's shapes, every role reads, bad parameters name the field."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, InteractionFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def history(rep):
    old = CustomerFactory(owner=rep, customer_since=dt.date(2025, 1, 1), country="FR")
    fresh = CustomerFactory(customer_since=dt.date(2026, 2, 10), country="DE")
    for customer, day in ((old, 5), (old, 40), (fresh, 40)):
        InteractionFactory(
            customer=customer,
            occurred_at=dt.datetime(2026, 1, 1, 12, tzinfo=UTC) + dt.timedelta(days=day),
        )
    return old, fresh


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_every_role_reads_activity_with_empty_buckets(request, history, role):
    user = request.getfixturevalue(role)
    response = client_for(user).get(
        "/api/metrics/activity/", {"period": "month", "start": "2026-01-01", "end": "2026-04-30"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "period": "month",
        "results": [
            {"start": "2026-01-01", "active": 1},
            {"start": "2026-02-01", "active": 2},
            {"start": "2026-03-01", "active": 0},
            {"start": "2026-04-01", "active": 0},
        ],
    }


def test_lifecycle_shape_and_segment_filter(cs, history, rep):
    response = client_for(cs).get(
        "/api/metrics/lifecycle/",
        {"period": "month", "start": "2026-01-01", "end": "2026-03-31", "owner": rep.pk},
    )
    assert response.status_code == 200
    assert response.json() == {
        "period": "month",
        "results": [
            {"start": "2026-01-01", "new": 0, "returning": 0, "resurrecting": 1, "dormant": 0},
            {"start": "2026-02-01", "new": 0, "returning": 1, "resurrecting": 0, "dormant": 0},
            {"start": "2026-03-01", "new": 0, "returning": 0, "resurrecting": 0, "dormant": 1},
        ],
    }
    by_country = client_for(cs).get(
        "/api/metrics/lifecycle/", {"start": "2026-02-01", "end": "2026-02-28", "country": "DE"}
    )
    assert by_country.json()["results"] == [
        {"start": "2026-02-01", "new": 1, "returning": 0, "resurrecting": 0, "dormant": 0}
    ]


def test_anonymous_and_roleless_users_are_refused(db):
    assert client_for(None).get("/api/metrics/activity/").status_code in (401, 403)
    assert (
        client_for(UserFactory(username="nobody")).get("/api/metrics/activity/").status_code == 403
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "year"}, "period"),
        ({"start": "01/02/2026"}, "start"),
        ({"end": "tomorrow"}, "end"),
        ({"start": "2026-03-01", "end": "2026-01-01"}, "start"),
        ({"period": "day", "start": "2019-01-01", "end": "2026-01-01"}, "start"),
        ({"kind": "robot"}, "kind"),
        ({"owner": "x"}, "owner"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(cs, params, field):
    for path in ("/api/metrics/activity/", "/api/metrics/lifecycle/"):
        response = client_for(cs).get(path, params)
        assert response.status_code == 400
        assert field in response.json(), response.json()


@pytest.mark.parametrize(
    "name",
    [
        "stickiness",
        "status",
        "types",
        "rates",
        "activation",
        "mrr",
        "revenue",
        "cohorts",
        "comparison",
    ],
)
def test_other_figures_answer_for_the_period(rep, history, name):
    response = client_for(rep).get(
        f"/api/metrics/{name}/", {"period": "week", "start": "2026-01-05", "end": "2026-02-15"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "week"
    assert body["results"]


def test_revenue_and_mrr_figures(cs):
    customer = CustomerFactory()
    InteractionFactory(
        customer=customer,
        kind="purchase",
        amount=Decimal("12.50"),
        occurred_at=dt.datetime(2026, 3, 3, tzinfo=UTC),
    )
    response = client_for(cs).get(
        "/api/metrics/revenue/", {"start": "2026-03-01", "end": "2026-03-31"}
    )
    assert response.json()["results"][0]["revenue"] in (12.5, "12.50")


def test_metrics_paths_are_documented_in_a_valid_schema():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for name in ("activity", "lifecycle", "stickiness", "cohorts", "comparison", "mrr", "rates"):
        operation = schema["paths"][f"/api/metrics/{name}/"]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"period", "start", "end", "owner"}
