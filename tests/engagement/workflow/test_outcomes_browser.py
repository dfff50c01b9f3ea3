"""Customer success reads "Does it work?": the dashboard panel, its numbers, the rule's page."""

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_success_reads_the_outcome_on_the_dashboard_and_the_rule_page(
    browser_page, live_server, cs, trial
):
    page = browser_page
    login(page, live_server, cs.username)

    page.click("#link-dashboard")
    panel = page.locator("#panel-outcomes")
    expect(panel.locator("h2")).to_have_text("Does it work?")
    # One bar per row, its tooltip the uplift with its interval; green: above zero.
    bar = panel.locator("g.mark", has_text="Rule: Trial")
    expect(bar.locator("title")).to_contain_text("+30 (95% interval")
    expect(bar.locator("rect")).to_have_attribute("fill", "#3a9a4a")
    expect(panel.locator("g.mark")).to_have_count(2)  # the rule and its playbook
    panel.locator("details summary").click()
    expect(panel.locator("table.crm-numbers-table")).to_contain_text("Rule: Trial")
    expect(panel.locator("a.crm-csv")).to_have_attribute("href", re.compile("csv=outcomes"))
    panel.scroll_into_view_if_needed()
    screenshot(page, "outcomes-dashboard")

    page.goto(f"{live_server.url}/admin/engagement/alertrule/{trial.pk}/change/")
    outcome = page.locator("#outcome")
    expect(outcome).to_contain_text("Converts more than the control group")
    expect(outcome.locator("tbody tr")).to_have_count(2)
    expect(outcome).to_contain_text("Conversion uplift: +30.0 points")
    expect(page.locator(".field-holdout_percent")).to_contain_text("50")  # read-only for cs
    screenshot(page, "outcomes-rule")
