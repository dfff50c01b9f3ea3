"""Export of filtered admin lists to CSV and XLSX, per role, and the export/import round trip."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from customers.importing import records_import
from customers.models import Contact, Customer, Interaction, Product, Subscription
from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
from tests.customers.dataio import read_csv_bytes, read_xlsx_bytes
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def export_url(model, fmt="csv", query=""):
    url = reverse("admin:crm_export", args=[model, fmt])
    return f"{url}?{query}" if query else url


def body(response) -> bytes:
    if isinstance(response, StreamingHttpResponse) or response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def engagement_for(customer, **fields):
    rule_set, _ = RuleSet.objects.get_or_create(version=1)
    return EngagementResult.objects.create(
        customer=customer,
        rule_set=rule_set,
        as_of=timezone.localdate(),
        computed_at=timezone.now(),
        **{"status": "active", "score": 50, **fields},
    )


def test_customer_csv_export_keeps_the_lists_filter_and_search(client, rep):
    at_risk = CustomerFactory(name="Zephyr Risky", external_id="C1", owner=rep)
    engagement_for(at_risk, status="at_risk", type_loyal=True, type_support=True, score=31)
    engagement_for(CustomerFactory(name="Zephyr Fine"), status="active")
    engagement_for(CustomerFactory(name="Other Risky"), status="at_risk")
    client.force_login(rep)
    response = client.get(export_url("customer", query="status=at_risk&q=Zephyr&p=2"))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    rows = read_csv_bytes(data)
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "Zephyr Risky"
    assert row["external_id"] == "C1"
    assert row["owner"] == rep.username
    assert row["engagement_status"] == "at_risk"
    assert row["engagement_types"] == "loyal, support"
    assert row["engagement_score"] == "31"


def test_archived_customers_are_exported_only_when_the_list_shows_them(client, cs):
    CustomerFactory(name="Live")
    CustomerFactory(name="Gone", archived_at=timezone.now())
    client.force_login(cs)
    assert [r["name"] for r in read_csv_bytes(body(client.get(export_url("customer"))))] == ["Live"]
    rows = read_csv_bytes(body(client.get(export_url("customer", query="archived=yes"))))
    assert [r["name"] for r in rows] == ["Gone"]
    assert rows[0]["archived_at"]


def test_contacts_xlsx_export_is_filtered(client, cs):
    customer = CustomerFactory(external_id="C1", name="Acme")
    ContactFactory(customer=customer, last_name="Primary", is_primary=True, external_id="P1")
    ContactFactory(customer=customer, last_name="Other")
    client.force_login(cs)
    response = client.get(export_url("contact", "xlsx", "is_primary__exact=1"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx_bytes(body(response))
    assert [(r["last_name"], r["customer"], r["customer_name"], r["is_primary"]) for r in rows] == [
        ("Primary", "C1", "Acme", True)
    ]


def test_interactions_export_in_both_formats(client, crm_admin):
    customer = CustomerFactory(external_id="C1")
    when = timezone.make_aware(dt.datetime(2025, 5, 1, 9, 30))
    InteractionFactory(
        customer=customer,
        kind="purchase",
        amount=Decimal("12.50"),
        occurred_at=when,
        external_id="I1",
    )
    InteractionFactory(customer=customer, kind="login")
    client.force_login(crm_admin)
    csv_rows = read_csv_bytes(
        body(client.get(export_url("interaction", query="kind__exact=purchase")))
    )
    assert [(r["external_id"], r["customer"], r["amount"]) for r in csv_rows] == [
        ("I1", "C1", "12.50")
    ]
    assert dt.datetime.fromisoformat(csv_rows[0]["occurred_at"]) == when
    xlsx_rows = read_xlsx_bytes(
        body(client.get(export_url("interaction", "xlsx", "kind__exact=purchase")))
    )
    assert xlsx_rows[0]["occurred_at"] == timezone.make_naive(
        when
    )  # local time: Excel has no zones
    assert xlsx_rows[0]["amount"] == 12.5


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_every_role_that_reads_may_export(client, role, request):
    CustomerFactory()
    client.force_login(request.getfixturevalue(role))
    for model in ("customer", "contact", "product", "subscription", "interaction"):
        assert client.get(export_url(model)).status_code == 200, model
        assert client.get(export_url(model, "xlsx")).status_code == 200, model


def test_anonymous_and_roleless_users_cannot_export(client):
    from tests.factories import UserFactory

    assert client.get(export_url("customer")).status_code == 302  # to the login page
    client.force_login(UserFactory(username="nobody"))
    assert client.get(export_url("customer")).status_code == 403


def test_export_costs_the_same_queries_for_any_row_count(
    client, crm_admin, django_assert_max_num_queries
):
    client.force_login(crm_admin)

    def export(model):
        response = client.get(export_url(model))
        return len(read_csv_bytes(body(response)))

    for customer in CustomerFactory.create_batch(5, owner=crm_admin):
        engagement_for(customer)
        ContactFactory(customer=customer)
        InteractionFactory(customer=customer, contact=None)
    # session, user, groups, changelist count + page, the export itself (chunked)
    with django_assert_max_num_queries(12):
        assert export("customer") == 5
    with django_assert_max_num_queries(12):
        assert export("interaction") == 5
    for customer in CustomerFactory.create_batch(60, owner=crm_admin):
        engagement_for(customer)
        InteractionFactory(customer=customer, contact=ContactFactory(customer=customer))
    with django_assert_max_num_queries(12):
        assert export("customer") == 65
    with django_assert_max_num_queries(12):
        assert export("interaction") == 65
    with django_assert_max_num_queries(12):
        assert export("contact") == 65


# Round trip --------------------------------------------------------------------------------


def snapshot():
    """Every imported field of every record, keyed by what imports match on."""
    return {
        "customers": sorted(
            Customer.objects.values_list(
                "external_id",
                "name",
                "kind",
                "email",
                "phone",
                "country",
                "industry",
                "owner__username",
                "customer_since",
            )
        ),
        "contacts": sorted(
            Contact.objects.values_list(
                "external_id",
                "customer__external_id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "title",
                "is_primary",
                "marketing_opt_in",
            )
        ),
        "products": sorted(
            Product.objects.values_list("sku", "name", "kind", "price", "currency", "is_active")
        ),
        "subscriptions": sorted(
            Subscription.objects.values_list(
                "external_id",
                "customer__external_id",
                "product__sku",
                "status",
                "started_at",
                "ended_at",
                "amount",
                "interval",
            )
        ),
        "interactions": sorted(
            Interaction.objects.values_list(
                "external_id",
                "customer__external_id",
                "contact__external_id",
                "kind",
                "direction",
                "occurred_at",
                "amount",
                "subject",
                "notes",
                "created_by__username",
            ),
            key=str,
        ),
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_into_an_empty_database_reproduces_the_records(
    client, crm_admin, rep, fmt
):
    ada = CustomerFactory(external_id="C1", name="Ærø Café", owner=rep, phone="+45 1", industry="")
    bob = CustomerFactory(external_id="C2", name='Bob; "quoted", Ltd', kind="person", country="")
    ContactFactory(
        customer=ada,
        external_id="P1",
        first_name="Zoë",
        is_primary=True,
        marketing_opt_in=True,
        title="CEO",
    )
    ContactFactory(customer=bob, external_id="P2", first_name="", email="")
    pro = ProductFactory(
        sku="PRO", name="Pro plan", price=Decimal("49.90"), kind="service", is_active=False
    )
    SubscriptionFactory(
        customer=ada, product=pro, external_id="S1", amount=Decimal("49.90"), interval="year"
    )
    SubscriptionFactory(
        customer=bob,
        product=pro,
        external_id="S2",
        status="cancelled",
        started_at=dt.date(2023, 1, 1),
        ended_at=dt.date(2023, 12, 31),
    )
    contact = Contact.objects.get(external_id="P1")
    InteractionFactory(
        customer=ada,
        contact=contact,
        kind="purchase",
        amount=Decimal("99.99"),
        external_id="I1",
        occurred_at=timezone.make_aware(dt.datetime(2025, 1, 2, 3, 4, 5)),
        subject="Order; #1",
        notes="Line one\nline two",
        created_by=rep,
    )
    InteractionFactory(
        customer=bob,
        kind="email",
        direction="outbound",
        external_id="I2",
        subject="Hi",
        # Excel stores times to the millisecond.
        occurred_at=timezone.now().replace(microsecond=123000),
    )
    expected = snapshot()

    client.force_login(crm_admin)
    files = {
        name: body(
            client.get(export_url(model, fmt, "archived=all" if model == "customer" else ""))
        )
        for model, name in (
            ("customer", "customers"),
            ("contact", "contacts"),
            ("product", "products"),
            ("subscription", "subscriptions"),
            ("interaction", "interactions"),
        )
    }
    Interaction.objects.all().delete()
    Subscription.objects.all().delete()
    Contact.objects.all().delete()
    Customer.objects.all().delete()
    Product.objects.all().delete()

    for name in ("customers", "products", "contacts", "subscriptions", "interactions"):
        report = records_import(model_name=name, data=files[name], filename=f"{name}.{fmt}")
        assert report.errors == []
    assert snapshot() == expected
    # And importing the same exports again changes nothing.
    for name in ("customers", "products", "contacts", "subscriptions", "interactions"):
        report = records_import(model_name=name, data=files[name], filename=f"{name}.{fmt}")
        assert (report.created, report.updated) == (0, 0), name


def test_xlsx_export_past_a_worksheets_rows_sends_back_to_the_list(client, cs, monkeypatch):
    from customers import exporting

    monkeypatch.setattr(exporting, "XLSX_MAX_ROWS", 2)
    CustomerFactory.create_batch(3, country="DE")
    client.force_login(cs)
    response = client.get(export_url("customer", "xlsx", "q=Customer"))
    assert response.status_code == 302
    assert response.url == reverse("admin:customers_customer_changelist") + "?q=Customer"
    assert client.get(export_url("customer", "csv", "q=Customer")).status_code == 200


_HOSTILE = {
    "name": '=HYPERLINK("http://evil.example","click")',
    "industry": "@SUM(A1:A9)",
    "phone": "+49 30 1234",
    "country": "-2",
}


def test_csv_export_writes_formula_like_text_as_text(client, cs):
    CustomerFactory(external_id="C1", **_HOSTILE)
    client.force_login(cs)
    (row,) = read_csv_bytes(body(client.get(export_url("customer"))))
    assert row["name"] == "'" + _HOSTILE["name"]
    assert row["industry"] == "'@SUM(A1:A9)"
    assert row["phone"] == "'+49 30 1234"
    assert row["country"] == "-2"  # a plain number runs nothing


def test_xlsx_export_writes_formula_like_text_as_text_cells(client, cs):
    from openpyxl import load_workbook

    CustomerFactory(external_id="C1", **_HOSTILE)
    client.force_login(cs)
    data = body(client.get(export_url("customer", "xlsx")))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert cells["name"].value == _HOSTILE["name"]
    assert cells["name"].data_type == "s"
    assert cells["industry"].data_type == "s"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_control_character_in_a_name_does_not_break_the_export(client, cs, fmt):
    from openpyxl import load_workbook

    CustomerFactory(external_id="C1", name="Bell\x07 Ltd")
    CustomerFactory(external_id="C2", name="Fine Ltd")
    client.force_login(cs)
    response = client.get(export_url("customer", fmt))
    assert response.status_code == 200
    data = body(response)
    if fmt == "csv":
        names = [r["name"] for r in read_csv_bytes(data)]
    else:
        names = [row[2].value for row in load_workbook(io.BytesIO(data)).worksheets[0]][1:]
    assert sorted(names) == ["Bell Ltd", "Fine Ltd"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exported_formula_like_text_imports_back_unchanged(client, crm_admin, fmt):
    CustomerFactory(external_id="C1", **_HOSTILE)
    client.force_login(crm_admin)
    data = body(client.get(export_url("customer", fmt)))
    Customer.objects.all().delete()
    records_import(model_name="customers", data=data, filename=f"customers.{fmt}")
    customer = Customer.objects.get(external_id="C1")
    assert (customer.name, customer.industry, customer.phone, customer.country) == (
        _HOSTILE["name"],
        _HOSTILE["industry"],
        _HOSTILE["phone"],
        _HOSTILE["country"],
    )
