"""A counted subscription and monthly recurring revenue, stated once.

A subscription is live on a day D when it started on or before D, has not ended on or
before D, and its status counts: never `paused`, and `trial` only when the rules count
trials (see docs/definitions.md, "Live subscription" and "MRR and revenue"). The figures,
the metrics and the rollups ask this module in Python, as Q objects or as SQL fragments.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q

from customers.models import Subscription

CENT = Decimal("0.01")


def uncounted_statuses(rules) -> tuple[str, ...]:
    """Statuses whose subscriptions never count under `rules` (anything with the trials flag)."""
    statuses = [Subscription.Status.PAUSED]
    if not rules.count_trials_as_subscribers:
        statuses.append(Subscription.Status.TRIAL)
    return tuple(str(status) for status in statuses)


def is_live(status, started_at, ended_at, rules, as_of: dt.date) -> bool:
    return (
        started_at <= as_of
        and (ended_at is None or ended_at > as_of)
        and status not in uncounted_statuses(rules)
    )


def counted_q(rules, prefix: str = "") -> Q:
    """Subscriptions whose status counts (any dates)."""
    return ~Q(**{f"{prefix}status__in": uncounted_statuses(rules)})


def live_q(rules, day: dt.date, prefix: str = "") -> Q:
    """Subscriptions live on `day`."""
    return (
        counted_q(rules, prefix)
        & Q(**{f"{prefix}started_at__lte": day})
        & (Q(**{f"{prefix}ended_at__isnull": True}) | Q(**{f"{prefix}ended_at__gt": day}))
    )


def live_sql(alias: str, rules, day: str) -> str:
    """SQL predicate: the subscription `alias` is live on the day bound to the placeholder
    `day` (e.g. "%(as_of)s"; a positional "%s" is bound twice). Statuses are the model's own
    choice values, never user input."""
    statuses = ", ".join(f"'{status}'" for status in uncounted_statuses(rules))
    return (
        f"({alias}.started_at <= {day} AND ({alias}.ended_at IS NULL OR {alias}.ended_at > {day})"
        f" AND {alias}.status NOT IN ({statuses}))"
    )


def monthly_recurring(monthly_sum, yearly_sum) -> Decimal:
    """MRR from the sums of monthly and of yearly amounts (yearly / 12), rounded once, to cents."""
    total = Decimal(monthly_sum or 0) + Decimal(yearly_sum or 0) / 12
    return total.quantize(CENT)
