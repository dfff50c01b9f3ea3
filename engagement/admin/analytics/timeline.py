"""The customer timeline: an admin page (mounted with the dashboard, see dashboard.pages).

The customer's interactions (filterable by kind), the status history as a coloured strip,
the score at each month's end (live), and, for those who may see them, open alerts and
active plans.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from crm import permissions
from customers.models import Customer, Interaction
from engagement.engine.live import score_trend
from engagement.models import ActionPlan, Alert, EngagementResult, StatusHistory

from . import charts

TIMELINE_ROWS = 200


def timeline_view(request, pk: int):
    if not permissions.can_read(request.user):
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.select_related("owner"), pk=pk)
    kind = request.GET.get("kind", "")
    interactions = (
        Interaction.objects.filter(customer=customer)
        .select_related("contact", "created_by")
        .order_by("-occurred_at", "-id")
    )
    if kind in Interaction.Kind.values:
        interactions = interactions.filter(kind=kind)
    history = list(
        StatusHistory.objects.filter(customer=customer)
        .order_by("as_of", "id")
        .values("as_of", "from_status", "to_status")
    )
    today = timezone.localdate()
    can_see_work = permissions.can_view_workflow_of(request.user, customer)
    context = {
        **admin.site.each_context(request),
        "title": f"Timeline of {customer}",
        "customer": customer,
        "kind": kind,
        "kinds": Interaction.Kind.choices,
        "interactions": list(interactions[:TIMELINE_ROWS]),
        "row_limit": TIMELINE_ROWS,
        "history": history,
        "strip": charts.status_strip(history, today),
        "score_trend": _score_trend(customer, today),
        "result": EngagementResult.objects.filter(customer=customer).first(),
        "alerts": list(
            Alert.objects.filter(customer=customer, status__in=Alert.OPEN_STATES)
            .select_related("rule", "assignee")
            .order_by("-created_at")
        )
        if can_see_work
        else [],
        "plans": list(
            ActionPlan.objects.filter(customer=customer, status=ActionPlan.PlanStatus.ACTIVE)
            .select_related("owner", "playbook")
            .prefetch_related("steps__assignee")
        )
        if can_see_work
        else [],
        "can_see_work": can_see_work,
        "customer_url": reverse("admin:customers_customer_change", args=[customer.pk]),
        "dashboard_url": reverse("admin:crm_dashboard"),
    }
    return TemplateResponse(request, "admin/engagement/timeline.html", context)


SCORE_POINTS = 12


def _score_trend(customer, today: dt.date):
    """The score at the end of each of the last 12 months, evaluated live (nothing stored)."""
    days = []
    month = today.replace(day=1)
    for _ in range(SCORE_POINTS - 1):
        days.append(month - dt.timedelta(days=1))
        month = (month - dt.timedelta(days=1)).replace(day=1)
    rows = score_trend(customer_id=customer.pk, days=[*reversed(days), today])
    chart = charts.line_chart(
        title="Engagement score at each month's end",
        labels=[day.strftime("%b %y") for day, _score in rows],
        series=[("Score", [score for _day, score in rows])],
        height=200,
    )
    return {"chart": chart, "rows": rows}
