"""What a recompute and its evaluation store, without the timestamps of the run, and a base of
customers in every status whose full recompute moves some of them and fires alerts.

Shared by the tests that hold two ways of running the same recompute equal (one process vs
chunks on workers, a killed worker vs a clean run).
"""

import datetime as dt
import time
from decimal import Decimal

from customers.models import Customer, Interaction
from engagement.models.results import EngagementResult, StatusHistory, TypeChange
from engagement.models.runs import RecomputeRun
from engagement.models.workflow import ActionPlan, Alert


def engagement_snapshot() -> dict:
    results = list(
        EngagementResult.objects.order_by("customer_id").values_list(
            "customer_id",
            "status",
            "reactivated",
            *EngagementResult.TYPE_FIELDS.values(),
            "score",
            "r_score",
            "f_score",
            "m_score",
            "last_activity_on",
            "revenue_365",
            "support_interactions",
            "as_of",
        )
    )
    history = sorted(
        StatusHistory.objects.values_list("customer_id", "from_status", "to_status", "as_of")
    )
    types = sorted(
        TypeChange.objects.values_list("customer_id", "customer_type", "gained", "as_of")
    )
    alerts = sorted(
        Alert.objects.values_list(
            "customer_id",
            "rule_id",
            "severity",
            "message",
            "status",
            "assignee_id",
            "fired_on",
            "action_plan__playbook_id",
        )
    )
    plans = sorted(
        (
            plan.customer_id,
            plan.playbook_id,
            plan.owner_id,
            plan.status,
            plan.started_on,
            plan.due_on,
            tuple(
                plan.steps.order_by("position").values_list(
                    "title", "due_on", "assignee_id", "status"
                )
            ),
        )
        for plan in ActionPlan.objects.prefetch_related("steps")
    )
    return {
        "results": results,
        "history": history,
        "types": types,
        "alerts": alerts,
        "plans": plans,
    }


def clear_engagement() -> None:
    """Forget every stored result, move, alert and plan (the customers stay)."""
    for model in (Alert, ActionPlan, StatusHistory, TypeChange, EngagementResult):
        model.objects.all().delete()


def varied_base(count: int, *, owner, today: dt.date) -> list[Customer]:
    """`count` customers, last active 1 to 200 days ago, a third of them big spenders."""
    since = today - dt.timedelta(days=700)
    customers = Customer.objects.bulk_create(
        Customer(name=f"C{n:05d}", email=f"c{n}@example.com", owner=owner, customer_since=since)
        for n in range(count)
    )
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    Interaction.objects.bulk_create(
        Interaction(
            customer=customer,
            kind="purchase" if n % 3 == 0 else ("support" if n % 7 == 0 else "login"),
            direction="inbound",
            amount=Decimal("6000.00") if n % 3 == 0 else None,
            occurred_at=noon - dt.timedelta(days=(n * 7) % 200 + 1 + extra),
        )
        for n, customer in enumerate(customers)
        for extra in (0, 3)
    )
    return customers


def wait_for_run(run_id: int, seconds=240) -> RecomputeRun:
    """The full recompute run `run_id` once it is done or failed (a fanned-out run finishes
    on the workers, after the task that opened it has answered)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = RecomputeRun.objects.get(pk=run_id)
        if run.state in (RecomputeRun.State.DONE, RecomputeRun.State.FAILED):
            return run
        time.sleep(0.3)
    raise AssertionError(
        f"run {run_id} not done in {seconds}s: {run.chunks_done}/{run.chunks_total}"
    )
