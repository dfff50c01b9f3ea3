"""The engagement rules as plain functions over plain values (no database); see
docs/definitions.md, "Status" and "Customer types".

`Figures` is what a customer's history amounts to as of a day D (dates are local dates,
counts and sums only over events on or before D); `classify` turns figures and rules into a
status, types, the reactivated flag, a score and a reason per status and per type. The
stored recompute and the live evaluation both call `classify`, so the rules are written once
in Python; the database only computes the figures (engagement.engine.figures).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from engagement.engine.rules import Rules
from engagement.models.results import CustomerType, Status

ZERO = Decimal("0.00")

# Fixed reference windows of the figures that feed the score.
ACTIVITY_WINDOW_DAYS = 365
REVENUE_WINDOW_DAYS = 365
CHANNEL_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Figures:
    """A customer's figures as of D. Dates are local dates on or before D (None: no such event)."""

    customer_since: dt.date
    last_activity_on: dt.date | None = None
    # The last activity on or before D - active_days (before the active window) and the
    # first one inside the window (D - active_days, D]: the reactivated flag reads both.
    prev_activity_on: dt.date | None = None
    first_window_activity_on: dt.date | None = None
    last_purchase_on: dt.date | None = None
    first_purchase_on: dt.date | None = None
    loyal_purchases: int = 0  # purchases within loyal_window_days
    support_interactions: int = 0  # within support_window_days
    contact_interactions: int = 0  # communication activity within contact_window_days
    activity_365: int = 0
    channels_90: int = 0  # distinct kinds of activity within 90 days
    revenue_365: Decimal = ZERO  # purchases minus refunds within 365 days
    live_product_subscriptions: int = 0
    live_service_subscriptions: int = 0
    oldest_live_subscription_on: dt.date | None = None
    mrr: Decimal = ZERO

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Classification:
    status: str
    types: tuple[str, ...]
    reactivated: bool
    score: int
    days_since_activity: int
    reasons: dict = field(default_factory=dict)


def within(as_of: dt.date, day: dt.date | None, days: int) -> bool:
    """Within N days (docs/definitions.md, "Time and as of D"): 0 <= D - d <= N."""
    return day is not None and 0 <= (as_of - day).days <= days


def days_since(as_of: dt.date, day: dt.date) -> int:
    return (as_of - day).days


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def classify(
    figures: Figures, rules: Rules, as_of: dt.date, *, explain: bool = True
) -> Classification:
    """Status, types, flag and score; with explain, a reason per status and per type."""
    decided = _decide(figures, rules, as_of)
    if not explain:
        return decided
    f, r = figures, rules
    has_activity = f.last_activity_on is not None
    since = days_since(as_of, f.last_activity_on if has_activity else f.customer_since)
    live_subscriptions = f.live_product_subscriptions + f.live_service_subscriptions

    if has_activity:
        recency = f"last activity {_plural(since, 'day')} ago"
    elif since < 0:
        recency = f"no activity yet; customer from {f.customer_since} (after {as_of})"
    else:
        recency = f"no activity at all; customer for {_plural(since, 'day')}"

    # The decisions are _decide's; here only the words for them.
    status = decided.status
    if status == Status.NEW:
        reason = f"{recency}; new needs no activity and at most {r.onboarding_days} days"
    elif status == Status.ACTIVE:
        reason = f"{recency}; active needs {r.active_days} days or fewer"
    elif status == Status.PASSIVE:
        reason = (
            f"{recency} (active needs {r.active_days} days or fewer) but "
            f"{_plural(live_subscriptions, 'live subscription')}; passive: pays but does not use"
        )
    elif status == Status.AT_RISK:
        reason = (
            f"{recency}; active needs {r.active_days} days or fewer, "
            f"at risk {r.at_risk_days} or fewer; no live subscription"
        )
    elif status == Status.INACTIVE:
        reason = (
            f"{recency}; at risk needs {r.at_risk_days} days or fewer, "
            f"inactive {r.inactive_days} or fewer; no live subscription"
        )
    else:
        reason = f"{recency}; more than {r.inactive_days} days is churned; no live subscription"

    reactivated = decided.reactivated
    if reactivated:
        gap = (f.first_window_activity_on - f.prev_activity_on).days
        reactivated_reason = (
            f"reactivated: came back on {f.first_window_activity_on} after {gap} days without "
            f"activity (more than {r.at_risk_days})"
        )
    elif (
        status == Status.ACTIVE
        and f.prev_activity_on is not None
        and f.first_window_activity_on is not None
    ):
        gap = (f.first_window_activity_on - f.prev_activity_on).days
        reactivated_reason = (
            f"not reactivated: {gap} days between activity before and inside the active window; "
            f"reactivated needs more than {r.at_risk_days}"
        )
    else:
        reactivated_reason = "not reactivated: needs an active customer with activity before"

    type_reasons: dict[str, str] = {}
    if f.last_purchase_on is None:
        type_reasons[CustomerType.RECENT_BUYER] = (
            f"no purchase yet; recent buyer needs one within {r.recent_buyer_days} days"
        )
    else:
        n = days_since(as_of, f.last_purchase_on)
        type_reasons[CustomerType.RECENT_BUYER] = (
            f"last purchase {_plural(n, 'day')} ago; recent buyer needs "
            f"{r.recent_buyer_days} days or fewer"
        )

    # loyal: enough purchases and tenure, or a long-running live subscription
    tenure = days_since(as_of, f.first_purchase_on) if f.first_purchase_on else None
    sub_age = (
        days_since(as_of, f.oldest_live_subscription_on) if f.oldest_live_subscription_on else None
    )
    purchases_text = (
        f"{_plural(f.loyal_purchases, 'purchase')} within {r.loyal_window_days} days "
        f"(needs {r.loyal_min_purchases})"
        + (
            f", first purchase {_plural(tenure, 'day')} ago (needs {r.loyal_min_tenure_days})"
            if tenure is not None
            else ""
        )
    )
    sub_text = (
        f"oldest live subscription started {_plural(sub_age, 'day')} ago "
        f"(needs {r.loyal_min_tenure_days})"
        if sub_age is not None
        else "no live subscription"
    )
    type_reasons[CustomerType.LOYAL] = f"{purchases_text}; {sub_text}"

    # support
    type_reasons[CustomerType.SUPPORT] = (
        f"{_plural(f.support_interactions, 'support interaction')} within "
        f"{r.support_window_days} days; support-heavy needs {r.support_min_interactions} or more"
    )

    type_reasons[CustomerType.PRODUCT_SUBSCRIBER] = (
        f"{_plural(f.live_product_subscriptions, 'live product subscription')}; "
        "product subscriber needs 1 or more"
    )
    type_reasons[CustomerType.SERVICE_SUBSCRIBER] = (
        f"{_plural(f.live_service_subscriptions, 'live service subscription')}; "
        "service subscriber needs 1 or more"
    )

    type_reasons[CustomerType.CONTACT] = (
        f"{_plural(f.contact_interactions, 'inbound conversation')} (e-mail, call, chat, social, "
        f"meeting, visit) within {r.contact_window_days} days; engaged contact needs "
        f"{r.contact_min_interactions} or more"
    )

    return dataclasses.replace(
        decided,
        reasons={"status": reason, "reactivated": reactivated_reason, "types": type_reasons},
    )


def _decide(f: Figures, r: Rules, as_of: dt.date) -> Classification:
    """The decisions (docs/definitions.md, "Status": first match wins), without words."""
    has_activity = f.last_activity_on is not None
    since = (as_of - (f.last_activity_on if has_activity else f.customer_since)).days
    if not has_activity and since <= r.onboarding_days:
        status = Status.NEW
    elif since <= r.active_days:
        status = Status.ACTIVE
    elif f.live_product_subscriptions + f.live_service_subscriptions:
        status = Status.PASSIVE
    elif since <= r.at_risk_days:
        status = Status.AT_RISK
    elif since <= r.inactive_days:
        status = Status.INACTIVE
    else:
        status = Status.CHURNED
    reactivated = bool(
        status == Status.ACTIVE
        and f.prev_activity_on is not None
        and f.first_window_activity_on is not None
        and (f.first_window_activity_on - f.prev_activity_on).days > r.at_risk_days
    )
    types = []
    if within(as_of, f.last_purchase_on, r.recent_buyer_days):
        types.append(CustomerType.RECENT_BUYER)
    if (
        f.loyal_purchases >= r.loyal_min_purchases
        and f.first_purchase_on is not None
        and (as_of - f.first_purchase_on).days >= r.loyal_min_tenure_days
    ) or (
        f.oldest_live_subscription_on is not None
        and (as_of - f.oldest_live_subscription_on).days >= r.loyal_min_tenure_days
    ):
        types.append(CustomerType.LOYAL)
    if f.support_interactions >= r.support_min_interactions:
        types.append(CustomerType.SUPPORT)
    if f.live_product_subscriptions:
        types.append(CustomerType.PRODUCT_SUBSCRIBER)
    if f.live_service_subscriptions:
        types.append(CustomerType.SERVICE_SUBSCRIBER)
    if f.contact_interactions >= r.contact_min_interactions:
        types.append(CustomerType.CONTACT)
    return Classification(
        status=str(status),
        types=tuple(str(t) for t in types),
        reactivated=reactivated,
        score=score(f, as_of),
        days_since_activity=since,
    )


def score(f: Figures, as_of: dt.date) -> int:
    """0-100: recency (40), frequency (25), revenue (20) and breadth of channels (15).

    Integer arithmetic only, so every path that calls it answers the same number.
    """
    points = 0
    if f.last_activity_on is not None:
        since = max(0, days_since(as_of, f.last_activity_on))
        points += 40 * max(0, 365 - since) // 365
    points += 25 * min(f.activity_365, 50) // 50
    cents = int((f.revenue_365 or ZERO) * 100)
    points += 20 * min(max(cents, 0), 1_000_000) // 1_000_000  # saturates at 10,000
    points += 15 * min(f.channels_90, 5) // 5
    return int(points)
