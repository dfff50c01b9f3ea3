"""A crm_admin brings customers in from a spreadsheet and takes the list out, in Chromium."""

from pathlib import Path

import pytest

from customers.models import Customer
from tests.customers.dataio import read_csv_bytes, write_csv
from tests.fixtures.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_uploads_previews_confirms_then_exports(
    browser_page, live_server, crm_admin, tmp_path
):
    path = write_csv(
        tmp_path / "kunden.csv",
        [["External ID", "Name", "Country"], ["K1", "Müller GmbH", "DE"], ["K2", "Dupré SA", "FR"]],
        encoding="cp1252",
        delimiter=";",
    )
    login(browser_page, live_server, crm_admin.username)
    browser_page.goto(f"{live_server.url}/admin/customers/customer/")
    browser_page.click(".object-tools a.crm-import")
    browser_page.set_input_files("#id_file", str(path))
    browser_page.click("#import-form input[type=submit]")
    browser_page.wait_for_selector("#import-summary")
    assert browser_page.inner_text("#import-summary .created") == "2"
    assert not Customer.objects.exists()

    browser_page.click("#import-confirm input[type=submit]")
    browser_page.wait_for_selector(".messagelist .success")
    assert "2 created" in browser_page.inner_text(".messagelist")
    assert browser_page.locator("#result_list a:text('Müller GmbH')").count() == 1

    browser_page.fill("#searchbar", "Dupré")
    browser_page.press("#searchbar", "Enter")
    browser_page.wait_for_url("**/?q=*")
    with browser_page.expect_download() as download:
        browser_page.click(".object-tools a.crm-export-csv")
    rows = read_csv_bytes(Path(download.value.path()).read_bytes())
    assert [(r["external_id"], r["name"]) for r in rows] == [("K2", "Dupré SA")]
