"""Action plans: start one from a playbook, complete its steps, close it when none is open.

Every function is atomic and raises ValidationError on a refused write.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm.roles import CUSTOMER_SUCCESS
from customers import kinds
from engagement.models.workflow import ActionPlan, ActionStep, Playbook, PlaybookStep, StepKind

# Completing a step of these kinds can log the matching outbound interaction.
INTERACTION_KIND = {
    StepKind.CALL: kinds.CALL,
    StepKind.EMAIL: kinds.EMAIL,
    StepKind.MEETING: kinds.MEETING,
}


def default_success_user():
    """The customer success user who takes unowned work: the first active one, by id.

    Deterministic on purpose: a retried evaluation assigns the same person as a clean one.
    """
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=CUSTOMER_SUCCESS)
        .order_by("pk")
        .first()
    )


@transaction.atomic
def action_plan_start(
    *,
    customer,
    playbook: Playbook | None = None,
    owner=None,
    objective: str = "",
    started_on: dt.date | None = None,
) -> ActionPlan:
    """Start a plan; from a playbook, copy its steps with due dates started_on + offset_days.

    Refused (ValidationError on `playbook`) when the customer already has an active plan from
    that playbook; the partial unique constraint enforces it against races too.
    """
    started_on = started_on or timezone.localdate()
    owner = owner or default_success_user()
    if playbook is not None and not playbook.is_active:
        raise ValidationError({"playbook": "This playbook is not active."})
    steps = list(PlaybookStep.objects.filter(playbook=playbook)) if playbook else []
    plan, plan_steps = _new_plan(
        customer=customer,
        playbook=playbook,
        steps=steps,
        owner=owner,
        objective=objective,
        started_on=started_on,
    )
    plan.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as error:
        raise ValidationError(
            {"playbook": "This customer already has an active plan from this playbook."}
        ) from error
    ActionStep.objects.bulk_create(plan_steps)
    return plan


@transaction.atomic
def action_plans_start_many(
    *, customers, playbook: Playbook, owner=None, started_on: dt.date | None = None
) -> dict[int, ActionPlan]:
    """Start a plan from `playbook` for each customer without an active plan from it.

    Answers the new plans by customer id. A customer who has one already (or gets one
    meanwhile) is skipped, not refused: what a campaign wants. Set-based: a handful of
    queries whatever the number of customers (plans, their history and their steps inserted
    in bulk); if a concurrent start collides, the plans are started one by one instead.
    Pass customers with `owner` joined (owner-assigned steps read it).
    """
    if not playbook.is_active:
        raise ValidationError({"playbook": "This playbook is not active."})
    started_on = started_on or timezone.localdate()
    owner = owner or default_success_user()
    customers = list(customers)
    busy = set(
        ActionPlan.objects.filter(
            playbook=playbook,
            status=ActionPlan.PlanStatus.ACTIVE,
            customer__in=[customer.pk for customer in customers],
        ).values_list("customer_id", flat=True)
    )
    steps = list(PlaybookStep.objects.filter(playbook=playbook))
    built = {
        customer.pk: _new_plan(
            customer=customer,
            playbook=playbook,
            steps=steps,
            owner=owner,
            objective="",
            started_on=started_on,
        )
        for customer in customers
        if customer.pk not in busy
    }
    if not built:
        return {}
    try:
        with transaction.atomic():
            bulk_create_with_history([plan for plan, _ in built.values()], ActionPlan)
    except IntegrityError:
        return _start_each(customers, playbook, owner, started_on, busy)
    ActionStep.objects.bulk_create(
        [step for _, plan_steps in built.values() for step in plan_steps]
    )
    return {pk: plan for pk, (plan, _) in built.items()}


def _start_each(customers, playbook, owner, started_on, busy) -> dict[int, ActionPlan]:
    plans = {}
    for customer in customers:
        if customer.pk in busy:
            continue
        try:
            plans[customer.pk] = action_plan_start(
                customer=customer, playbook=playbook, owner=owner, started_on=started_on
            )
        except ValidationError:
            continue  # an active plan from this playbook appeared meanwhile: keep that one
        busy.add(customer.pk)
    return plans


def _new_plan(*, customer, playbook, steps, owner, objective, started_on):
    """An unsaved plan and its steps: the playbook's steps, due started_on + offset_days."""
    plan = ActionPlan(
        customer=customer,
        playbook=playbook,
        owner=owner,
        objective=objective or (playbook.objective if playbook else ""),
        started_on=started_on,
    )
    if steps:
        plan.due_on = started_on + dt.timedelta(days=max(s.offset_days for s in steps))
    plan_steps = [
        ActionStep(
            plan=plan,
            position=index,
            title=step.title,
            description=step.description,
            kind=step.kind,
            due_on=started_on + dt.timedelta(days=step.offset_days),
            assignee=(
                customer.owner or owner
                if step.assignee_role == PlaybookStep.AssigneeRole.OWNER
                else owner
            ),
        )
        for index, step in enumerate(steps)
    ]
    return plan, plan_steps


def progress_percent(closed: int, total: int) -> int:
    return 100 if not total else round(100 * closed / total)


@transaction.atomic
def action_step_complete(
    *,
    step: ActionStep,
    user,
    status: str = ActionStep.StepStatus.DONE,
    log_interaction: bool = False,
    outcome: str = "",
) -> ActionStep:
    """Close a step (done or skipped); the plan completes when its last open step closes.

    With log_interaction, a done call/email/meeting step records the outbound interaction.
    """
    from customers.services import interaction_record

    if status not in ActionStep.CLOSED_STATES:
        raise ValidationError({"status": "A step is completed as done or skipped."})
    step = ActionStep.objects.select_for_update().select_related("plan__customer").get(pk=step.pk)
    if step.status != ActionStep.StepStatus.OPEN:
        raise ValidationError({"status": "This step is already closed."})
    if step.plan.status != ActionPlan.PlanStatus.ACTIVE:
        raise ValidationError({"status": "This step's plan is not active."})
    step.status = status
    step.completed_at = timezone.now()
    step.completed_by = user
    step.save(update_fields=["status", "completed_at", "completed_by"])
    kind = INTERACTION_KIND.get(step.kind)
    if log_interaction and kind and status == ActionStep.StepStatus.DONE:
        interaction_record(
            customer=step.plan.customer,
            user=user,
            kind=kind,
            direction=kinds.OUTBOUND,
            subject=step.title[:200],
            notes=outcome,
        )
    _complete_plan_if_done(step.plan, outcome=outcome)
    return step


@transaction.atomic
def action_step_update(*, step: ActionStep, user, **fields) -> ActionStep:
    """Change a step's status, assignee or due date (a closing status goes through completion)."""
    status = fields.pop("status", None)
    for name, value in fields.items():
        setattr(step, name, value)
    if fields:
        step.full_clean(validate_constraints=False)
        step.save(update_fields=list(fields))
    if status and status != step.status:
        if status in ActionStep.CLOSED_STATES:
            return action_step_complete(step=step, user=user, status=status)
        step.status = status
        step.completed_at = None
        step.completed_by = None
        step.save(update_fields=["status", "completed_at", "completed_by"])
        ActionPlan.objects.filter(pk=step.plan_id, status=ActionPlan.PlanStatus.COMPLETED).update(
            status=ActionPlan.PlanStatus.ACTIVE, completed_at=None
        )
    return step


def _complete_plan_if_done(plan: ActionPlan, *, outcome: str = "") -> None:
    if ActionStep.objects.filter(plan=plan, status=ActionStep.StepStatus.OPEN).exists():
        return
    plan.status = ActionPlan.PlanStatus.COMPLETED
    plan.completed_at = timezone.now()
    if outcome and not plan.outcome:
        plan.outcome = outcome
    plan.save(update_fields=["status", "completed_at", "outcome"])
