import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.models import Interaction, Subscription
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["purchase", "refund"])
@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-5")])
def test_purchase_and_refund_need_positive_amount(kind, amount):
    interaction = Interaction(customer=CustomerFactory(), kind=kind, amount=amount)
    with pytest.raises(ValidationError) as exc:
        interaction.full_clean()
    assert "amount" in exc.value.message_dict


def test_other_kinds_refuse_an_amount():
    interaction = Interaction(customer=CustomerFactory(), kind="login", amount=Decimal("3"))
    with pytest.raises(ValidationError) as exc:
        interaction.full_clean()
    assert "amount" in exc.value.message_dict


def test_database_refuses_purchase_without_amount():
    with pytest.raises(IntegrityError), transaction.atomic():
        InteractionFactory(kind="purchase", amount=None)


@pytest.mark.parametrize("status", ["cancelled", "expired"])
def test_ended_subscription_needs_end_date(status):
    sub = SubscriptionFactory.build(customer=CustomerFactory(), status=status, ended_at=None)
    sub.product.save()
    sub.product_id = sub.product.pk
    with pytest.raises(ValidationError) as exc:
        sub.full_clean()
    assert "ended_at" in exc.value.message_dict


def test_subscription_cannot_end_before_it_starts():
    sub = SubscriptionFactory()
    sub.ended_at = sub.started_at - dt.timedelta(days=1)
    sub.status = Subscription.Status.CANCELLED
    with pytest.raises(ValidationError) as exc:
        sub.full_clean()
    assert "ended_at" in exc.value.message_dict


def test_contact_must_belong_to_the_interactions_customer():
    contact = ContactFactory()
    interaction = Interaction(customer=CustomerFactory(), contact=contact, kind="call")
    with pytest.raises(ValidationError) as exc:
        interaction.full_clean()
    assert "contact" in exc.value.message_dict


def test_direction_defaults_to_inbound_except_notes():
    customer = CustomerFactory()
    call = Interaction(customer=customer, kind="call")
    note = Interaction(customer=customer, kind="note")
    call.full_clean()
    note.full_clean()
    assert (call.direction, note.direction) == ("inbound", "outbound")


def test_customer_external_id_unique_when_set():
    CustomerFactory(external_id="")
    CustomerFactory(external_id="")
    CustomerFactory(external_id="A-1")
    dup = CustomerFactory.build(external_id="A-1")
    with pytest.raises(ValidationError) as exc:
        dup.full_clean()
    assert "already exists" in str(exc.value)


def test_interaction_external_id_unique_per_customer_only():
    first, second = CustomerFactory(), CustomerFactory()
    InteractionFactory(customer=first, external_id="evt-1")
    InteractionFactory(customer=second, external_id="evt-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        InteractionFactory(customer=first, external_id="evt-1")
