"""Reads of the workflow (admin, API, My work share them: no N+1 of their own)."""

import datetime as dt

from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from crm import permissions
from engagement.models.runs import RecomputeRun
from engagement.models.workflow import (
    ActionPlan,
    ActionStep,
    Alert,
    AlertRule,
    Playbook,
    PlaybookStep,
)

# My work lists at most this many rows of each kind.
MY_WORK_ROWS = 200
SEVERITY_ORDER = (
    AlertRule.Severity.CRITICAL,
    AlertRule.Severity.WARNING,
    AlertRule.Severity.INFO,
)


def playbook_list() -> QuerySet[Playbook]:
    return Playbook.objects.prefetch_related(
        Prefetch("steps", queryset=PlaybookStep.objects.order_by("position", "pk"))
    )


def alert_rule_list() -> QuerySet[AlertRule]:
    return AlertRule.objects.select_related("playbook")


def alert_list(*, user) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("customer", "rule", "assignee", "resolved_by")
    return permissions.visible_workflow(user, alerts)


def action_plan_list(*, user) -> QuerySet[ActionPlan]:
    plans = with_step_counts(
        ActionPlan.objects.select_related("customer", "playbook", "owner")
    ).prefetch_related(
        Prefetch(
            "steps",
            queryset=ActionStep.objects.select_related("assignee", "completed_by").order_by(
                "position", "pk"
            ),
        )
    )
    return visible_plans(user, plans)


def with_step_counts(plans: QuerySet[ActionPlan]) -> QuerySet[ActionPlan]:
    """Plans annotated with `steps_total` and `steps_closed` (done or skipped)."""
    return plans.annotate(
        steps_total=Count("steps", distinct=True),
        steps_closed=Count(
            "steps", filter=Q(steps__status__in=ActionStep.CLOSED_STATES), distinct=True
        ),
    )


def visible_plans(user, plans: QuerySet[ActionPlan]) -> QuerySet[ActionPlan]:
    """Narrow plans to those the user sees: all for the full roles, a rep's customers' plans
    and the plans with a step assigned to the rep."""
    if permissions.can_manage_workflow(user):
        return plans
    if permissions.is_sales_rep(user):
        # A subquery, not a join: a join on steps would multiply the step counts above.
        visible = ActionPlan.objects.filter(Q(customer__owner=user) | Q(steps__assignee=user))
        return plans.filter(pk__in=visible.values("pk"))
    return plans.none()


def action_step_list(*, user) -> QuerySet[ActionStep]:
    steps = ActionStep.objects.select_related(
        "plan__customer", "plan__playbook", "assignee", "completed_by"
    )
    return permissions.visible_workflow(user, steps, customer_field="plan__customer")


def value_at_stake():
    """An alert's customer's predicted 365-day CLV x (1 - P(alive)): what the customer may not
    bring (docs/definitions.md, "Prediction"); 0 without a prediction."""
    prediction = "customer__prediction__"
    return Coalesce(
        ExpressionWrapper(
            Cast(F(f"{prediction}predicted_clv_365"), FloatField())
            * (Value(1.0) - F(f"{prediction}p_alive")),
            output_field=FloatField(),
        ),
        Value(0.0),
        output_field=FloatField(),
    )


def my_work(*, user, today: dt.date, horizon_days: int = 7):
    """Open alerts of the user (critical first, then by value at stake, highest first, then
    newest first) and their open steps due within `horizon_days` or overdue (oldest due
    first); at most MY_WORK_ROWS of each, the most urgent ones, whatever their age: the order
    is the query's, before the limit. Alerts carry `value_at_stake`."""
    severity_rank = Case(
        *(When(severity=code, then=Value(rank)) for rank, code in enumerate(SEVERITY_ORDER)),
        default=Value(len(SEVERITY_ORDER)),
        output_field=IntegerField(),
    )
    alerts = list(
        # Assigned to the user, or raised for a plan the user owns (customer success).
        Alert.objects.filter(Q(assignee=user) | Q(action_plan__owner=user))
        .filter(status__in=Alert.OPEN_STATES)
        .select_related("customer", "rule", "action_plan")
        .annotate(value_at_stake=value_at_stake())
        .order_by(severity_rank, "-value_at_stake", "-created_at", "-pk")[:MY_WORK_ROWS]
    )
    steps = list(
        ActionStep.objects.filter(
            assignee=user,
            status=ActionStep.StepStatus.OPEN,
            plan__status=ActionPlan.PlanStatus.ACTIVE,
            due_on__lte=today + dt.timedelta(days=horizon_days),
        )
        .select_related("plan__customer", "plan__playbook")
        .order_by("due_on", "pk")[:MY_WORK_ROWS]
    )
    return alerts, steps


def recompute_run_of_task(task_id: str):
    """The full recompute run the task `task_id` started (the latest), or None."""
    return RecomputeRun.objects.filter(task_id=task_id).order_by("-pk").first()
