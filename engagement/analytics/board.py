"""The dashboard's figures in one call, each from the rollups when they cover the period,
else computed live (the two paths answer the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from engagement.engine.rule_sets import current_rules

from . import rollups
from .activity import activation, activity, cohorts, headline_activity, lifecycle, stickiness
from .money import active_comparison, mrr, revenue
from .periods import EVERYONE, Period, Segment
from .prediction import predicted_clv_by_activity, predicted_value, value_at_risk_by_owner
from .status import engagement_counts, status_history, type_history


@dataclass
class Dashboard:
    period: Period
    segment: Segment
    now: dict = field(default_factory=dict)
    headline: dict = field(default_factory=dict)
    activity: list = field(default_factory=list)
    stickiness: list = field(default_factory=list)
    lifecycle: list = field(default_factory=list)
    status: dict = field(default_factory=dict)
    types: list = field(default_factory=list)
    activation: list = field(default_factory=list)
    mrr: list = field(default_factory=list)
    revenue: list = field(default_factory=list)
    cohorts: list = field(default_factory=list)
    comparison: list = field(default_factory=list)
    prediction: dict = field(default_factory=dict)  # predicted CLV by status and type
    value_at_risk: list = field(default_factory=list)  # by owner
    refresh: object = None  # the MetricRefresh the rolled-up panels came from, if any


def dashboard(*, period: Period, segment: Segment = EVERYONE) -> Dashboard:
    """Every figure of the engagement dashboard for one period and segment."""
    rules = current_rules()
    # The latest rollup refresh, read once for every panel.
    kw = {"period": period, "segment": segment, "refresh": rollups.usable_refresh(rules=rules)}
    history = status_history(period=period, segment=segment)
    return Dashboard(
        period=period,
        segment=segment,
        now=engagement_counts(segment.customers()),
        headline=answer("headline", **kw),
        activity=answer("activity", **kw),
        stickiness=answer("stickiness", **kw),
        lifecycle=answer("lifecycle", **kw),
        status=history,
        types=type_history(period=period, segment=segment),
        activation=answer("activation", **kw, rules=rules),
        mrr=mrr(period=period, segment=segment, rules=rules),
        revenue=revenue(period=period, segment=segment),
        cohorts=answer("cohorts", **kw),
        comparison=_with_predicted_clv(
            answer("comparison", **kw, rules=rules),
            predicted_clv_by_activity(end=period.end, segment=segment, rules=rules),
        ),
        prediction=predicted_value(segment=segment),
        value_at_risk=value_at_risk_by_owner(segment=segment),
        refresh=kw["refresh"],
    )


def _with_predicted_clv(comparison: list[dict], sums: dict) -> list[dict]:
    """The comparison's groups with `predicted_clv`: their predicted 365-day CLV per customer
    (like lifetime value: over every customer of the group, predicted or not)."""
    for group in comparison:
        n = group["customers"]
        total = sums.get(group["group"], Decimal(0))
        group["predicted_clv"] = (total / n).quantize(Decimal("0.01")) if n else None
    return comparison


_FETCH = object()


def answer(name: str, *, period: Period, segment: Segment = EVERYONE, rules=None, refresh=_FETCH):
    """One figure, from the rollups when the latest refresh covers the period (see
    engagement.analytics.rollups), else computed live. Both give the same numbers."""
    if refresh is _FETCH:
        refresh = rollups.usable_refresh()
    if rollups.covers(name, period, refresh):
        if name == "headline":
            return rollups.headline_activity(end=period.end, segment=segment)
        if name == "comparison":
            return rollups.comparison(segment=segment)
        return getattr(rollups, name)(period=period, segment=segment)
    if name == "headline":
        return headline_activity(end=period.end, segment=segment)
    live = {
        "activity": activity,
        "lifecycle": lifecycle,
        "stickiness": stickiness,
        "cohorts": cohorts,
        "activation": activation,
        "comparison": active_comparison,
    }[name]
    extra = {"rules": rules} if name in ("activation", "comparison") else {}
    return live(period=period, segment=segment, **extra)
