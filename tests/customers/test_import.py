"""import_crm and the import service with real files: encodings, delimiters, XLSX, bad rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from customers.importing import ImportValidationError, records_import
from customers.models import Contact, Customer, Interaction, Product, Subscription
from tests.customers.dataio import write_csv, write_xlsx
from tests.factories import ContactFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

# Curly quotes and an en dash exist in Windows-1252 but not in Latin-1.
CP1252_ONLY = "Caf\u00e9 \u201cZo\u00eb\u201d \u2013 \u00d8rsted"
CUSTOMER_HEADER = ["external_id", "name", "kind", "country", "customer_since", "email"]


def run(model, path, *args):
    """Run import_crm; answer (stdout, stderr, error or None)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_crm", model, str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def database_state():
    """Every row of every importable table and of the history tables."""
    return (
        list(Customer.objects.values().order_by("pk")),
        list(Contact.objects.values().order_by("pk")),
        list(Product.objects.values().order_by("pk")),
        list(Subscription.objects.values().order_by("pk")),
        list(Interaction.objects.values().order_by("pk")),
        Customer.history.count(),
        Contact.history.count(),
        Subscription.history.count(),
    )


# Encodings, delimiters, XLSX ---------------------------------------------------------------


def test_utf8_bom_csv_creates_customers_with_history(tmp_path):
    path = write_csv(
        tmp_path / "customers.csv",
        [
            CUSTOMER_HEADER,
            ["C-1", "Ærø Økologi ApS", "company", "DK", "2023-04-01", "hi@aero.dk"],
            ["C-2", "Łukasz Żółw", "person", "PL", "", ""],
        ],
        bom=True,
    )
    out, err, error = run("customers", path)
    assert error is None, err
    assert "2 created" in out
    assert "] 2/2 rows (100%)" in err  # the progress bar
    aero = Customer.objects.get(external_id="C-1")
    assert aero.name == "Ærø Økologi ApS"
    assert aero.customer_since == dt.date(2023, 4, 1)
    # An empty cell takes the field's default on create.
    assert Customer.objects.get(external_id="C-2").customer_since == timezone.localdate()
    history = aero.history.get()
    assert history.history_type == "+"
    assert history.history_change_reason == "Imported from customers.csv"


def test_windows_1252_semicolon_file_with_accented_names(tmp_path):
    path = write_csv(
        tmp_path / "kunden.csv",
        [
            ["External ID", "Name", "Kind", "Country"],  # Excel-style headings
            ["K1", "Müller & Söhne GmbH", "Company", "DE"],
            ["K2", "Françoise Dupré", "Person", "FR"],
            ["K3", CP1252_ONLY, "company", "DK"],
        ],
        encoding="cp1252",
        delimiter=";",
    )
    _out, err, error = run("customers", path)
    assert error is None, err
    assert dict(Customer.objects.values_list("external_id", "name")) == {
        "K1": "Müller & Söhne GmbH",
        "K2": "Françoise Dupré",
        "K3": "Café “Zoë” \u2013 Ørsted",
    }
    assert Customer.objects.get(external_id="K2").kind == "person"


def test_latin1_file(tmp_path):
    path = write_csv(
        tmp_path / "latin1.csv",
        [["external_id", "name"], ["L1", "Ångström Señor Çedille"]],
        encoding="latin-1",
    )
    assert run("customers", path)[2] is None
    assert Customer.objects.get(external_id="L1").name == "Ångström Señor Çedille"


def test_xlsx_with_typed_cells(tmp_path):
    customer = CustomerFactory(external_id="1001")
    ProductFactory(sku="PRO-1")
    path = write_xlsx(
        tmp_path / "subscriptions.xlsx",
        [
            [
                "external_id",
                "customer",
                "product",
                "status",
                "started_at",
                "ended_at",
                "amount",
                "interval",
            ],
            # Excel keeps 1001 as a number, dates as dates, amounts as floats.
            ["S-1", 1001, "PRO-1", "active", dt.datetime(2024, 1, 15), None, 49.9, "month"],
            [
                "S-2",
                1001,
                "PRO-1",
                "Cancelled",
                dt.date(2023, 1, 1),
                dt.date(2023, 6, 30),
                490,
                "Yearly",
            ],
        ],
    )
    _out, err, error = run("subscriptions", path)
    assert error is None, err
    first, second = Subscription.objects.order_by("external_id")
    assert (first.customer, first.started_at, first.amount) == (
        customer,
        dt.date(2024, 1, 15),
        Decimal("49.90"),
    )
    assert (second.status, second.interval, second.ended_at) == (
        "cancelled",
        "year",
        dt.date(2023, 6, 30),
    )


def test_interactions_with_contacts_times_and_decimal_commas(tmp_path):
    customer = CustomerFactory(external_id="C1")
    contact = ContactFactory(customer=customer, external_id="P1")
    path = write_csv(
        tmp_path / "interactions.csv",
        [
            [
                "external_id",
                "customer",
                "contact",
                "kind",
                "direction",
                "occurred_at",
                "amount",
                "subject",
            ],
            ["I1", "C1", "P1", "purchase", "", "2025-03-01 14:30", "1.234,50", "Big order"],
            ["I2", "C1", "", "email", "outbound", "2025-03-02T09:00:00+02:00", "", "Follow-up"],
            ["I3", "C1", "", "note", "", "2025-03-03", "", ""],
        ],
        delimiter=";",
    )
    _out, err, error = run("interactions", path)
    assert error is None, err
    purchase, email, note = Interaction.objects.order_by("external_id")
    assert purchase.contact == contact
    assert purchase.amount == Decimal("1234.50")
    assert purchase.direction == "inbound"  # from the kind
    assert timezone.localtime(purchase.occurred_at).replace(tzinfo=None) == dt.datetime(
        2025, 3, 1, 14, 30
    )
    assert email.occurred_at == dt.datetime(2025, 3, 2, 7, 0, tzinfo=dt.UTC)
    assert note.direction == "outbound"


# Matching by key --------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing_and_writes_no_history(tmp_path):
    rows = [CUSTOMER_HEADER, ["C-1", "Acme", "company", "DE", "2020-01-01", ""]]
    path = write_csv(tmp_path / "c.csv", rows)
    run("customers", path)
    before = database_state()
    out, _, error = run("customers", path)
    assert error is None
    assert "0 created, 0 updated, 1 unchanged" in out
    assert database_state() == before


def test_a_changed_row_updates_that_record_with_one_history_row(tmp_path):
    run(
        "customers",
        write_csv(
            tmp_path / "a.csv",
            [CUSTOMER_HEADER, ["C-1", "Acme", "company", "DE", "2020-01-01", ""]],
        ),
    )
    acme = Customer.objects.get()
    out, _, _ = run(
        "customers",
        write_csv(
            tmp_path / "b.csv",
            [["external_id", "name", "country"], ["C-1", "Acme", "AT"], ["C-2", "New", "FR"]],
        ),
    )
    assert "1 created, 1 updated, 0 unchanged" in out
    acme.refresh_from_db()
    assert (acme.country, acme.customer_since) == ("AT", dt.date(2020, 1, 1))  # absent columns stay
    assert [h.history_type for h in acme.history.order_by("history_id")] == ["+", "~"]
    assert acme.history.latest().history_change_reason == "Imported from b.csv"


def test_products_match_by_sku(tmp_path):
    ProductFactory(sku="SKU-1", name="Old name", price=Decimal("10"))
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["sku", "name", "price", "kind"],
            ["SKU-1", "New name", "12.50", "service"],
            ["SKU-2", "Other", "0", "product"],
        ],
    )
    _out, err, error = run("products", path)
    assert error is None, err
    assert dict(Product.objects.values_list("sku", "name")) == {
        "SKU-1": "New name",
        "SKU-2": "Other",
    }
    assert Product.objects.get(sku="SKU-1").kind == "service"


def test_dry_run_checks_and_writes_nothing(tmp_path):
    path = write_csv(
        tmp_path / "c.csv", [CUSTOMER_HEADER, ["C-1", "Acme", "company", "DE", "2020-01-01", ""]]
    )
    out, _, error = run("customers", path, "--dry-run")
    assert error is None
    assert "1 to create" in out
    assert "nothing written" in out
    assert not Customer.objects.exists()


def test_user_option_names_the_author_of_history_rows(tmp_path, crm_admin):
    path = write_csv(tmp_path / "c.csv", [["external_id", "name"], ["C-1", "Acme"]])
    assert run("customers", path, "--user", crm_admin.username)[2] is None
    assert Customer.history.get().history_user == crm_admin


# Bad rows: every one listed, nothing written ---------------------------------------------


def test_bad_customer_rows_are_all_listed_and_nothing_is_written(tmp_path):
    CustomerFactory(external_id="KEEP", name="Kept")
    before = database_state()
    path = write_csv(
        tmp_path / "bad.csv",
        [
            [*CUSTOMER_HEADER, "colour"],
            ["C-1", "Fine Ltd", "company", "DE", "2020-01-01", "", ""],
            ["C-2", "Bad date", "company", "DE", "2020-02-30", "", ""],
            ["C-3", "Bad kind", "robot", "DE", "", "", ""],
            ["C-4", "", "company", "DE", "", "not-an-email", ""],
            ["C-1", "Twice", "company", "DE", "", "", ""],
            ["KEEP", "Renamed", "company", "DE", "31/12/2020", "", ""],
        ],
    )
    _out, err, error = run("customers", path)
    assert error is not None  # exits non-zero
    assert "nothing was written" in err
    for expected in (
        "row 1, column colour: Unknown column",
        "row 3, column customer_since:",
        "row 4, column kind: Value 'robot' is not a valid choice.",
        "row 5, column name: This field cannot be blank.",
        "row 5, column email: Enter a valid email address.",
        "row 6, column external_id: The same external_id as row 2",
        "row 7, column customer_since:",
    ):
        assert expected in err, expected
    assert "row 2," not in err  # the good row is not listed
    assert database_state() == before


def test_bad_subscription_and_interaction_rows_are_all_listed(tmp_path):
    customer = CustomerFactory(external_id="C1")
    other = CustomerFactory(external_id="C2")
    ContactFactory(customer=other, external_id="P-OTHER")
    ProductFactory(sku="SKU-1")
    before = database_state()
    subs = write_csv(
        tmp_path / "subs.csv",
        [
            ["external_id", "customer", "product", "status", "started_at", "ended_at", "amount"],
            ["S1", "C1", "SKU-1", "active", "2024-01-01", "", "-5"],
            ["S2", "NOPE", "SKU-1", "active", "2024-01-01", "", "5"],
            ["S3", "C1", "SKU-404", "active", "2024-01-01", "", "5"],
            ["S4", "C1", "SKU-1", "cancelled", "2024-01-01", "", "5"],
            ["S5", "C1", "SKU-1", "active", "2024-01-01", "2023-01-01", "5"],
            ["S6", "C1", "SKU-1", "lapsed", "2024-01-01", "", "5"],
        ],
        delimiter=";",
    )
    _, err, error = run("subscriptions", subs)
    assert error is not None
    for expected in (
        "row 2, column amount: Amount cannot be negative.",
        "row 3, column customer: No customer with external_id “NOPE”.",
        "row 4, column product: No product with sku “SKU-404”.",
        "row 5, column ended_at: An end date is required",
        "row 6, column ended_at: The end date cannot be before the start date.",
        "row 7, column status: Value 'lapsed' is not a valid choice.",
    ):
        assert expected in err, expected

    interactions = write_xlsx(
        tmp_path / "interactions.xlsx",
        [
            ["external_id", "customer", "contact", "kind", "occurred_at", "amount"],
            ["I1", "C1", "P-OTHER", "call", "2025-01-01", None],
            ["I2", "C1", None, "purchase", "2025-01-01", None],
            ["I3", "C1", None, "login", "yesterday", None],
            ["I4", "C1", None, "refund", "2025-01-01", -20],
            ["I5", None, None, "login", "2025-01-01", None],
        ],
    )
    _, err, error = run("interactions", interactions)
    assert error is not None
    for expected in (
        "row 2, column contact: This contact does not belong to the interaction's customer.",
        "row 3, column amount: A purchase needs an amount greater than zero.",
        "row 4, column occurred_at:",
        "row 5, column amount: A refund needs an amount greater than zero.",
        "row 6, column customer: This field is required.",
    ):
        assert expected in err, expected
    assert database_state() == before
    assert customer.pk  # both files referred to stored records only


def test_a_bad_row_after_thousands_of_good_ones_rolls_everything_back(tmp_path):
    rows = [["external_id", "name"]] + [[f"C{i}", f"Customer {i}"] for i in range(4500)]
    rows.append(["C-last", ""])
    _, err, error = run("customers", write_csv(tmp_path / "big.csv", rows))
    assert error is not None
    assert "row 4502, column name: This field cannot be blank." in err
    assert not Customer.objects.exists()
    assert not Customer.history.exists()


def test_two_primary_contacts_for_one_customer_are_refused(tmp_path):
    customer = CustomerFactory(external_id="C1")
    ContactFactory(customer=customer, external_id="OLD", is_primary=True)
    path = write_csv(
        tmp_path / "contacts.csv",
        [
            ["external_id", "customer", "last_name", "is_primary"],
            ["N1", "C1", "Newman", "yes"],
        ],
    )
    _, err, error = run("contacts", path)
    assert error is not None
    assert "row 2, column is_primary: This customer already has a primary contact." in err
    # Moving the flag in one file works when the old primary comes first.
    moved = write_csv(
        tmp_path / "moved.csv",
        [
            ["external_id", "customer", "last_name", "is_primary"],
            ["OLD", "C1", "Oldman", "no"],
            ["N1", "C1", "Newman", "yes"],
        ],
    )
    _, err, error = run("contacts", moved)
    assert error is None, err
    assert Contact.objects.get(is_primary=True).external_id == "N1"


def test_service_report_lists_every_error_with_row_and_column(tmp_path):
    data = b"external_id,name,kind\nA,,robot\nB,Ok,company\n"
    with pytest.raises(ImportValidationError) as caught:
        records_import(model_name="customers", data=data, filename="x.csv")
    report = caught.value.report
    assert [(e.row, e.column) for e in report.errors] == [(2, "name"), (2, "kind")]
    assert report.bad_rows == [2]
    assert not Customer.objects.exists()


def test_missing_file_and_empty_file_are_refused(tmp_path):
    assert run("customers", tmp_path / "nope.csv")[2] is not None
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty" in str(run("customers", empty)[2])
