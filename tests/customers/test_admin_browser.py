"""A sales rep's daily path through the admin, clicked in a real browser (Chromium)."""

import os
import shutil

import pytest

from customers.models import Interaction
from tests.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def page(live_server):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CRM_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required (CRM_REQUIRE_BROWSER) but missing at {CHROMIUM}")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the
    # test itself are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-secret-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_rep_finds_customer_by_contact_and_logs_a_call(page, live_server, rep):
    customer = CustomerFactory(name="Acme Rockets", owner=rep)
    contact = ContactFactory(customer=customer, first_name="Grace", last_name="Hopper")
    CustomerFactory(name="Someone Else")
    _login(page, live_server, "rep")

    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.fill("#searchbar", "Hopper")
    page.press("#searchbar", "Enter")
    page.click("#result_list a:text('Acme Rockets')")
    page.click("#interaction-links a:text('Log interaction')")
    page.wait_for_url("**/admin/customers/interaction/add/?customer=*")

    options = page.locator("#id_contact option").all_inner_texts()
    assert [o.strip() for o in options if o.strip() != "---------"] == ["Grace Hopper"]
    page.select_option("#id_kind", "call")
    page.select_option("#id_contact", str(contact.pk))
    page.fill("#id_subject", "Renewal chat")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.contact) == (customer, contact)
    assert (interaction.kind, interaction.direction, interaction.created_by) == (
        "call",
        "inbound",
        rep,
    )
    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert page.locator("text=Renewal chat").count() == 1
