"""Customer success works a plan in Chromium: My work, the plan's checklist, completing a step.

Every check on the page is a Playwright `expect`, which retries until it holds (or times
out), so the test waits for exactly what it needs and never sleeps.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Interaction
from engagement.models import ActionPlan, ActionStep
from engagement.workflow.plans import action_plan_start
from engagement.workflow.playbooks import playbook_save
from tests.factories import CustomerFactory
from tests.fixtures.browser import login, screenshot

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

    # Both steps are on the user's list; the plan opens from it.
    page.click("#link-my-work")
    steps = page.locator("#my-steps tr.step-row")
    expect(steps).to_have_count(2)
    call_row = steps.filter(has_text="Call the sponsor")
    expect(call_row).to_contain_text("Initech")
    screenshot(page, "my-work-cs")
    call_row.get_by_role("link", name="Win back").click()

    plan_url = re.compile(rf"/admin/engagement/actionplan/{plan.pk}/change/$")
    expect(page).to_have_url(plan_url)
    progress = page.locator(".field-progress")
    expect(progress).to_contain_text("0% (0 of 2)")
    checklist_row = page.locator(".inline-related tr.form-row", has_text="Call the sponsor")
    expect(checklist_row).to_contain_text("Open")

    checklist_row.get_by_role("link", name="Complete").click()
    form = page.locator("#complete-step-form")
    expect(form).to_be_visible()
    form.locator("input[name=status][value=done]").check()
    form.locator("textarea[name=outcome]").fill("Sponsor agreed to a demo")
    form.locator("input[type=submit]").click()

    # Back on the plan: the step is done and the plan is half way.
    expect(page).to_have_url(plan_url)
    expect(page.locator(".messagelist")).to_contain_text("Step “Call the sponsor” completed.")
    expect(progress).to_contain_text("50% (1 of 2)")
    expect(checklist_row).to_contain_text("Done")
    expect(checklist_row).to_contain_text("✓")
    expect(checklist_row.get_by_role("link", name="Complete")).to_have_count(0)
    other_row = page.locator(".inline-related tr.form-row", has_text="Send the renewal offer")
    expect(other_row.get_by_role("link", name="Complete")).to_be_visible()
    screenshot(page, "action-plan-step-completed")

    # My work now lists only the open step.
    page.goto(f"{live_server.url}/admin/")
    page.click("#link-my-work")
    expect(steps).to_have_count(1)
    expect(steps).to_contain_text("Send the renewal offer")

    # And it was stored: the step, the logged call, the plan still active.
    step = ActionStep.objects.get(plan=plan, title="Call the sponsor")
    assert step.status == ActionStep.StepStatus.DONE
    assert step.completed_by == cs
    call = Interaction.objects.get(customer=customer, kind="call")
    assert (call.direction, call.subject) == ("outbound", "Call the sponsor")
    assert call.notes == "Sponsor agreed to a demo"
    assert timezone.localtime(call.occurred_at).date() == timezone.localdate()
    assert ActionPlan.objects.get(pk=plan.pk).status == ActionPlan.PlanStatus.ACTIVE
    assert ActionStep.objects.get(plan=plan, title="Send the renewal offer").status == "open"
