"""The demo brought to life: customers loaded (customers.demo), then engagement recomputed
over the last year, the purchase models fitted (predictions), the alert rules evaluated
(alerts, action plans) and the dashboard rollups built. The `seed_demo` command parses its
arguments and calls `demo_load`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from customers.demo import SeedResult, demo_seed
from customers.demo.archetypes import LOOKBACK_DAYS
from engagement.analytics.rollups import metrics_refresh
from engagement.engine.prediction_service import predictions_fit
from engagement.engine.recompute import RecomputeSummary, engagement_recompute
from engagement.models.metrics import MetricRefresh
from engagement.models.predictions import PredictionFit
from engagement.models.results import EngagementResult
from engagement.models.workflow import ActionPlan, Alert, AlertRule

from .alerts import alerts_evaluate
from .playbooks import alert_rule_save

# The rollups take about 100 s per million interactions on SQLite: past this base size they
# are left to `refresh_metrics` (the dashboard computes live until then).
ROLLUP_LIMIT = 20_000
HISTORY_MONTHS = 12

Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class DemoReport:
    loaded: SeedResult
    engagement: RecomputeSummary
    alerts: int
    refresh: MetricRefresh | None  # None: more than ROLLUP_LIMIT customers
    predictions: PredictionFit | None = None


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
    moves_from, summary = _recompute_history(loaded, progress)
    note("fitting the purchase models")
    fit = predictions_fit()
    say(f"Predictions: {fit} ({fit.seconds:.1f}s).")
    _switch_on_value_at_risk()
    note("evaluating the alert rules")
    fired = _evaluate_alerts(moves_from)
    say(
        f"Engagement of {summary.customers:,} customers as of {summary.as_of} "
        f"({summary.seconds:.1f}s); {fired:,} alerts fired."
    )
    refresh = None
    if summary.customers <= ROLLUP_LIMIT:
        note("building the dashboard rollups")
        refresh = metrics_refresh()
    return DemoReport(
        loaded=loaded, engagement=summary, alerts=fired, refresh=refresh, predictions=fit
    )


def _switch_on_value_at_risk():
    """The shipped value_at_risk rules are inactive (docs/definitions.md, "Choices"); the demo
    shows them at work."""
    for rule in AlertRule.objects.filter(trigger=AlertRule.Trigger.VALUE_AT_RISK, is_active=False):
        alert_rule_save(rule=rule, is_active=True)


def _recompute_history(loaded: SeedResult, progress: Progress | None):
    """Engagement month by month over the last year (for the customers of then), then as of
    LOOKBACK_DAYS ago, then today, so that the status history (the dashboard's status over
    time, churn and reactivation) has a past and the demo opens with the last days' moves."""
    today = timezone.localdate()
    if len(loaded.ids) <= ROLLUP_LIMIT:
        for months_ago in range(HISTORY_MONTHS, 0, -1):
            day = _months_before(today, months_ago)
            engagement_recompute(
                as_of=day,
                customer_ids=loaded.ids_joined_before((today - day).days),
                progress=_labelled(progress, f"engagement as of {day}"),
            )
    engagement_recompute(
        as_of=today - dt.timedelta(days=LOOKBACK_DAYS),
        customer_ids=loaded.ids_joined_before(LOOKBACK_DAYS),
        progress=_labelled(progress, f"engagement {LOOKBACK_DAYS} days ago"),
    )
    moves_from = timezone.now()
    summary = engagement_recompute(progress=_labelled(progress, "engagement today"))
    return moves_from, summary


def _evaluate_alerts(moves_from: dt.datetime) -> int:
    fired = alerts_evaluate(since=moves_from)["alerts"]
    # Cancellations are read from the subscriptions' own timestamps (the last day's).
    fired += alerts_evaluate(triggers=[AlertRule.Trigger.SUBSCRIPTION_CANCELLED])["alerts"]
    return fired


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
