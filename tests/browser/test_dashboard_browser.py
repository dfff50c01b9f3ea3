"""Each role opens the engagement dashboard, changes the period, opens a customer (Chromium)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.browser.conftest import login, screenshot
from tests.factories import CustomerFactory, InteractionFactory

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
    page.wait_for_selector("#panel-activity svg")
    assert page.locator("section.crm-panel").count() == 13
    assert "12 month periods" in page.inner_text(".crm-period-note")
    screenshot(page, f"dashboard-{role}-month")

    page.select_option("#id_period", "week")
    page.fill("#id_start", "")
    page.click("#dashboard-filters input[type=submit]")
    page.wait_for_url("**period=week**")
    assert "12 week periods" in page.inner_text(".crm-period-note")
    # The numbers behind the chart are one click away.
    page.click("#panel-activity details summary")
    rows = page.locator("#panel-activity table tbody tr")
    assert rows.count() == 12
    # A rep opens on their own accounts (Acme); the others see Globex too.
    assert rows.last.locator("td").inner_text() == ("1" if role == "rep" else "2")
    tooltip = page.locator("#panel-activity svg rect.mark title").last.text_content()
    assert ": " in tooltip
    screenshot(page, f"dashboard-{role}-week")

    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.click("#result_list a:text('Acme Rockets')")
    page.wait_for_url(f"**/customer/{acme.pk}/change/**")
    page.click("#timeline-link")
    page.wait_for_selector("#timeline-table")
    assert "Big order" in page.inner_text("#timeline-table")
    page.select_option("#timeline-interactions #id_kind", "purchase")
    page.wait_for_url("**kind=purchase**")
    texts = page.inner_text("#timeline-table")
    assert "Big order" in texts
    assert "Login 0" not in texts
    screenshot(page, f"timeline-{role}")
