"""A sales rep's daily path through the admin, clicked in a real browser (Chromium)."""

import pytest

from customers.models import Interaction
from tests.browser.conftest import browser_page, login  # noqa: F401 (fixture)
from tests.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def page(browser_page):  # noqa: F811 (the imported fixture, by name)
    """tests/browser/conftest.py's Chromium page (it closes the test's connections too)."""
    return browser_page


def test_rep_finds_customer_by_contact_and_logs_a_call(page, live_server, rep):
    customer = CustomerFactory(name="Acme Rockets", owner=rep)
    contact = ContactFactory(customer=customer, first_name="Grace", last_name="Hopper")
    CustomerFactory(name="Someone Else")
    login(page, live_server, "rep")

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
