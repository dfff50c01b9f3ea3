"""Alert rules evaluated set-based: one query per rule finds the customers it fires for.

Idempotent: a customer is skipped when the rule already alerted them inside its cooldown
(or an alert of it is still open), and the unique constraints on Alert refuse a duplicate
that a concurrent or retried run might still try. Each rule's alerts and the plans they
start are one transaction, so a crash leaves a rule either fully evaluated or untouched.
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
from engagement.models.predictions import CustomerPrediction
from engagement.models.results import (
    LAPSED_STATUSES,
    EngagementResult,
    Status,
    StatusHistory,
    TypeChange,
)
from engagement.models.workflow import ActionPlan, Alert, AlertRule

from .plans import action_plan_start, default_success_user

Trigger = AlertRule.Trigger
# Customers per query when a rule's messages read their figures.
HEAD_CHUNK = 5_000
# Without `since`, changes of the last day are looked at: wide enough that a run that
# follows a crashed one still sees the moves the crashed run stored (cooldown dedups).
DEFAULT_LOOKBACK = dt.timedelta(days=1)


def alerts_evaluate(
    *,
    since: dt.datetime | None = None,
    customer_ids: Iterable[int] | None = None,
    triggers: Iterable[str] | None = None,
    today: dt.date | None = None,
) -> dict:
    """Evaluate the active rules (of `triggers`, for `customer_ids`); answers counts per rule."""
    since = since or timezone.now() - DEFAULT_LOOKBACK
    today = today or timezone.localdate()
    ids = None if customer_ids is None else sorted({int(pk) for pk in customer_ids})
    rules = AlertRule.objects.filter(is_active=True).select_related("playbook").order_by("pk")
    if triggers is not None:
        rules = rules.filter(trigger__in=list(triggers))
    created = {}
    for rule in rules:
        created[rule.name] = _evaluate_rule(rule, since=since, ids=ids, today=today)
    return {"alerts": sum(created.values()), "by_rule": created}


@transaction.atomic
def _evaluate_rule(rule: AlertRule, *, since, ids, today) -> int:
    customers = Customer.objects.filter(archived_at__isnull=True)
    if ids is not None:
        customers = customers.filter(pk__in=ids)
    customers = _matching(rule, customers, since=since, today=today)
    if customers is None:
        return 0
    recent = Alert.objects.filter(rule=rule, customer=OuterRef("pk")).filter(
        Q(fired_on__gt=today - dt.timedelta(days=rule.cooldown_days))
        | Q(status__in=Alert.OPEN_STATES)
    )
    customers = customers.exclude(Exists(recent)).select_related("owner", "engagement")
    fallback = None
    alerts = []
    matched = list(customers.order_by("pk"))
    heads = _heads(rule, [c.pk for c in matched])
    for customer in matched:
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
                assignee=assignee,
                fired_on=today,
            )
        )
    if not alerts:
        return 0
    # ignore_conflicts: a concurrent run that got there first wins; nothing is duplicated.
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    fired = Alert.objects.filter(
        rule=rule, fired_on=today, customer__in=[a.customer for a in alerts]
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


def _matching(rule: AlertRule, customers, *, since, today):
    """The customers `rule` fires for (before cooldown), or None when the rule is incomplete."""
    trigger = rule.trigger
    if trigger == Trigger.STATUS_CHANGED:
        if not rule.to_status:
            return None
        moves = StatusHistory.objects.filter(
            customer=OuterRef("pk"), to_status=rule.to_status, changed_at__gte=since
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
            customer=OuterRef("pk"),
            customer_type=rule.customer_type,
            gained=gained,
            changed_at__gte=since,
        )
        field = EngagementResult.TYPE_FIELDS[rule.customer_type]
        return customers.filter(Exists(changes), **{f"engagement__{field}": gained})
    if trigger == Trigger.SUBSCRIPTION_CANCELLED:
        cancelled = Subscription.objects.filter(
            customer=OuterRef("pk"),
            status=Subscription.Status.CANCELLED,
            updated_at__gte=since,
        )
        return customers.filter(Exists(cancelled))
    if trigger == Trigger.SUPPORT_SPIKE:
        if not rule.count or not rule.window_days:
            return None
        start = timezone.now() - dt.timedelta(days=rule.window_days)
        spiking = (
            Interaction.objects.filter(kind=kinds.SUPPORT, occurred_at__gte=start)
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


def _heads(rule: AlertRule, ids: list[int]) -> dict[int, str]:
    """Per customer, the trigger's own figures: a few queries per rule, never one per alert."""
    heads: dict[int, str] = {}
    for chunk in chunks(ids, HEAD_CHUNK):
        if rule.trigger == Trigger.STATUS_CHANGED:
            moves = StatusHistory.objects.filter(
                customer_id__in=chunk, to_status=rule.to_status
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
            since = timezone.now() - dt.timedelta(days=rule.window_days)
            counts = (
                Interaction.objects.filter(
                    customer_id__in=chunk, kind=kinds.SUPPORT, occurred_at__gte=since
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
        alert.status = status
        if status == Alert.AlertStatus.ACKNOWLEDGED:
            alert.acknowledged_at = now
        elif status in (Alert.AlertStatus.RESOLVED, Alert.AlertStatus.DISMISSED):
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
    """An admin action's bulk change; answers how many alerts changed."""
    changed = 0
    for alert in alerts:
        if alert.status != status:
            alert_update(alert=alert, user=user, status=status)
            changed += 1
    return changed
