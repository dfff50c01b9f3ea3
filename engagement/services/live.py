"""Live engagement of one customer as of any day: computed, never stored.

Figures come from the customer's own rows (engagement.figures.customer_figures: a few
indexed queries), classified by the same classify() as the recompute. RFM scores are
quintiles across the whole base, which one customer cannot compute alone: the live result
reads the stored r/f/m of the last full recompute (None when the customer has none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone

from engagement.classification import classify
from engagement.figures import customer_figures
from engagement.models.results import EngagementResult
from engagement.rules import Rules, active_rule_set


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
    """Raises Http404 when there is no such customer."""
    as_of = as_of or timezone.localdate()
    if rules is None:
        rules = Rules.from_rule_set(active_rule_set())
    figures = customer_figures(customer_id, rules, as_of)
    if figures is None:
        raise Http404("No such customer.")
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
