import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import events, services
from customers.models import Customer, Interaction, Subscription
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """Collect (event name, kwargs) of every customers event sent."""
    calls = []

    def make(name):
        def receiver(sender, **kwargs):
            kwargs.pop("signal", None)
            calls.append((name, kwargs))

        return receiver

    receivers = {
        events.interactions_recorded: make("interactions_recorded"),
        events.subscriptions_changed: make("subscriptions_changed"),
        events.customers_changed: make("customers_changed"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    yield calls
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


# Customers


def test_rep_creating_a_customer_becomes_its_owner(rep):
    customer = services.customer_create(user=rep, name="Acme")
    assert customer.owner == rep


def test_rep_can_create_a_customer_for_another_owner(rep, other_rep):
    customer = services.customer_create(user=rep, name="Acme", owner=other_rep)
    assert customer.owner == other_rep


def test_admin_creating_a_customer_does_not_become_owner(crm_admin):
    customer = services.customer_create(user=crm_admin, name="Acme")
    assert customer.owner is None


def test_customer_create_names_the_invalid_field():
    with pytest.raises(ValidationError) as exc:
        services.customer_create(name="", email="not-an-email", kind="planet")
    assert {"name", "email", "kind"} <= set(exc.value.message_dict)
    assert not Customer.objects.exists()


def test_customer_create_refuses_unknown_fields():
    with pytest.raises(ValidationError) as exc:
        services.customer_create(name="Acme", colour="red")
    assert "colour" in exc.value.message_dict


def test_duplicate_customer_external_id_is_an_error_on_that_field():
    services.customer_create(name="A", external_id="X-1")
    with pytest.raises(ValidationError) as exc:
        services.customer_create(name="B", external_id="X-1")
    assert "external_id" in exc.value.message_dict


def test_customer_since_defaults_to_today():
    customer = services.customer_create(name="Acme")
    assert customer.customer_since == timezone.localdate()


def test_customer_update_validates(rep):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.customer_update(customer=customer, email="nope")
    assert "email" in exc.value.message_dict
    customer.refresh_from_db()
    assert customer.email != "nope"
    services.customer_update(customer=customer, user=rep, industry="Energy")
    customer.refresh_from_db()
    assert customer.industry == "Energy"
    assert customer.history.first().history_user == rep


def test_archive_and_restore(received):
    customer = CustomerFactory()
    services.customer_archive(customer=customer)
    customer.refresh_from_db()
    first_archived_at = customer.archived_at
    assert first_archived_at is not None
    assert not Customer.objects.unarchived().filter(pk=customer.pk).exists()
    services.customer_archive(customer=customer)
    customer.refresh_from_db()
    assert customer.archived_at == first_archived_at
    services.customer_restore(customer=customer)
    customer.refresh_from_db()
    assert customer.archived_at is None
    assert Customer.objects.unarchived().filter(pk=customer.pk).exists()


# Contacts


def test_second_primary_contact_is_refused_on_is_primary():
    customer = CustomerFactory()
    services.contact_create(customer=customer, last_name="One", is_primary=True)
    with pytest.raises(ValidationError) as exc:
        services.contact_create(customer=customer, last_name="Two", is_primary=True)
    assert "is_primary" in exc.value.message_dict


def test_contact_needs_a_last_name():
    with pytest.raises(ValidationError) as exc:
        services.contact_create(customer=CustomerFactory(), first_name="Ada")
    assert "last_name" in exc.value.message_dict


def test_contact_update():
    contact = ContactFactory()
    services.contact_update(contact=contact, title="CTO")
    contact.refresh_from_db()
    assert contact.title == "CTO"


# Subscriptions


@pytest.mark.parametrize("status", ["cancelled", "expired"])
def test_subscription_create_needs_end_date_when_ended(status):
    with pytest.raises(ValidationError) as exc:
        services.subscription_create(
            customer=CustomerFactory(), product=ProductFactory(), status=status
        )
    assert "ended_at" in exc.value.message_dict


def test_subscription_update_cancel_sends_cancelled_event(
    django_capture_on_commit_callbacks, received
):
    sub = SubscriptionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_update(
            subscription=sub, status="cancelled", ended_at=timezone.localdate()
        )
    assert received == [
        (
            "subscriptions_changed",
            {"customer_ids": [sub.customer_id], "cancelled_customer_ids": [sub.customer_id]},
        )
    ]
    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_update(subscription=sub, amount=Decimal("10"))
    assert received[0][1]["cancelled_customer_ids"] == []


def test_negative_subscription_amount_is_refused_on_amount():
    with pytest.raises(ValidationError) as exc:
        services.subscription_create(
            customer=CustomerFactory(), product=ProductFactory(), amount=Decimal("-1")
        )
    assert "amount" in exc.value.message_dict


def test_subscription_cannot_end_before_start():
    with pytest.raises(ValidationError) as exc:
        services.subscription_create(
            customer=CustomerFactory(),
            product=ProductFactory(),
            started_at=dt.date(2024, 5, 1),
            ended_at=dt.date(2024, 4, 1),
        )
    assert "ended_at" in exc.value.message_dict
    assert not Subscription.objects.exists()


# Interactions


def test_interaction_record_defaults_direction_and_sets_created_by(
    rep, django_capture_on_commit_callbacks, received
):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        note = services.interaction_record(customer=customer, user=rep, kind="note")
        call = services.interaction_record(customer=customer, user=rep, kind="call")
    assert (note.direction, call.direction) == ("outbound", "inbound")
    assert note.created_by == rep
    assert received == [("interactions_recorded", {"customer_ids": [customer.pk]})] * 2


def test_no_event_when_the_transaction_rolls_back(django_capture_on_commit_callbacks, received):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.interaction_record(customer=customer, kind="purchase")
    assert received == []


@pytest.mark.parametrize("kind", ["purchase", "refund"])
def test_interaction_record_money_kinds_need_an_amount(kind):
    with pytest.raises(ValidationError) as exc:
        services.interaction_record(customer=CustomerFactory(), kind=kind, amount=Decimal("0"))
    assert "amount" in exc.value.message_dict


def test_interaction_record_refuses_contact_of_another_customer():
    with pytest.raises(ValidationError) as exc:
        services.interaction_record(
            customer=CustomerFactory(), contact=ContactFactory(), kind="call"
        )
    assert "contact" in exc.value.message_dict


def test_interaction_record_refuses_repeated_external_id_on_that_field():
    customer = CustomerFactory()
    services.interaction_record(customer=customer, kind="login", external_id="e-1")
    with pytest.raises(ValidationError) as exc:
        services.interaction_record(customer=customer, kind="login", external_id="e-1")
    assert "external_id" in exc.value.message_dict
    assert customer.interactions.count() == 1


def test_interaction_record_makes_naive_times_aware():
    interaction = services.interaction_record(
        customer=CustomerFactory(), kind="login", occurred_at=dt.datetime(2024, 1, 2, 3, 4)
    )
    assert timezone.is_aware(interaction.occurred_at)


# Bulk


def _row(customer, **extra):
    return {
        "customer": customer.pk,
        "kind": "login",
        "occurred_at": "2024-03-01T10:00:00Z",
        **extra,
    }


def test_bulk_writes_all_rows(rep, django_capture_on_commit_callbacks, received):
    a, b = CustomerFactory(), CustomerFactory()
    contact = ContactFactory(customer=a)
    rows = [
        _row(a, contact=contact.pk, kind="call"),
        _row(b, kind="purchase", amount="12.50"),
        _row(b, kind="note"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.interactions_bulk_record(rows=rows, user=rep) == (3, 0)
    stored = list(Interaction.objects.order_by("id"))
    assert [i.direction for i in stored] == ["inbound", "inbound", "outbound"]
    assert stored[0].contact == contact
    assert stored[1].amount == Decimal("12.50")
    assert {i.created_by_id for i in stored} == {rep.pk}
    assert received == [("interactions_recorded", {"customer_ids": sorted([a.pk, b.pk])})]


def test_bulk_counts_duplicates_in_db_and_in_batch():
    a, b = CustomerFactory(), CustomerFactory()
    InteractionFactory(customer=a, external_id="e-1")
    rows = [
        _row(a, external_id="e-1"),  # already stored
        _row(a, external_id="e-2"),
        _row(a, external_id="e-2"),  # earlier in this batch
        _row(b, external_id="e-1"),  # same id, other customer: not a duplicate
        _row(a),  # no external id: never a duplicate
    ]
    assert services.interactions_bulk_record(rows=rows) == (3, 2)
    assert Interaction.objects.filter(customer=a, external_id="e-2").count() == 1
    assert services.interactions_bulk_record(rows=rows) == (1, 4)


def test_bulk_is_all_or_nothing_with_errors_by_row_and_field():
    a, b = CustomerFactory(), CustomerFactory()
    foreign_contact = ContactFactory(customer=b)
    rows = [
        _row(a),
        _row(a, kind="purchase"),
        _row(a, contact=foreign_contact.pk),
        _row(a, kind="dance"),
        {"kind": "login"},
        {**_row(a), "customer": 999_999},
        _row(a, occurred_at="yesterday-ish"),
        _row(a, colour="red"),
    ]
    with pytest.raises(services.BulkValidationError) as exc:
        services.interactions_bulk_record(rows=rows)
    errors = exc.value.message_dict
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7}
    assert "amount" in errors[1]
    assert "contact" in errors[2]
    assert "kind" in errors[3]
    assert "customer" in errors[4]
    assert "customer" in errors[5]
    assert "occurred_at" in errors[6]
    assert "colour" in errors[7]
    assert isinstance(exc.value, ValidationError)
    assert not Interaction.objects.exists()


def test_bulk_1000_rows_checks_customers_once_per_batch(django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(50)
    rows = [
        _row(customers[i % 50], external_id=f"evt-{i}", kind="purchase", amount="5")
        for i in range(1000)
    ]
    # One customer lookup, a few duplicate lookups and one insert: nothing per row.
    with django_assert_max_num_queries(8):
        assert services.interactions_bulk_record(rows=rows) == (1000, 0)


# Every uniqueness and range rule answers on the field it concerns.


@pytest.mark.parametrize(
    ("make_first", "make_second", "field"),
    [
        (
            lambda: services.contact_create(
                customer=CustomerFactory(), last_name="A", external_id="c-1"
            ),
            lambda: services.contact_create(
                customer=CustomerFactory(), last_name="B", external_id="c-1"
            ),
            "external_id",
        ),
        (
            lambda: services.subscription_create(
                customer=CustomerFactory(), product=ProductFactory(), external_id="s-1"
            ),
            lambda: services.subscription_create(
                customer=CustomerFactory(), product=ProductFactory(), external_id="s-1"
            ),
            "external_id",
        ),
        (
            lambda: services.product_create(name="A", sku="SKU-1"),
            lambda: services.product_create(name="B", sku="SKU-1"),
            "sku",
        ),
    ],
)
def test_unique_fields_are_refused_on_the_field(make_first, make_second, field):
    make_first()
    with pytest.raises(ValidationError) as exc:
        make_second()
    assert field in exc.value.message_dict


def test_negative_product_price_is_refused_on_price():
    with pytest.raises(ValidationError) as exc:
        services.product_create(name="A", sku="SKU-9", price=Decimal("-1"))
    assert "price" in exc.value.message_dict


def test_invalid_choices_are_refused_on_their_field():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.interaction_record(customer=customer, kind="login", direction="sideways")
    assert "direction" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.subscription_create(
            customer=customer, product=ProductFactory(), status="dormant", interval="week"
        )
    assert {"status", "interval"} <= set(exc.value.message_dict)


def test_interaction_update_revalidates_and_sends_event(
    django_capture_on_commit_callbacks, received
):
    interaction = InteractionFactory(kind="login")
    with pytest.raises(ValidationError) as exc:
        services.interaction_update(interaction=interaction, kind="purchase")
    assert "amount" in exc.value.message_dict
    interaction.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.interaction_update(interaction=interaction, kind="note", direction="")
    interaction.refresh_from_db()
    assert (interaction.kind, interaction.direction) == ("note", "outbound")
    assert received == [("interactions_recorded", {"customer_ids": [interaction.customer_id]})]


def test_a_failing_subscriber_does_not_fail_the_write(django_capture_on_commit_callbacks, caplog):
    def broken(sender, **kwargs):
        raise RuntimeError("subscriber bug")

    events.interactions_recorded.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.interaction_record(customer=CustomerFactory(), kind="login")
    finally:
        events.interactions_recorded.disconnect(broken)
    assert Interaction.objects.count() == 1
    assert "subscriber bug" in caplog.text


def test_bulk_reads_times_without_offset_in_the_project_time_zone():
    customer = CustomerFactory()
    services.interactions_bulk_record(
        rows=[{"customer": customer.pk, "kind": "login", "occurred_at": "2024-03-01T10:00"}]
    )
    stored = Interaction.objects.get()
    assert timezone.is_aware(stored.occurred_at)
    assert timezone.localtime(stored.occurred_at).hour == 10


def test_bulk_retries_once_when_a_concurrent_batch_wins_the_race(monkeypatch):
    """Between our duplicate lookup and our insert another batch stores the same key."""
    customer = CustomerFactory()
    real_lookup = services._stored_external_ids
    calls = []

    # The other batch's row is stored, but our first lookup ran before it was.
    InteractionFactory(customer=customer, external_id="race-1")

    def racing_lookup(pairs):
        calls.append(pairs)
        return set() if len(calls) == 1 else real_lookup(pairs)

    monkeypatch.setattr(services, "_stored_external_ids", racing_lookup)
    rows = [_row(customer, external_id="race-1"), _row(customer, external_id="race-2")]
    assert services.interactions_bulk_record(rows=rows) == (1, 1)
    assert len(calls) == 2
    assert customer.interactions.count() == 2
