"""A sales rep's daily path through the admin, clicked in a real browser (Chromium)."""

import pytest

from customers.models import Interaction
from tests.factories import ContactFactory, CustomerFactory
from tests.fixtures.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_finds_customer_by_contact_and_logs_a_call(browser_page, live_server, rep):
    customer = CustomerFactory(name="Acme Rockets", owner=rep)
    contact = ContactFactory(customer=customer, first_name="Grace", last_name="Hopper")
    CustomerFactory(name="Someone Else")
    login(browser_page, live_server, "rep")

    browser_page.goto(f"{live_server.url}/admin/customers/customer/")
    browser_page.fill("#searchbar", "Hopper")
    browser_page.press("#searchbar", "Enter")
    browser_page.click("#result_list a:text('Acme Rockets')")
    browser_page.click("#interaction-links a:text('Log interaction')")
    browser_page.wait_for_url("**/admin/customers/interaction/add/?customer=*")

    options = browser_page.locator("#id_contact option").all_inner_texts()
    assert [o.strip() for o in options if o.strip() != "---------"] == ["Grace Hopper"]
    browser_page.select_option("#id_kind", "call")
    browser_page.select_option("#id_contact", str(contact.pk))
    browser_page.fill("#id_subject", "Renewal chat")
    browser_page.click("input[name=_save]")
    browser_page.wait_for_selector(".messagelist .success")

    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.contact) == (customer, contact)
    assert (interaction.kind, interaction.direction, interaction.created_by) == (
        "call",
        "inbound",
        rep,
    )
    browser_page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert browser_page.locator("text=Renewal chat").count() == 1
