"""A CRM admin changes a rule in a real browser: form, preview of who moves, confirm."""

import datetime as dt

import pytest
from django.utils import timezone

from engagement.engine.recompute import engagement_recompute
from engagement.engine.rule_sets import rule_set_ensure
from engagement.models import EngagementResult, RuleSet, Status
from tests.factories import CustomerFactory, InteractionFactory
from tests.fixtures.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_previews_then_confirms_a_rule_change(browser_page, live_server, crm_admin):
    page = browser_page
    rule_set_ensure()
    customers = CustomerFactory.create_batch(3)
    for customer in customers:
        InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=40))
    engagement_recompute()

    login(page, live_server, crm_admin.username)
    page.goto(f"{live_server.url}/admin/engagement/ruleset/")
    page.click("#change-rules-link")
    page.fill("#id_active_days", "45")
    page.click("input[name=_preview]")

    move = page.locator("tr.status-move[data-from=at_risk][data-to=active]")
    assert move.locator("td.count").inner_text() == "3"
    assert move.locator("a").count() == 3
    screenshot(page, "rules-preview")
    assert RuleSet.objects.count() == 1  # the preview wrote nothing

    page.click("#rule-confirm input.default")
    page.wait_for_url(f"{live_server.url}/admin/engagement/ruleset/")
    assert "Rules v2 saved" in page.content()
    assert rule_set_ensure().active_days == 45
    # Without a broker the queued recompute ran in-process after the commit.
    assert set(EngagementResult.objects.values_list("status", flat=True)) == {Status.ACTIVE}

    # The customer's page explains the new standing with the new rules.
    page.goto(f"{live_server.url}/admin/customers/customer/{customers[0].pk}/change/")
    panel = page.locator("#engagement-panel")
    assert "active needs 45" in panel.locator("tr.reason-status").inner_text()
    assert "rules v2" in panel.inner_text()
    screenshot(page, "customer-engagement-panel")
