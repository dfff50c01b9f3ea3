"""Customer success works a plan in Chromium: My work, the plan's checklist, completing a step."""

import pytest
from django.utils import timezone

from customers.models import Interaction
from engagement.models import ActionPlan, ActionStep
from engagement.services.plans import action_plan_start
from engagement.services.playbooks import playbook_save
from tests.browser.conftest import login, screenshot
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_success_completes_a_step_and_the_plan_moves_on(browser_page, live_server, cs):
    customer = CustomerFactory(name="Initech")
    playbook = playbook_save(
        name="Win back",
        objective="Bring Initech back",
        steps=[
            {"title": "Call the sponsor", "kind": "call", "offset_days": 0},
            {"title": "Send the renewal offer", "kind": "email", "offset_days": 3},
        ],
    )
    plan = action_plan_start(customer=customer, playbook=playbook, owner=cs)
    page = browser_page
    login(page, live_server, cs.username)

    # The step due today is on the user's list.
    page.click("#link-my-work")
    page.wait_for_selector("text=Call the sponsor")
    screenshot(page, "my-work-cs")

    page.goto(f"{live_server.url}/admin/engagement/actionplan/{plan.pk}/change/")
    assert "0% (0 of 2)" in page.inner_text(".field-progress")
    page.click("tr:has-text('Call the sponsor') a.button:text('Complete')")
    page.wait_for_selector("#complete-step-form")
    page.check("input[name=status][value=done]")
    page.fill("textarea[name=outcome]", "Sponsor agreed to a demo")
    page.click("#complete-step-form input[type=submit]")

    page.wait_for_url(f"**/actionplan/{plan.pk}/change/**")
    assert "Step “Call the sponsor” completed." in page.inner_text(".messagelist")
    assert "50% (1 of 2)" in page.inner_text(".field-progress")
    assert "✓" in page.inner_text("tr:has-text('Call the sponsor')")
    screenshot(page, "action-plan-step-completed")

    step = ActionStep.objects.get(plan=plan, title="Call the sponsor")
    assert step.status == ActionStep.StepStatus.DONE
    assert step.completed_by == cs
    call = Interaction.objects.get(customer=customer, kind="call")
    assert call.direction == "outbound"
    assert timezone.localtime(call.occurred_at).date() == timezone.localdate()
    assert ActionPlan.objects.get(pk=plan.pk).status == ActionPlan.PlanStatus.ACTIVE
