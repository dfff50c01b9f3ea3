"""Live engagement of one customer as of any day: computed, never stored.

Figures come from the customer's own rows (engagement.engine.figures.customer_figures: a few
indexed queries), classified by the same classify() as the recompute. RFM scores are
quintiles across the whole base, which one customer cannot compute alone: the live result
reads the stored r/f/m of the last full recompute (None when the customer has none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from engagement.engine.classification import classify
from engagement.engine.figures import customer_figures, customer_history
from engagement.engine.rule_sets import current_rules
from engagement.engine.rules import Rules
from engagement.models.results import EngagementResult


class CustomerNotFound(LookupError):
    """No customer has this id (a face answers 404)."""


@dataclass(frozen=True)
class EvaluationResult:
    customer_id: int
    as_of: dt.date
    status: str
    types: tuple[str, ...]
    reactivated: bool
    score: int
    days_since_activity: int
    reasons: dict
    metrics: dict
    rule_version: int | None
    r_score: int | None = None
    f_score: int | None = None
    m_score: int | None = None
    rfm: tuple | None = field(default=None)


def engagement_evaluate(
    *, customer_id: int, as_of: dt.date | None = None, rules: Rules | None = None
) -> EvaluationResult:
    """Raises CustomerNotFound when there is no such customer. Reads only: before the first
    rule set is stored, the defaults apply."""
    as_of = as_of or timezone.localdate()
    if rules is None:
        rules = current_rules()
    figures = customer_figures(customer_id, rules, as_of)
    if figures is None:
        raise CustomerNotFound(customer_id)
    c = classify(figures, rules, as_of)
    rfm = (
        EngagementResult.objects.filter(customer_id=customer_id)
        .values_list("r_score", "f_score", "m_score")
        .first()
    )
    return EvaluationResult(
        customer_id=customer_id,
        as_of=as_of,
        status=c.status,
        types=c.types,
        reactivated=c.reactivated,
        score=c.score,
        days_since_activity=c.days_since_activity,
        reasons=c.reasons,
        metrics={**figures.as_dict(), "days_since_activity": c.days_since_activity},
        rule_version=rules.version,
        r_score=rfm[0] if rfm else None,
        f_score=rfm[1] if rfm else None,
        m_score=rfm[2] if rfm else None,
        rfm=tuple(rfm) if rfm else None,
    )


def score_trend(
    *, customer_id: int, days: list[dt.date], rules: Rules | None = None
) -> list[tuple[dt.date, int]]:
    """The score as of each of `days`, live: the customer's rows are read once (up to the
    latest day) and classified for each day. Raises CustomerNotFound."""
    rules = rules or current_rules()
    history = customer_history(customer_id, max(days))
    if history is None:
        raise CustomerNotFound(customer_id)
    return [
        (day, classify(history.figures(rules, day), rules, day, explain=False).score)
        for day in days
    ]
