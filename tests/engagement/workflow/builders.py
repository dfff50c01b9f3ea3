"""Customers with a stored engagement result, for the segment and campaign tests."""

import datetime as dt

from django.utils import timezone

from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
from tests.factories import CustomerFactory

TODAY = timezone.localdate()


def classified(status="active", *, types=(), reactivated=False, **customer_fields):
    """A customer with a stored result of `status` holding `types` (CustomerType codes)."""
    customer = CustomerFactory(**customer_fields)
    rule_set, _ = RuleSet.objects.get_or_create(version=1)
    EngagementResult.objects.create(
        customer=customer,
        status=status,
        reactivated=reactivated,
        rule_set=rule_set,
        as_of=TODAY,
        computed_at=timezone.now(),
        last_activity_on=TODAY - dt.timedelta(days=10),
        **{f"type_{code}": True for code in types},
    )
    return customer


def mixed_population(owner, other_owner):
    """Customers spread over statuses, types, owners, kinds, countries and archive state."""
    return [
        classified("active", types=["loyal"], owner=owner, country="DE", name="Acme Rockets"),
        classified("at_risk", types=["loyal", "support"], owner=owner, country="FR"),
        classified("at_risk", owner=other_owner, country="DE", industry="Food", kind="person"),
        classified("churned", reactivated=True, owner=None, country="de"),
        classified("inactive", types=["recent_buyer"], owner=other_owner, name="Acme Foods"),
        classified("at_risk", owner=owner, archived_at=timezone.now()),
        CustomerFactory(owner=owner, name="Unclassified Acme"),
    ]
