"""Outside a transaction the recompute reads the next batch's figures in a second thread;
the stored results are exactly those of batches read one by one."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from engagement.engine import recompute
from engagement.models import EngagementResult, StatusHistory
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db(transaction=True)
KINDS = ["login", "purchase", "refund", "email", "call", "support", "meeting", "feature_use"]
COLUMNS = ["customer_id", "status", "reactivated", "score", "last_activity_on", "revenue_365"]


def _histories(n=40, seed=7):
    rng = random.Random(seed)
    today = timezone.localdate()
    for _ in range(n):
        customer = CustomerFactory(customer_since=today - dt.timedelta(days=rng.randint(0, 700)))
        for _ in range(rng.randint(0, 8)):
            kind = rng.choice(KINDS)
            InteractionFactory(
                customer=customer,
                kind=kind,
                direction=rng.choice(["inbound", "outbound"]),
                amount=Decimal(rng.randint(1, 500)) if kind in ("purchase", "refund") else None,
                occurred_at=timezone.now() - dt.timedelta(hours=rng.randint(0, 24 * 500)),
            )


def _stored():
    flags = list(EngagementResult.TYPE_FIELDS.values())
    return list(EngagementResult.objects.order_by("customer_id").values_list(*COLUMNS, *flags))


def test_reading_ahead_stores_what_reading_batch_by_batch_stores():
    _histories()
    assert recompute._can_read_ahead()  # the path under test, not the serial one
    read_ahead = recompute.engagement_recompute(batch_size=7)
    stored_ahead = _stored()

    EngagementResult.objects.all().delete()
    StatusHistory.objects.all().delete()
    with transaction.atomic():
        assert not recompute._can_read_ahead()
        one_by_one = recompute.engagement_recompute(batch_size=7)

    assert len(stored_ahead) == 40
    assert _stored() == stored_ahead
    assert read_ahead.by_status == one_by_one.by_status
    assert read_ahead.by_type == one_by_one.by_type
