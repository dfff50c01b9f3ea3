"""The demo's past for "Does it work?": two alert rules held out a control group months ago.

- "Slipped to at risk" (playbook Reactivation) **works**: a share of the treated customers
  came back and bought inside the window, on top of those who come back anyway.
- "Churned" (playbook Churn save) **does not**: its arms differ only by chance.

Two steps around the demo's recompute of the past year (engagement.workflow.demo):

1. `demo_trials_prepare`, before it: gives both rules their holdout and plants the purchases
   of the treated customers who came back. Who fires on a day is only known once the
   history is recomputed, but the arm is not: it is a deterministic draw
   (outcome_stats.draw_arm) that both steps make alike. The purchases go to the customers
   about to slip to at risk on a fire day (last activity 30 to 60 days before it), so the
   recompute itself writes their way back to active into the status history.
2. `demo_trials_fire`, after it: stores the alerts the two rules would have fired on the
   fire days, with the drawn arms: treatment ones resolved, each with a completed plan;
   control ones held out.

The fire days are the last FIRE_DAYS of the days the history is recomputed on whose
windows have ended by today. The demo's draw is keyed by each customer's place in the load
rather than its id, so that the same seed gives the same demo whatever ids the database
hands out (the evaluation of live alerts draws by id).

Bulk writes only: a few queries per rule, well under a second at 2,000 customers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from customers import kinds
from customers.demo import catalog
from customers.models import Customer, Interaction
from engagement.models.results import StatusHistory
from engagement.models.workflow import ActionPlan, ActionStep, Alert, AlertRule, Arm

from .outcome_stats import draw_arm
from .plans import default_success_user
from .playbooks import alert_rule_save


@dataclass(frozen=True)
class Trial:
    rule: str
    # Extra chance that a treated customer comes back: the playbook's true effect.
    effect: float


TRIALS = (Trial("Slipped to at risk", 0.4), Trial("Churned", 0.0))
HOLDOUT_PERCENT = 30
WINDOW_DAYS = 60
FIRE_DAYS = 3
# The default rules' at-risk band (active <= 30 days, at risk <= 60).
SLIPPING_DAYS = (31, 60)


def fire_days(days: list[dt.date], today: dt.date) -> list[dt.date]:
    """The last FIRE_DAYS of `days` (sorted) whose outcome window has ended by `today`."""
    matured = [d for d in sorted(days) if d + dt.timedelta(days=WINDOW_DAYS) <= today]
    return matured[-FIRE_DAYS:]


def _rules() -> dict[str, AlertRule]:
    names = [t.rule for t in TRIALS]
    return {r.name: r for r in AlertRule.objects.filter(name__in=names).select_related("playbook")}


def _arm(rule: AlertRule, place: int, day: dt.date) -> str:
    return draw_arm(
        rule_or_campaign_key=f"demo:{rule.name}",
        customer_id=place,
        day=day,
        holdout_percent=rule.holdout_percent,
    )


@transaction.atomic
def demo_trials_prepare(
    *, customer_ids: list[int], days: list[dt.date], seed: int, today: dt.date
) -> int:
    """Holdouts on the trial rules and the come-back purchases of their treated customers;
    answers the number of purchases planted. Rules missing (renamed by an admin) are skipped."""
    rules = _rules()
    for rule in rules.values():
        alert_rule_save(rule=rule, holdout_percent=HOLDOUT_PERCENT, outcome_window_days=WINDOW_DAYS)
    days = fire_days(days, today)
    if not days or not customer_ids:
        return 0
    rng = random.Random(seed)
    last = _last_activity(customer_ids, days)
    planted = []
    for trial in TRIALS:
        rule = rules.get(trial.rule)
        if rule is None or not trial.effect:
            continue
        for index, day in enumerate(days):
            for place, customer_id in enumerate(customer_ids):
                if customer_id not in last:
                    continue
                before = last[customer_id][index]
                if (
                    before is None
                    or not SLIPPING_DAYS[0] <= (day - before).days <= SLIPPING_DAYS[1]
                ):
                    continue
                if _arm(rule, place, day) != Arm.TREATMENT or rng.random() >= trial.effect:
                    continue
                bought = day + dt.timedelta(days=rng.randint(3, 25))
                planted.append(_purchase(customer_id, bought, rng))
                for later in range(index + 1, len(days)):  # later fire days see the comeback
                    if bought < days[later]:
                        last[customer_id][later] = max(last[customer_id][later] or bought, bought)
    Interaction.objects.bulk_create(planted)
    return len(planted)


def _purchase(customer_id: int, day: dt.date, rng: random.Random) -> Interaction:
    sku, most = rng.choice(catalog.GOODS)
    return Interaction(
        customer_id=customer_id,
        kind=kinds.PURCHASE,
        direction=kinds.INBOUND,
        occurred_at=timezone.make_aware(dt.datetime.combine(day, dt.time(11, rng.randint(0, 59)))),
        amount=(catalog.PRICE[sku] * rng.randint(1, most)).quantize(Decimal("0.01")),
        subject="Reorder after the win-back call",
    )


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _last_activity(customer_ids: list[int], days: list[dt.date]) -> dict[int, list]:
    """Per customer, the local day of their last customer activity before each of `days`
    (None: none in the at-risk band's reach), in one grouped query."""
    if not customer_ids:
        return {}
    before = {
        f"d{i}": Max("occurred_at", filter=Q(occurred_at__lt=_midnight(day)))
        for i, day in enumerate(days)
    }
    rows = (
        Interaction.objects.filter(
            kinds.activity_q(),
            # The ids of one load are one range (bulk insert in one transaction).
            customer_id__gte=min(customer_ids),
            customer_id__lte=max(customer_ids),
            occurred_at__gte=_midnight(days[0] - dt.timedelta(days=SLIPPING_DAYS[1] + 1)),
            occurred_at__lt=_midnight(days[-1]),
        )
        .values("customer_id")
        .annotate(**before)
        .order_by()
    )
    return {
        row["customer_id"]: [
            None if row[f"d{i}"] is None else timezone.localdate(row[f"d{i}"])
            for i in range(len(days))
        ]
        for row in rows
    }


@transaction.atomic
def demo_trials_fire(*, customer_ids: list[int], days: list[dt.date], today: dt.date) -> int:
    """The trial rules' alerts of the fire days for `customer_ids` (the customers just
    loaded), read from the recomputed status history; answers how many were stored."""
    days = fire_days(days, today)
    if not days or not customer_ids:
        return 0
    success = default_success_user()
    places = {pk: place for place, pk in enumerate(customer_ids)}
    stored = 0
    for trial in TRIALS:
        rule = _rules().get(trial.rule)
        if rule is None or not rule.to_status:
            continue
        moves = StatusHistory.objects.filter(
            customer_id__gte=min(customer_ids, default=0),
            customer_id__lte=max(customer_ids, default=0),
            as_of__in=days,
            to_status=rule.to_status,
            customer__archived_at__isnull=True,
        ).exclude(from_status="")
        if rule.from_status:
            moves = moves.filter(from_status=rule.from_status)
        fired: dict[int, list[dt.date]] = defaultdict(list)
        for customer_id, day in moves.order_by("as_of", "customer_id").values_list(
            "customer_id", "as_of"
        ):
            if customer_id not in places:
                continue
            previous = fired[customer_id]
            if not previous or (day - previous[-1]).days >= rule.cooldown_days:
                previous.append(day)
        stored += _store(rule, fired, places, success)
    return stored


def _store(rule: AlertRule, fired: dict[int, list[dt.date]], places: dict, success) -> int:
    owners = dict(Customer.objects.filter(pk__in=list(fired)).values_list("pk", "owner_id"))
    steps = list(rule.playbook.steps.order_by("position", "pk")) if rule.playbook else []
    alerts, plans = [], []
    for customer_id, days in fired.items():
        for day in days:
            arm = _arm(rule, places[customer_id], day)
            alert = Alert(
                customer_id=customer_id,
                rule=rule,
                severity=rule.severity,
                message=f"Status changed to {rule.to_status} on {day} (demo history).",
                fired_on=day,
                arm=arm,
                status=Alert.AlertStatus.HELD_OUT,
            )
            if arm == Arm.TREATMENT:
                alert.status = Alert.AlertStatus.RESOLVED
                alert.assignee_id = owners.get(customer_id) or (success and success.pk)
                alert.acknowledged_at = _at(day + dt.timedelta(days=1))
                alert.resolved_at = _at(day + dt.timedelta(days=30))
                if steps:
                    plans.append((alert, _plan(rule, customer_id, day, steps, success)))
            alerts.append(alert)
    ActionPlan.objects.bulk_create([plan for _, plan in plans])
    ActionStep.objects.bulk_create(
        ActionStep(
            plan=plan,
            position=position,
            title=step.title,
            description=step.description,
            kind=step.kind,
            due_on=plan.started_on + dt.timedelta(days=step.offset_days),
            assignee=success,
            status=ActionStep.StepStatus.DONE,
            completed_at=_at(plan.started_on + dt.timedelta(days=step.offset_days)),
            completed_by=success,
        )
        for _, plan in plans
        for position, step in enumerate(steps)
    )
    for alert, plan in plans:
        alert.action_plan = plan
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    # auto_now_add stamps today: the alerts and plans were made on their fire day.
    for day in {a.fired_on for a in alerts}:
        Alert.objects.filter(rule=rule, fired_on=day).update(created_at=_at(day))
        ActionPlan.objects.filter(pk__in=[p.pk for a, p in plans if a.fired_on == day]).update(
            created_at=_at(day)
        )
    return len(alerts)


def _plan(rule, customer_id, day, steps, success) -> ActionPlan:
    due = day + dt.timedelta(days=max(s.offset_days for s in steps))
    return ActionPlan(
        customer_id=customer_id,
        playbook=rule.playbook,
        owner=success,
        objective=rule.playbook.objective,
        status=ActionPlan.PlanStatus.COMPLETED,
        started_on=day,
        due_on=due,
        outcome="Plan worked through (demo history).",
        completed_at=_at(due),
    )


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
