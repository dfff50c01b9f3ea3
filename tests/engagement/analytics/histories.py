"""Small hand-counted histories for the metrics tests: local times, activity, the rules."""

import datetime as dt
from zoneinfo import ZoneInfo

from customers.models import Interaction
from engagement.models import RuleSet
from tests.factories import InteractionFactory

BERLIN = ZoneInfo("Europe/Berlin")
D = dt.date


def at(day: str, hour: int = 12, minute: int = 0, tz=BERLIN):
    return dt.datetime.combine(D.fromisoformat(day), dt.time(hour, minute), tzinfo=tz)


def act(customer, when, kind=Interaction.Kind.LOGIN, direction="inbound", amount=None):
    return InteractionFactory(
        customer=customer, occurred_at=when, kind=kind, direction=direction, amount=amount
    )


def rules():
    return RuleSet.objects.order_by("-version").first() or RuleSet.objects.create(version=1)
