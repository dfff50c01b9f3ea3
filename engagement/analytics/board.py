"""The dashboard's figures in one call, each from the rollups when they cover the period,
else computed live (the two paths answer the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engagement.engine.rule_sets import current_rules

from . import rollups
from .activity import activation, activity, cohorts, headline_activity, lifecycle, stickiness
from .money import active_comparison, mrr, revenue
from .periods import EVERYONE, Period, Segment
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
        comparison=answer("comparison", **kw, rules=rules),
        refresh=kw["refresh"],
    )


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
