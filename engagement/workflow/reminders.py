"""Overdue action steps reminded to their assignee by e-mail, at most once a day per step."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from engagement.models.workflow import ActionPlan, ActionStep


def overdue_steps_remind(*, today: dt.date | None = None) -> int:
    """E-mail each assignee of an open, overdue step once today; answers how many were sent.

    Race-safe: each step is claimed by a conditional UPDATE (last_reminded_on still before
    today), so two workers running this at once send one reminder, not two.
    """
    today = today or timezone.localdate()
    due = (
        ActionStep.objects.filter(
            status=ActionStep.StepStatus.OPEN,
            plan__status=ActionPlan.PlanStatus.ACTIVE,
            due_on__lt=today,
            assignee__isnull=False,
        )
        .exclude(assignee__email="")
        .filter(Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=today))
        .select_related("assignee", "plan__customer")
        .order_by("pk")
    )
    sent = 0
    for step in due.iterator(chunk_size=500):
        claimed = (
            ActionStep.objects.filter(pk=step.pk)
            .filter(Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=today))
            .update(last_reminded_on=today)
        )
        if not claimed:
            continue
        days = (today - step.due_on).days
        send_mail(
            subject=f"Overdue: {step.title} ({step.plan.customer})",
            message=(
                f'The step "{step.title}" of the plan for {step.plan.customer} was due on '
                f"{step.due_on.isoformat()} ({days} day(s) ago) and is still open.\n"
                'It is listed on your "My work" page in the CRM admin.'
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[step.assignee.email],
        )
        sent += 1
    return sent
