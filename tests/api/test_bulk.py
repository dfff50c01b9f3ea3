"""POST /api/interactions/bulk/: all or nothing, duplicates by external_id, limits, roles."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import ChangedCustomer, Customer, Interaction
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/interactions/bulk/"


def _rows(customer, n, *, prefix="ev"):
    return [
        {
            "customer": customer.pk,
            "kind": "login",
            "occurred_at": f"2024-03-{1 + i % 28:02d}T10:00:00Z",
            "external_id": f"{prefix}-{i}",
        }
        for i in range(n)
    ]


def test_all_valid_rows_are_written(cs_api, cs):
    customer = CustomerFactory()
    rows = [
        *_rows(customer, 3),
        {"customer": customer.pk, "kind": "purchase", "amount": "19.90"},
        {"customer": customer.pk, "kind": "note"},
    ]
    response = cs_api.post(URL, rows, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 5, "duplicates": 0}
    assert Interaction.objects.filter(customer=customer).count() == 5
    note = Interaction.objects.get(kind="note")
    assert (note.direction, note.created_by) == ("outbound", cs)


def test_retrying_a_batch_counts_duplicates_and_writes_nothing_twice(cs_api):
    customer = CustomerFactory()
    rows = _rows(customer, 4)
    assert cs_api.post(URL, rows, format="json").json() == {"created": 4, "duplicates": 0}
    assert cs_api.post(URL, rows, format="json").json() == {"created": 0, "duplicates": 4}
    assert Interaction.objects.count() == 4


def test_a_repeated_external_id_inside_one_batch_is_a_duplicate(cs_api):
    customer = CustomerFactory()
    rows = _rows(customer, 2) + _rows(customer, 1)
    assert cs_api.post(URL, rows, format="json").json() == {"created": 2, "duplicates": 1}


def test_any_invalid_row_writes_nothing_and_names_row_and_field(cs_api):
    customer = CustomerFactory()
    rows = _rows(customer, 3)
    rows[1]["kind"] = "dance"
    rows.append({"customer": customer.pk, "kind": "purchase"})
    rows.append({"kind": "login"})
    response = cs_api.post(URL, rows, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"1", "3", "4"}
    assert "kind" in errors["1"]
    assert "amount" in errors["3"]
    assert "customer" in errors["4"]
    assert not Interaction.objects.exists()


def test_an_unknown_customer_is_a_row_error(cs_api):
    response = cs_api.post(URL, [{"customer": 999999, "kind": "login"}], format="json")
    assert response.status_code == 400
    assert "customer" in response.json()["0"]


def test_more_than_5000_rows_is_a_clear_400(cs_api):
    customer = CustomerFactory()
    rows = [{"customer": customer.pk, "kind": "login"}] * 5001
    response = cs_api.post(URL, rows, format="json")
    assert response.status_code == 400
    assert "5000" in response.json()["rows"][0]
    assert not Interaction.objects.exists()


def test_exactly_5000_rows_are_accepted(cs_api):
    customer = CustomerFactory()
    rows = [{"customer": customer.pk, "kind": "login"}] * 5000
    response = cs_api.post(URL, rows, format="json")
    assert response.status_code == 200
    assert response.json() == {"created": 5000, "duplicates": 0}


@pytest.mark.parametrize("body", [{"customer": 1}, "text", 5])
def test_a_body_that_is_not_a_list_is_a_400(cs_api, body):
    response = cs_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert "rows" in response.json()


def test_malformed_json_is_a_400(cs_api):
    response = cs_api.generic("POST", URL, "[{", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_rep_logs_in_bulk_on_own_customers_only(rep_api, rep, other_rep):
    mine = CustomerFactory(owner=rep)
    theirs = CustomerFactory(owner=other_rep)
    assert rep_api.post(URL, _rows(mine, 2), format="json").status_code == 200
    response = rep_api.post(URL, _rows(mine, 1, prefix="x") + _rows(theirs, 1), format="json")
    assert response.status_code == 403
    assert "customer" in response.json()["rows"]["1"]
    assert Interaction.objects.count() == 2


@pytest.mark.parametrize("role", ["cs", "admin"])
def test_cs_and_admin_log_in_bulk_on_any_customer(api_for, other_rep, role):
    customer = CustomerFactory(owner=other_rep)
    response = api_for(role).post(URL, _rows(customer, 2), format="json")
    assert response.json() == {"created": 2, "duplicates": 0}


def test_anonymous_bulk_is_refused(anon_api):
    customer = CustomerFactory()
    assert anon_api.post(URL, _rows(customer, 1), format="json").status_code == 401
    assert not Interaction.objects.exists()


def test_a_list_or_object_where_a_value_belongs_is_a_row_error(cs_api):
    customer = CustomerFactory()
    rows = [
        {"customer": customer.pk, "kind": "login"},
        {"customer": customer.pk, "kind": "login", "occurred_at": {}},
        "not a row",
        {"customer": customer.pk, "kind": "login", "occurred_at": 1700000000},
        {"customer": True, "kind": "login"},
    ]
    response = cs_api.post(URL, rows, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"1", "2", "3", "4"}
    assert "occurred_at" in errors["1"]
    assert "occurred_at" in errors["3"]
    assert "customer" in errors["4"]
    assert not Interaction.objects.exists()


def test_a_rep_naming_a_customer_they_do_not_own_mid_batch_writes_nothing(rep_api, rep, other_rep):
    mine = CustomerFactory(owner=rep)
    theirs = CustomerFactory(owner=other_rep)
    rows = _rows(mine, 600)
    rows[321] = {**rows[321], "customer": theirs.pk}
    response = rep_api.post(URL, rows, format="json")
    assert response.status_code == 403
    assert list(response.json()["rows"]) == ["321"]
    assert not Interaction.objects.exists()
    assert not ChangedCustomer.objects.exists()


def test_a_contact_of_another_customer_is_a_row_error_on_contact(cs_api):
    mine, other = CustomerFactory(), CustomerFactory()
    rows = _rows(mine, 3)
    rows[1]["contact"] = ContactFactory(customer=other).pk
    response = cs_api.post(URL, rows, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert "contact" in response.json()["1"]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_a_batch_costs_the_same_queries_at_10_and_1000_rows(api_for, rep, role):
    Customer.objects.bulk_create([Customer(name=f"Q{i}", owner=rep) for i in range(1010)])
    customers = list(Customer.objects.order_by("pk"))
    client = api_for(role)

    def post(first, n):
        rows = [
            {"customer": customers[i].pk, "kind": "login", "external_id": f"q-{i}"}
            for i in range(first, first + n)
        ]
        with CaptureQueriesContext(connection) as captured:
            response = client.post(URL, rows, format="json")
        assert response.json() == {"created": n, "duplicates": 0}
        return len(captured)

    post(0, 1)  # the token and the role's groups are cached from here on
    small, large = post(1, 10), post(11, 999)
    assert small == large <= 10
