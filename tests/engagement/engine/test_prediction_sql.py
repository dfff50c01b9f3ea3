"""The set-based purchase summary (prediction_sql) against the pure one (prediction), on the
configured database (SQLite by default; PostgreSQL with DATABASE_URL)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.test import override_settings
from django.utils import timezone

from customers.models import Interaction
from engagement.engine.prediction import summarize_purchases
from engagement.engine.prediction_sql import purchase_summary
from tests.factories import CustomerFactory

D = dt.date(2025, 3, 31)
UTC = dt.UTC


def make_history(seed=0, customers=25):
    """Purchases around local midnights and DST changes, same-day repeats, refunds, other
    kinds, purchases after D and an archived customer."""
    rng = np.random.default_rng(seed)
    people = [CustomerFactory() for _ in range(customers)]
    archived = people[-1]
    archived.archived_at = timezone.now()
    archived.save()
    start = dt.datetime(2023, 1, 1, tzinfo=UTC)
    rows = []
    for customer in people[:-3]:  # the last three besides: no purchase at all
        for _ in range(int(rng.integers(1, 9))):
            at = start + dt.timedelta(minutes=int(rng.integers(0, 60 * 24 * 900)))
            # Half of them within an hour of a UTC midnight, where local dates differ.
            if rng.random() < 0.5:
                at = at.replace(hour=int(rng.choice([0, 1, 2, 3, 4, 5, 21, 22, 23])))
            amount = Decimal(int(rng.integers(1, 100_000))) / 100
            rows.append(
                Interaction(customer=customer, kind="purchase", occurred_at=at, amount=amount)
            )
            if rng.random() < 0.3:  # another purchase a few hours later: often the same day
                rows.append(
                    Interaction(
                        customer=customer,
                        kind="purchase",
                        occurred_at=at + dt.timedelta(hours=int(rng.integers(1, 6))),
                        amount=Decimal("0.10"),
                    )
                )
            if rng.random() < 0.2:
                rows.append(
                    Interaction(customer=customer, kind="refund", occurred_at=at, amount=amount)
                )
                rows.append(Interaction(customer=customer, kind="login", occurred_at=at))
    rows.append(
        Interaction(customer=archived, kind="purchase", occurred_at=start, amount=Decimal(5))
    )
    Interaction.objects.bulk_create(rows)
    return people, rows


def pure_summary(rows, as_of, archived_ids=()):
    local = [
        (r.customer_id, timezone.localtime(r.occurred_at).date(), r.amount)
        for r in rows
        if r.kind == "purchase" and r.customer_id not in archived_ids
    ]
    return summarize_purchases(local, as_of)


def assert_same(got, expected):
    assert got.customer_ids.tolist() == expected.customer_ids.tolist()
    for field in ("frequency", "recency", "T", "monetary"):
        assert getattr(got, field).tolist() == getattr(expected, field).tolist(), field


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"])
def test_sql_summary_equals_the_pure_one(zone):
    with override_settings(TIME_ZONE=zone), timezone.override(ZoneInfo(zone)):
        people, rows = make_history(seed=len(zone))
        archived = {people[-1].pk}
        for as_of in (D, dt.date(2023, 6, 1), dt.date(2030, 1, 1)):
            got = purchase_summary(as_of)
            expected = pure_summary(rows, as_of, archived)
            assert len(got) > 0
            assert_same(got, expected)
        assert people[-1].pk not in purchase_summary(D).customer_ids
        # A subset of customers, and one of them without a purchase.
        subset = [people[0].pk, people[3].pk, people[-2].pk]
        assert_same(
            purchase_summary(D, customer_ids=subset),
            pure_summary([r for r in rows if r.customer_id in subset], D),
        )


@pytest.mark.django_db
def test_local_date_decides_the_purchase_day():
    zone = "America/New_York"
    with override_settings(TIME_ZONE=zone), timezone.override(ZoneInfo(zone)):
        customer = CustomerFactory()
        # 2025-03-30 23:30 in New York is 2025-03-31 03:30 UTC: one local day with the 22:00.
        Interaction.objects.bulk_create(
            [
                Interaction(customer=customer, kind="purchase", amount=Decimal("10.00"),
                            occurred_at=dt.datetime(2025, 3, 1, 12, tzinfo=UTC)),
                Interaction(customer=customer, kind="purchase", amount=Decimal("20.00"),
                            occurred_at=dt.datetime(2025, 3, 31, 2, tzinfo=UTC)),
                Interaction(customer=customer, kind="purchase", amount=Decimal("1.00"),
                            occurred_at=dt.datetime(2025, 3, 31, 3, 30, tzinfo=UTC)),
                # Local 2025-03-31 21:00 = 2025-04-01 01:00 UTC: still on D, so counted.
                Interaction(customer=customer, kind="purchase", amount=Decimal("4.00"),
                            occurred_at=dt.datetime(2025, 4, 1, 1, tzinfo=UTC)),
                # Local 2025-04-01 00:30: after D.
                Interaction(customer=customer, kind="purchase", amount=Decimal("8.00"),
                            occurred_at=dt.datetime(2025, 4, 1, 4, 30, tzinfo=UTC)),
            ]
        )  # fmt: skip
        s = purchase_summary(D)
    assert s.frequency.tolist() == [2]  # Mar 1, Mar 30 (20 + 1), Mar 31 (4)
    assert s.recency.tolist() == [30]
    assert s.T.tolist() == [30]
    assert s.monetary.tolist() == [(21.00 + 4.00) / 2]


@pytest.mark.django_db
def test_no_purchases_gives_an_empty_summary(django_assert_max_num_queries):
    CustomerFactory()
    with django_assert_max_num_queries(2):
        s = purchase_summary(D)
    assert len(s) == 0
    assert s.repeaters == 0
