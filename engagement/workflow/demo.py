"""The demo brought to life: customers loaded (customers.demo), then engagement recomputed
over the last year, the purchase models fitted (predictions, by today's full run), the alert
rules evaluated (alerts, action plans) and the dashboard rollups built. Two held-out alert
rules get a past around the recompute (demo_outcomes), for "Does it work?". The `seed_demo`
command parses its arguments and calls `demo_load`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from crm import db
from customers.demo import SeedResult, demo_seed
from customers.demo.archetypes import LOOKBACK_DAYS
from engagement.analytics.rollups import metrics_refresh
from engagement.models.metrics import MetricRefresh
from engagement.models.predictions import PredictionFit
from engagement.models.results import EngagementResult, StatusHistory, TypeChange
from engagement.models.workflow import ActionPlan, Alert, AlertRule

from .demo_outcomes import demo_trials_fire, demo_trials_prepare
from .playbooks import alert_rule_save
from .runs import RunSummary, engagement_run

# The rollups take about 100 s per million interactions on SQLite: past this base size they
# are left to `refresh_metrics` (the dashboard computes live until then).
ROLLUP_LIMIT = 20_000
HISTORY_MONTHS = 12

Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class DemoReport:
    loaded: SeedResult
    engagement: RunSummary
    alerts: int
    refresh: MetricRefresh | None  # None: more than ROLLUP_LIMIT customers
    predictions: PredictionFit | None = None  # the fit of today's run


def demo_load(
    *,
    customers: int,
    seed: int,
    owners: list,
    author=None,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> DemoReport:
    """Load `customers` demo customers and bring them to life. Raises ValidationError when
    the demo data cannot be loaded (customers.demo.demo_seed).

    `say(text)` hears each result as it comes, `note(text)` each step as it starts.
    """
    say = say or (lambda text: None)
    note = note or (lambda text: None)
    loaded = demo_seed(
        customers=customers,
        seed=seed,
        owners=owners,
        author=author,
        progress=_labelled(progress, "customers"),
    )
    say(
        f"Loaded {loaded.customers:,} customers ({loaded.companies:,} companies, "
        f"{loaded.customers - loaded.companies:,} people, {loaded.archived:,} archived), "
        f"{loaded.contacts:,} contacts, {loaded.subscriptions:,} subscriptions and "
        f"{loaded.interactions:,} interactions in {loaded.seconds:.1f}s."
    )
    today = timezone.localdate()
    history_days = []
    if len(loaded.ids) <= ROLLUP_LIMIT:
        history_days = [_months_before(today, m) for m in range(HISTORY_MONTHS, 0, -1)]
    demo_trials_prepare(customer_ids=loaded.ids, days=history_days, seed=seed, today=today)
    _recompute_history(loaded, history_days, progress)
    trials = demo_trials_fire(customer_ids=loaded.ids, days=history_days, today=today)
    say(f"{trials:,} alerts of held-out rules fired months ago (their outcomes have matured).")
    _switch_on_value_at_risk()
    note("recomputing today, fitting the predictions and evaluating the alert rules")
    summary = engagement_run(as_of=today, progress=_labelled(progress, "engagement today"))
    fired = summary.alerts
    fit = PredictionFit.objects.order_by("-fitted_at", "-id").first()
    if fit is not None:
        say(f"Predictions {fit} ({fit.seconds:.1f}s).")
    say(
        f"Engagement of {summary.customers:,} customers as of {summary.as_of} "
        f"({summary.seconds:.1f}s); {fired:,} alerts fired."
    )
    refresh = None
    if summary.customers <= ROLLUP_LIMIT:
        # The recomputes just filled the engagement tables: statistics before the rollups.
        db.analyze(EngagementResult, StatusHistory, TypeChange)
        note("building the dashboard rollups")
        refresh = metrics_refresh()
    return DemoReport(
        loaded=loaded, engagement=summary, alerts=fired, refresh=refresh, predictions=fit
    )


def _switch_on_value_at_risk():
    """The shipped value_at_risk rules are inactive (docs/definitions.md, "Choices"); the demo
    shows them at work."""
    rules = AlertRule.objects.filter(trigger=AlertRule.Trigger.VALUE_AT_RISK, is_active=False)
    for rule in rules:
        alert_rule_save(rule=rule, is_active=True)


def _recompute_history(loaded: SeedResult, days: list[dt.date], progress: Progress | None):
    """Engagement on each of `days` (the month starts of the last year; for the customers of
    then), then as of LOOKBACK_DAYS ago, so that the status history (the dashboard's status
    over time, churn and reactivation) has a past and the demo opens with the last days' moves.

    The past is loaded, not lived: these runs do not evaluate the alert rules; only today's
    run does (as of today, on the moves it stores), so the demo opens with this week's alerts.
    """
    today = timezone.localdate()
    for day in days:
        engagement_run(
            as_of=day,
            customer_ids=loaded.ids_joined_before((today - day).days),
            progress=_labelled(progress, f"engagement as of {day}"),
            evaluate=False,
        )
    engagement_run(
        as_of=today - dt.timedelta(days=LOOKBACK_DAYS),
        customer_ids=loaded.ids_joined_before(LOOKBACK_DAYS),
        progress=_labelled(progress, f"engagement {LOOKBACK_DAYS} days ago"),
        evaluate=False,
    )


def demo_figures() -> dict:
    """What the demo holds now: customers by status and type, open alerts by severity,
    active plans (the command's closing summary)."""
    results = EngagementResult.objects.order_by()
    alerts = Alert.objects.filter(status=Alert.AlertStatus.OPEN).order_by()
    return {
        "by_status": dict(results.values_list("status").annotate(n=Count("pk"))),
        "reactivated": results.filter(reactivated=True).count(),
        "by_type": {
            code: results.filter(**{column: True}).count()
            for code, column in EngagementResult.TYPE_FIELDS.items()
        },
        "open_alerts": dict(alerts.values_list("severity").annotate(n=Count("pk"))),
        "active_plans": ActionPlan.objects.filter(status=ActionPlan.PlanStatus.ACTIVE).count(),
    }


def _labelled(progress: Progress | None, label: str):
    if progress is None:
        return None
    return lambda done, total: progress(label, done, total)


def _months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` calendar months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)
