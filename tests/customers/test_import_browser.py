"""A crm_admin brings customers in from a spreadsheet and takes the list out, in Chromium."""

from pathlib import Path

import pytest

from customers.models import Customer
from tests.browser.conftest import browser_page, login  # noqa: F401 (fixture)
from tests.customers.dataio import read_csv_bytes, write_csv
from tests.customers.test_admin_browser import page  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_uploads_previews_confirms_then_exports(page, live_server, crm_admin, tmp_path):  # noqa: F811
    path = write_csv(
        tmp_path / "kunden.csv",
        [["External ID", "Name", "Country"], ["K1", "Müller GmbH", "DE"], ["K2", "Dupré SA", "FR"]],
        encoding="cp1252",
        delimiter=";",
    )
    login(page, live_server, crm_admin.username)
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.click(".object-tools a.crm-import")
    page.set_input_files("#id_file", str(path))
    page.click("#import-form input[type=submit]")
    page.wait_for_selector("#import-summary")
    assert page.inner_text("#import-summary .created") == "2"
    assert not Customer.objects.exists()

    page.click("#import-confirm input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "2 created" in page.inner_text(".messagelist")
    assert page.locator("#result_list a:text('Müller GmbH')").count() == 1

    page.fill("#searchbar", "Dupré")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**/?q=*")
    with page.expect_download() as download:
        page.click(".object-tools a.crm-export-csv")
    rows = read_csv_bytes(Path(download.value.path()).read_bytes())
    assert [(r["external_id"], r["name"]) for r in rows] == [("K2", "Dupré SA")]
