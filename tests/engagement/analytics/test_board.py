"""The dashboard's board: every metric narrowed by the segment."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer
from engagement.analytics.activity import (
    activity,
)
from engagement.analytics.board import dashboard
from engagement.analytics.periods import Period, Segment
from tests.engagement.analytics.histories import D, act, at
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_segment_filters_every_metric(rep):
    mine = CustomerFactory(owner=rep, country="FR", customer_since=D(2026, 1, 2))
    other = CustomerFactory(country="DE", customer_since=D(2026, 1, 2))
    act(mine, at("2026-01-05", tz=dt.UTC), kind="purchase", amount=Decimal("10"))
    act(other, at("2026-01-05", tz=dt.UTC), kind="purchase", amount=Decimal("99"))
    period = Period(unit="month", start=D(2026, 1, 1), end=D(2026, 1, 31))
    for segment in (Segment(owner_id=rep.pk), Segment(country="FR")):
        board = dashboard(period=period, segment=segment)
        assert board.activity[0]["active"] == 1
        assert board.lifecycle[0]["new"] == 1
        assert board.revenue[0]["revenue"] == Decimal("10")
        assert board.cohorts[0]["size"] == 1
        assert board.activation[0]["customers"] == 1
    assert activity(period=period, segment=Segment(industry="Mining"))[0]["active"] == 0
    Customer.objects.filter(pk=mine.pk).update(archived_at=timezone.now())
    assert activity(period=period, segment=Segment(country="FR"))[0]["active"] == 0
