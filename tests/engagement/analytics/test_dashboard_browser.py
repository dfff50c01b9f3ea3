"""Each role opens the engagement dashboard, changes the period, opens a customer (Chromium)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import CustomerFactory, InteractionFactory
from tests.fixtures.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _customers(owner):
    today = timezone.localdate()
    acme = CustomerFactory(
        name="Acme Rockets", owner=owner, customer_since=today - dt.timedelta(days=200)
    )
    other = CustomerFactory(name="Globex", customer_since=today - dt.timedelta(days=20))
    for days in (0, 3, 10, 45, 80):
        InteractionFactory(
            customer=acme,
            occurred_at=timezone.now() - dt.timedelta(days=days),
            subject=f"Login {days}",
        )
    InteractionFactory(
        customer=acme,
        kind="purchase",
        amount=Decimal("120"),
        occurred_at=timezone.now(),
        subject="Big order",
    )
    InteractionFactory(customer=other, kind="support", occurred_at=timezone.now(), subject="Help")
    return acme


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_role_opens_dashboard_changes_period_and_opens_a_customer(
    browser_page, live_server, request, role
):
    page = browser_page
    user = request.getfixturevalue(role)
    acme = _customers(owner=request.getfixturevalue("rep") if role != "rep" else user)
    login(page, live_server, user.username)

    page.click("#link-dashboard")
    expect(page.locator("#panel-activity svg")).to_be_visible()
    expect(page.locator("section.crm-panel")).to_have_count(17)
    expect(page.locator(".crm-period-note")).to_contain_text("12 month periods")
    screenshot(page, f"dashboard-{role}-month")

    page.select_option("#id_period", "week")
    page.fill("#id_start", "")
    page.click("#dashboard-filters input[type=submit]")
    page.wait_for_url("**period=week**")
    expect(page.locator(".crm-period-note")).to_contain_text("12 week periods")
    # The numbers behind the chart are one click away.
    page.click("#panel-activity details summary")
    rows = page.locator("#panel-activity table tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.last).to_be_visible()
    # A rep opens on their own accounts (Acme); the others see Globex too.
    expect(rows.last.locator("td")).to_have_text("1" if role == "rep" else "2")
    tooltip = page.locator("#panel-activity svg rect.mark title").last.text_content()
    assert ": " in tooltip
    screenshot(page, f"dashboard-{role}-week")

    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.click("#result_list a:text('Acme Rockets')")
    page.wait_for_url(f"**/customer/{acme.pk}/change/**")
    page.click("#timeline-link")
    table = page.locator("#timeline-table")
    expect(table).to_contain_text("Big order")
    expect(table).to_contain_text("Login 0")
    page.select_option("#timeline-interactions #id_kind", "purchase")
    page.wait_for_url("**kind=purchase**")
    expect(table).to_contain_text("Big order")
    expect(table).not_to_contain_text("Login 0")
    screenshot(page, f"timeline-{role}")
