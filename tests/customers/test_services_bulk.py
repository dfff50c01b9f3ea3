"""interactions_bulk_record validated per batch: the same verdicts as full_clean(), errors by
row index, duplicates against the batch and the table, a constant number of queries."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import services
from customers.models import ChangedCustomer, Customer, Interaction
from tests.factories import ContactFactory, CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def _row(customer, **extra):
    return {
        "customer": customer.pk,
        "kind": "login",
        "occurred_at": "2024-03-01T10:00:00Z",
        **extra,
    }


def _customers(n):
    Customer.objects.bulk_create([Customer(name=f"Bulk {i}") for i in range(n)])
    return list(Customer.objects.order_by("pk"))


def test_bad_rows_in_the_middle_of_a_batch_are_named_by_index_and_nothing_is_written():
    customers = _customers(10)
    rows = [_row(customers[i % 10], external_id=f"e-{i}") for i in range(1000)]
    rows[17]["kind"] = "dance"
    rows[500] = _row(customers[0], kind="purchase")  # no amount
    rows[501]["occurred_at"] = "31/12/2024"
    rows[998]["subject"] = "x" * 201
    rows[999]["customer"] = 987_654
    with pytest.raises(services.BulkValidationError) as exc:
        services.interactions_bulk_record(rows=rows)
    errors = exc.value.message_dict
    assert set(errors) == {17, 500, 501, 998, 999}
    assert list(errors[17]) == ["kind"]
    assert list(errors[500]) == ["amount"]
    assert list(errors[501]) == ["occurred_at"]
    assert list(errors[998]) == ["subject"]
    assert errors[999] == {"customer": ["Customer 987654 does not exist."]}
    assert not Interaction.objects.exists()
    assert not ChangedCustomer.objects.exists()


def test_a_contact_of_another_customer_is_refused_on_contact():
    mine, other = CustomerFactory(), CustomerFactory()
    my_contact, their_contact = ContactFactory(customer=mine), ContactFactory(customer=other)
    rows = [
        _row(mine, contact=my_contact.pk),
        _row(mine, contact=their_contact.pk),
        _row(mine, contact=999_999),
    ]
    with pytest.raises(services.BulkValidationError) as exc:
        services.interactions_bulk_record(rows=rows)
    assert exc.value.message_dict == {
        1: {"contact": [Interaction.CONTACT_OF_ANOTHER_CUSTOMER]},
        2: {"contact": ["Contact 999999 does not exist."]},
    }
    assert services.interactions_bulk_record(rows=rows[:1]) == (1, 0)
    assert Interaction.objects.get().contact == my_contact


def test_duplicates_against_stored_rows_and_within_the_batch_are_counted_not_written():
    customers = _customers(5)
    for i in range(0, 300):
        InteractionFactory(customer=customers[i % 5], external_id=f"x-{i}")
    # 300 stored, 600 new, 100 repeats of new ones inside the batch.
    rows = [_row(customers[i % 5], external_id=f"x-{i}") for i in range(900)]
    rows += [_row(customers[i % 5], external_id=f"x-{i}") for i in range(800, 900)]
    assert services.interactions_bulk_record(rows=rows) == (600, 400)
    assert Interaction.objects.count() == 900
    # The same id on another customer is another interaction.
    moved = [_row(customers[(i + 1) % 5], external_id=f"x-{i}") for i in range(5)]
    assert services.interactions_bulk_record(rows=moved) == (5, 0)


def _full_clean(customer, fields) -> tuple[set, Interaction]:
    """The reference: the model's own field and clean() rules on one instance."""
    interaction = Interaction(customer=customer, **fields)
    errors = {}
    try:
        interaction.clean_fields()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not {"kind", "amount"} & set(errors):  # clean() compares the cleaned amount
        try:
            interaction.clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    return set(errors), interaction


# Each value gets the verdict the model's full_clean() gives it.
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"kind": "purchase", "amount": "19.90"},
        {"kind": "purchase", "amount": 7},
        {"kind": "purchase", "amount": "1.234"},
        {"kind": "purchase", "amount": "12345678901.00"},
        {"kind": "purchase", "amount": "-3"},
        {"kind": "refund", "amount": "abc"},
        {"kind": "login", "amount": "5"},
        {"kind": ""},
        {"kind": None},
        {"kind": "LOGIN"},
        {"direction": "sideways"},
        {"direction": "inbound"},
        {"direction": None},
        {"subject": "x" * 200},
        {"subject": "x" * 201},
        {"subject": None},
        {"notes": None},
        {"external_id": 12345},
        {"external_id": "e" * 101},
        {"occurred_at": "2024-03-01"},
        {"occurred_at": "2024-03-01T10:00"},
        {"occurred_at": "2024-02-30T10:00:00Z"},
        {"occurred_at": "yesterday"},
        {"occurred_at": None},
    ],
)
def test_each_value_gets_the_verdict_full_clean_gives(extra):
    customer = CustomerFactory()
    fields = {"kind": "login", "occurred_at": "2024-03-01T10:00:00Z", **extra}
    expected_errors, reference = _full_clean(customer, fields)
    try:
        services.interactions_bulk_record(rows=[{"customer": customer.pk, **fields}])
        errors = set()
    except services.BulkValidationError as exc:
        errors = set(exc.message_dict[0])
    assert errors == expected_errors
    if not errors:
        stored = Interaction.objects.get()
        expected_time = reference.occurred_at
        if timezone.is_naive(expected_time):  # a time without offset: the project's zone
            expected_time = timezone.make_aware(expected_time)
        assert stored.occurred_at == expected_time
        for name in ("kind", "direction", "amount", "external_id"):
            assert getattr(stored, name) == getattr(reference, name), name
        # Text not given is stored as "".
        assert (stored.subject, stored.notes) == (reference.subject or "", reference.notes or "")


def test_the_bulk_insert_writes_every_column_of_the_model():
    columns = {f.attname for f in Interaction._meta.concrete_fields if not f.primary_key}
    assert set(services._BULK_COLUMNS) == columns


def _queries(rows):
    with CaptureQueriesContext(connection) as captured:
        services.interactions_bulk_record(rows=rows)
    return len(captured)


def test_a_1000_row_batch_costs_the_same_few_queries_as_a_10_row_batch():
    customers = _customers(1010)
    contacts = [ContactFactory(customer=c) for c in customers[:20]]

    def batch(first, n):
        return [
            _row(
                customers[i],
                external_id=f"q-{i}",
                contact=contacts[i].pk if i < 20 else None,
                kind="purchase" if i % 3 else "login",
                amount="5.00" if i % 3 else None,
            )
            for i in range(first, first + n)
        ]

    small = _queries(batch(0, 10))
    large = _queries(batch(10, 1000))
    # customers, contacts, stored external ids, the insert, the outbox mark, and the
    # savepoint around the write
    assert large == small <= 7
    assert Interaction.objects.count() == 1010
    assert ChangedCustomer.objects.count() == 1010
    assert _queries(batch(10, 1000)) <= 7  # the retry: every row a duplicate, nothing written
    assert Interaction.objects.count() == 1010


def test_an_amount_is_stored_exactly():
    customer = CustomerFactory()
    services.interactions_bulk_record(rows=[_row(customer, kind="purchase", amount="0.10")])
    assert Interaction.objects.get().amount == Decimal("0.10")
