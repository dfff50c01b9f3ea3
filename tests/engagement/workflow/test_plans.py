"""Starting a playbook for many customers at once (campaigns): set-based, skipping the busy."""

import datetime as dt

import pytest

from engagement.models.workflow import ActionPlan, ActionStep
from engagement.workflow.plans import action_plan_start, action_plans_start_many
from engagement.workflow.playbooks import playbook_save
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def playbook():
    return playbook_save(
        name="Win back",
        objective="Bring them back",
        steps=[
            {"title": "Call", "kind": "call", "offset_days": 0, "assignee_role": "owner"},
            {"title": "Offer", "kind": "email", "offset_days": 5},
        ],
    )


def test_many_plans_start_in_a_few_queries_like_one_by_one(
    playbook, rep, cs, django_assert_max_num_queries
):
    customers = [CustomerFactory(owner=rep if i % 2 else None) for i in range(40)]
    busy = customers[0]
    action_plan_start(customer=busy, playbook=playbook, owner=cs, started_on=DAY)
    # Active plans, playbook steps, plans, their history, steps: and two savepoints' pairs.
    with django_assert_max_num_queries(9):
        plans = action_plans_start_many(
            customers=customers, playbook=playbook, owner=cs, started_on=DAY
        )
    assert set(plans) == {c.pk for c in customers[1:]}
    plan = ActionPlan.objects.get(customer=customers[1])
    assert (plan.owner, plan.started_on, plan.due_on) == (cs, DAY, DAY + dt.timedelta(days=5))
    assert plan.objective == "Bring them back"
    assert plan.history.count() == 1  # the bulk insert keeps the plan's history too
    steps = list(plan.steps.order_by("position").values_list("title", "due_on", "assignee"))
    assert steps == [("Call", DAY, rep.pk), ("Offer", DAY + dt.timedelta(days=5), cs.pk)]
    unowned = ActionPlan.objects.get(customer=customers[2])
    assert list(unowned.steps.values_list("assignee", flat=True)) == [cs.pk, cs.pk]
    assert ActionPlan.objects.filter(customer=busy).count() == 1
    assert ActionStep.objects.count() == 2 * 40


def test_a_collision_falls_back_to_one_by_one_and_skips_the_second(playbook, cs):
    customer = CustomerFactory()
    # The same customer twice: the bulk insert breaks the one-active-plan constraint.
    plans = action_plans_start_many(customers=[customer, customer], playbook=playbook, owner=cs)
    assert list(plans) == [customer.pk]
    assert ActionPlan.objects.filter(customer=customer).count() == 1
    assert ActionStep.objects.count() == 2
