"""Reads of the workflow (admin, API, My work share them: no N+1 of their own)."""

from django.db.models import Count, Prefetch, Q, QuerySet

from crm import permissions
from engagement.models.workflow import (
    ActionPlan,
    ActionStep,
    Alert,
    AlertRule,
    Playbook,
    PlaybookStep,
)

CLOSED = ("done", "skipped")


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
    plans = (
        ActionPlan.objects.select_related("customer", "playbook", "owner")
        .annotate(
            steps_total=Count("steps"),
            steps_closed=Count("steps", filter=Q(steps__status__in=CLOSED)),
        )
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=ActionStep.objects.select_related("assignee", "completed_by").order_by(
                    "position", "pk"
                ),
            )
        )
    )
    return _visible_plans(user, plans)


def _visible_plans(user, plans):
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


def my_work(*, user, today, horizon_days: int = 7):
    """Open alerts of the user (critical first, newest first) and their open steps due
    within `horizon_days` or overdue (oldest due first)."""
    import datetime as dt

    severity_rank = {"critical": 0, "warning": 1, "info": 2}
    alerts = list(
        # Assigned to the user, or raised for a plan the user owns (customer success).
        Alert.objects.filter(Q(assignee=user) | Q(action_plan__owner=user))
        .filter(status__in=("open", "acknowledged"))
        .select_related("customer", "rule", "action_plan")
        .order_by("-created_at", "-pk")[:200]
    )
    alerts.sort(key=lambda a: severity_rank.get(a.severity, 3))
    steps = list(
        ActionStep.objects.filter(
            assignee=user,
            status="open",
            plan__status="active",
            due_on__lte=today + dt.timedelta(days=horizon_days),
        )
        .select_related("plan__customer", "plan__playbook")
        .order_by("due_on", "pk")[:200]
    )
    return alerts, steps
