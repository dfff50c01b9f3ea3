"""Alert rules evaluated set-based: one query per rule finds the customers it fires for.

Always as of a day D (docs/definitions.md, "Alert rules"): the status and type moves a
recompute stored as of D (its history rows' `as_of`), cooldowns and `fired_on` counted from
D, support interactions by local date up to D. So a back-dated recompute alerts as of its own
day, and a run that follows a crashed one on the same D still sees the moves it stored.
engagement.workflow.runs.engagement_run calls this after every recompute.

Idempotent: a customer is skipped when the rule already alerted them inside its cooldown
(or an alert of it is still open), and the unique constraints on Alert refuse a duplicate
that a concurrent or retried run might still try. Each rule's alerts and the plans they
start are one transaction, so a crash leaves a rule either fully evaluated or untouched.

A rule with a holdout draws each new alert's arm (engagement.workflow.outcome_stats.draw_arm,
keyed by rule, customer and day): a control alert is stored `held_out`, unassigned, with no
plan; it still counts for the cooldown, so its customer is not re-alerted into treatment.
An alert once stored is never drawn again (docs/definitions.md, "Outcomes").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from crm.db import chunks
from customers import kinds
from customers.models import Customer, Interaction, Subscription
from engagement.engine.figures import local_day_start
from engagement.models.predictions import CustomerPrediction
from engagement.models.results import (
    LAPSED_STATUSES,
    EngagementResult,
    Status,
    StatusHistory,
    TypeChange,
)
from engagement.models.workflow import ActionPlan, Alert, AlertRule, Arm

from .outcome_stats import draw_arm
from .plans import action_plan_start, default_success_user

Trigger = AlertRule.Trigger
# Customers per query when a rule's messages read their figures.
HEAD_CHUNK = 5_000
# A cancellation recorded on D or the day before fires as of D: the nightly run (just after
# midnight) still sees the evening's cancellations that an event-driven run missed.
CANCELLED_LOOKBACK_DAYS = 1


def alerts_evaluate(
    *,
    as_of: dt.date | None = None,
    customer_ids: Iterable[int] | None = None,
    triggers: Iterable[str] | None = None,
) -> dict:
    """Evaluate the active rules (of `triggers`, for `customer_ids`) as of `as_of` (default
    today); answers counts per rule."""
    today = as_of or timezone.localdate()
    ids = None if customer_ids is None else sorted({int(pk) for pk in customer_ids})
    rules = AlertRule.objects.filter(is_active=True).select_related("playbook").order_by("pk")
    if triggers is not None:
        rules = rules.filter(trigger__in=list(triggers))
    created = {}
    for rule in rules:
        created[rule.name] = _evaluate_rule(rule, ids=ids, today=today)
    return {"as_of": today.isoformat(), "alerts": sum(created.values()), "by_rule": created}


@transaction.atomic
def _evaluate_rule(rule: AlertRule, *, ids, today) -> int:
    customers = Customer.objects.filter(archived_at__isnull=True)
    if ids is not None:
        customers = customers.filter(pk__in=ids)
    customers = _matching(rule, customers, today=today)
    if customers is None:
        return 0
    # The cooldown on both sides of D: a back-dated run does not alert beside a later alert.
    cooldown = dt.timedelta(days=rule.cooldown_days)
    recent = Alert.objects.filter(rule=rule, customer=OuterRef("pk")).filter(
        Q(fired_on__gt=today - cooldown, fired_on__lt=today + cooldown)
        | Q(status__in=Alert.OPEN_STATES)
    )
    customers = customers.exclude(Exists(recent)).select_related("owner", "engagement")
    fallback = None
    alerts = []
    matched = list(customers.order_by("pk"))
    heads = _heads(rule, [c.pk for c in matched], today)
    for customer in matched:
        arm = draw_arm(
            rule_or_campaign_key=f"rule:{rule.pk}",
            customer_id=customer.pk,
            day=today,
            holdout_percent=rule.holdout_percent,
        )
        assignee, status = None, Alert.AlertStatus.HELD_OUT  # a held-out alert is nobody's work
        if arm == Arm.TREATMENT:
            status = Alert.AlertStatus.OPEN
            assignee = customer.owner
            if assignee is None:
                fallback = fallback or default_success_user()
                assignee = fallback
        alerts.append(
            Alert(
                customer=customer,
                rule=rule,
                severity=rule.severity,
                message=_message(rule, customer, heads.get(customer.pk), today=today),
                status=status,
                arm=arm,
                assignee=assignee,
                fired_on=today,
            )
        )
    if not alerts:
        return 0
    # ignore_conflicts: a concurrent run that got there first wins; nothing is duplicated.
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    fired = Alert.objects.filter(
        rule=rule, fired_on=today, arm=Arm.TREATMENT, customer__in=[a.customer for a in alerts]
    )
    if rule.playbook_id and rule.playbook.is_active:
        _start_plans(
            rule, fired.filter(action_plan__isnull=True).select_related("customer__owner"), today
        )
    return len(alerts)


def _start_plans(rule, alerts, today):
    busy = set(
        ActionPlan.objects.filter(
            playbook=rule.playbook,
            status=ActionPlan.PlanStatus.ACTIVE,
            customer__in=[a.customer_id for a in alerts],
        ).values_list("customer_id", flat=True)
    )
    for alert in alerts:
        if alert.customer_id in busy:
            continue
        try:
            plan = action_plan_start(
                customer=alert.customer, playbook=rule.playbook, started_on=today, objective=""
            )
        except ValidationError:
            continue  # an active plan from this playbook appeared meanwhile: keep that one
        busy.add(alert.customer_id)
        Alert.objects.filter(pk=alert.pk).update(action_plan=plan)


def _days(first: dt.date, last: dt.date) -> dict:
    """occurred_at/updated_at bounds of the local dates first..last (docs/definitions.md,
    "Time and as of D")."""
    return {"gte": local_day_start(first), "lt": local_day_start(last + dt.timedelta(days=1))}


def _between(field: str, first: dt.date, last: dt.date) -> dict:
    return {f"{field}__{op}": bound for op, bound in _days(first, last).items()}


def _matching(rule: AlertRule, customers, *, today):
    """The customers `rule` fires for (before cooldown), or None when the rule is incomplete."""
    trigger = rule.trigger
    if trigger == Trigger.STATUS_CHANGED:
        if not rule.to_status:
            return None
        # The moves stored as of D (by this run, or by an earlier run of the same D).
        moves = StatusHistory.objects.filter(
            customer=OuterRef("pk"), to_status=rule.to_status, as_of=today
        )
        if rule.from_status:
            moves = moves.filter(from_status=rule.from_status)
        elif rule.to_status != Status.NEW:
            # A customer's first classification is no change (except arriving as new):
            # the first recompute of an imported base must not alert on every customer.
            moves = moves.exclude(from_status="")
        # The customer must still stand there: a move already undone alerts nobody.
        return customers.filter(Exists(moves), engagement__status=rule.to_status)
    if trigger in (Trigger.TYPE_GAINED, Trigger.TYPE_LOST):
        if not rule.customer_type:
            return None
        gained = trigger == Trigger.TYPE_GAINED
        changes = TypeChange.objects.filter(
            customer=OuterRef("pk"), customer_type=rule.customer_type, gained=gained, as_of=today
        )
        if gained:
            # As for statuses: a first classification (its status row, from nothing, written
            # with the type rows in one batch) is no change, not a gain of every type held.
            changes = changes.exclude(
                Exists(
                    StatusHistory.objects.filter(
                        customer=OuterRef("customer"),
                        from_status="",
                        changed_at=OuterRef("changed_at"),
                    )
                )
            )
        field = EngagementResult.TYPE_FIELDS[rule.customer_type]
        return customers.filter(Exists(changes), **{f"engagement__{field}": gained})
    if trigger == Trigger.SUBSCRIPTION_CANCELLED:
        cancelled = Subscription.objects.filter(
            customer=OuterRef("pk"),
            status=Subscription.Status.CANCELLED,
            **_between("updated_at", today - dt.timedelta(days=CANCELLED_LOOKBACK_DAYS), today),
        )
        return customers.filter(Exists(cancelled))
    if trigger == Trigger.SUPPORT_SPIKE:
        if not rule.count or not rule.window_days:
            return None
        spiking = (
            Interaction.objects.filter(kind=kinds.SUPPORT, **_support_window(rule, today))
            .values("customer")
            .annotate(n=Count("pk"))
            .filter(n__gte=rule.count)
            .values("customer")
        )
        return customers.filter(pk__in=spiking)
    if trigger == Trigger.HIGH_VALUE_INACTIVE:
        if rule.min_revenue is None:
            return None
        return customers.filter(
            engagement__revenue_365__gte=rule.min_revenue, engagement__status__in=LAPSED_STATUSES
        )
    if trigger == Trigger.VALUE_AT_RISK:
        if rule.max_p_alive is None or rule.min_revenue is None:
            return None
        # The stored predictions (engagement.engine.prediction_service); none, no alert.
        return customers.filter(
            prediction__p_alive__lt=rule.max_p_alive,
            prediction__predicted_clv_365__gte=rule.min_revenue,
        )
    return None


def _support_window(rule: AlertRule, today: dt.date) -> dict:
    """Support interactions "within window_days" of D: local dates D - window_days to D."""
    return _between("occurred_at", today - dt.timedelta(days=rule.window_days), today)


def _heads(rule: AlertRule, ids: list[int], today: dt.date) -> dict[int, str]:
    """Per customer, the trigger's own figures: a few queries per rule, never one per alert."""
    heads: dict[int, str] = {}
    for chunk in chunks(ids, HEAD_CHUNK):
        if rule.trigger == Trigger.STATUS_CHANGED:
            moves = StatusHistory.objects.filter(
                customer_id__in=chunk, to_status=rule.to_status, as_of=today
            ).order_by("changed_at", "pk")
            for move in moves:  # the latest move of each customer wins
                heads[move.customer_id] = (
                    f"Status changed from {move.from_status or 'none'} to {move.to_status} "
                    f"on {move.as_of}"
                )
        elif rule.trigger == Trigger.SUBSCRIPTION_CANCELLED:
            names: dict[int, set] = {}
            for pk, name in Subscription.objects.filter(
                customer_id__in=chunk, status=Subscription.Status.CANCELLED
            ).values_list("customer_id", "product__name"):
                names.setdefault(pk, set()).add(name)
            live = dict(
                Subscription.objects.filter(
                    customer_id__in=chunk, status=Subscription.Status.ACTIVE
                )
                .values("customer_id")
                .annotate(n=Count("pk"))
                .values_list("customer_id", "n")
            )
            for pk in chunk:
                products = ", ".join(sorted(names.get(pk, ()))[:3])
                heads[pk] = (
                    f"Subscription cancelled ({products}); "
                    f"{live.get(pk, 0)} live subscription(s) left"
                )
        elif rule.trigger == Trigger.SUPPORT_SPIKE:
            counts = (
                Interaction.objects.filter(
                    customer_id__in=chunk, kind=kinds.SUPPORT, **_support_window(rule, today)
                )
                .values("customer_id")
                .annotate(n=Count("pk"))
                .values_list("customer_id", "n")
            )
            for pk, n in counts:
                heads[pk] = (
                    f"{n} support interactions in the last {rule.window_days} days "
                    f"(threshold {rule.count})"
                )
        elif rule.trigger == Trigger.VALUE_AT_RISK:
            for prediction in CustomerPrediction.objects.filter(customer_id__in=chunk):
                heads[prediction.customer_id] = value_at_risk_head(rule, prediction)
    return heads


def value_at_risk_head(rule: AlertRule, prediction: CustomerPrediction) -> str:
    """Why a value_at_risk alert fired: the prediction's figures against the rule's, and the
    prediction's own one-line reason."""
    p_alive = f"{prediction.p_alive:.2f}"
    if float(p_alive) >= rule.max_p_alive:  # 0.498 is below 0.50: say so in three digits
        p_alive = f"{prediction.p_alive:.3f}"
    return (
        f"Predicted value at risk: P(alive) {p_alive} below "
        f"{rule.max_p_alive:.2f}, predicted 365-day CLV {prediction.predicted_clv_365:,.2f} "
        f">= {rule.min_revenue:,.2f} (value at stake {prediction.value_at_stake:,.2f}, "
        f"prediction as of {prediction.as_of}); {prediction.reason}"
    )


def _message(rule: AlertRule, customer, head: str | None, *, today) -> str:
    """Why the alert fired, with the figures behind it."""
    result = getattr(customer, "engagement", None)
    figures = []
    if result is not None:
        if result.last_activity_on:
            figures.append(
                f"last activity {result.last_activity_on.isoformat()} "
                f"({(today - result.last_activity_on).days} days ago)"
            )
        else:
            figures.append("no activity on record")
        if rule.trigger != Trigger.HIGH_VALUE_INACTIVE:  # that head states the revenue
            figures.append(f"revenue over 365 days {result.revenue_365}")
    trigger = rule.trigger
    if head:
        pass
    elif trigger == Trigger.STATUS_CHANGED:
        head = f"Status is now {rule.to_status}"
    elif trigger == Trigger.TYPE_GAINED:
        head = f"Became {rule.get_customer_type_display().lower()} ({rule.customer_type})"
    elif trigger == Trigger.TYPE_LOST:
        head = f"No longer {rule.get_customer_type_display().lower()} ({rule.customer_type})"
    elif trigger == Trigger.HIGH_VALUE_INACTIVE:
        status = result.get_status_display().lower() if result else "inactive"
        head = (
            f"High-value customer is {status}: "
            f"revenue over 365 days {result.revenue_365 if result else 0} >= {rule.min_revenue}"
        )
    else:
        head = rule.get_trigger_display()
    return "; ".join([head, *figures]) + "."


@transaction.atomic
def alert_update(*, alert: Alert, user, **fields) -> Alert:
    """Change an alert's status (stamping who and when) or assignee."""
    status = fields.pop("status", None)
    if "assignee" in fields:
        alert.assignee = fields.pop("assignee")
    if fields:
        raise ValidationError({next(iter(fields)): "This field cannot be changed."})
    now = timezone.now()
    if status and status != alert.status:
        if status not in Alert.AlertStatus.values:
            raise ValidationError({"status": "Unknown status."})
        held_out = Alert.AlertStatus.HELD_OUT
        if held_out in (status, alert.status):
            # Editing the arm after the draw would bias the measured outcome.
            raise ValidationError({"status": "Held-out alerts are drawn, never set or reopened."})
        alert.status = status
        if status == Alert.AlertStatus.ACKNOWLEDGED:
            alert.acknowledged_at = now
        elif status in Alert.CLOSED_STATES:
            alert.resolved_at = now
            alert.resolved_by = user
        else:
            alert.resolved_at = None
            alert.resolved_by = None
    alert.full_clean(exclude=["customer", "rule", "action_plan"], validate_constraints=False)
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError as error:  # the one-open-alert constraint: reopened beside a newer one
        raise ValidationError(
            {"status": "Another alert of this rule is open for this customer."}
        ) from error
    return alert


def alerts_set_status(*, alerts, user, status: str) -> int:
    """An admin action's bulk change; answers how many alerts changed (held-out ones stay)."""
    changed = 0
    for alert in alerts:
        if alert.status not in (status, Alert.AlertStatus.HELD_OUT):
            alert_update(alert=alert, user=user, status=status)
            changed += 1
    return changed
