"""The predictions in Chromium, where each face shows them: the customer list's columns and
P(alive) filter, the customer page's panel, the dashboard's panels, My work's order. Each
saves its screenshot in docs/ (docs/prediction-*.png).

The base is real: 120 buyers drawn from the buy-till-you-die process and four named
customers with a story, recomputed, fitted and evaluated by one run as of today. Every
check is a Playwright `expect` (it retries until it holds), so nothing sleeps.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagement.analytics.prediction import predicted_value
from engagement.models.predictions import CustomerPrediction
from engagement.models.workflow import Alert
from engagement.workflow.playbooks import alert_rule_save
from engagement.workflow.runs import engagement_run
from tests.engagement.prediction_data import make_buyers, purchase
from tests.factories import CustomerFactory, InteractionFactory, UserFactory
from tests.fixtures.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[3] / "docs"


def _shot(page, name, locator=None):
    screenshot(page, name)
    path = str(DOCS / f"{name}.png")
    if locator is None:
        page.screenshot(path=path, full_page=True)
    else:
        locator.screenshot(path=path)


def _base(rep):
    """The buyers (half of them the rep's), and the rep's five named customers: Acme buys
    every two weeks and did yesterday; Globex bought every ten days for ten months and has
    been silent for five weeks (slipping: much at stake); Initech kept the same rhythm but
    stopped five months ago (gone); Umbrella bought once; Hooli never did."""
    today = timezone.localdate()
    other = UserFactory(username="ann", role="sales_rep")
    make_buyers(60, as_of=today, seed=21, owner=rep)
    make_buyers(60, as_of=today, seed=22, owner=other)
    named = {}
    for key, name, days, amount in (
        ("acme", "Acme Rockets", range(1, 360, 14), "420.00"),
        ("globex", "Globex", range(35, 335, 10), "380.00"),
        ("initech", "Initech", range(150, 450, 10), "380.00"),
        ("umbrella", "Umbrella Retail", [40], "95.00"),
    ):
        named[key] = CustomerFactory(name=name, owner=rep)
        for day in days:
            purchase(named[key], today - dt.timedelta(days=day), amount)
    named["hooli"] = CustomerFactory(name="Hooli", owner=rep)
    InteractionFactory(customer=named["hooli"], occurred_at=timezone.now() - dt.timedelta(days=3))
    summary = engagement_run(as_of=today)
    assert summary.predictions.startswith(f"as of {today}: converged")
    return named


def test_the_customer_list_shows_sorts_and_filters_by_prediction(browser_page, live_server, rep):
    named = _base(rep)
    page = browser_page
    login(page, live_server, rep.username)
    page.goto(f"{live_server.url}/admin/customers/customer/?owner=me&q=o")
    header = page.locator("#result_list thead th.column-predicted_clv")
    expect(header).to_contain_text("Predicted CLV 365 d")
    expect(page.locator("#result_list thead th.column-p_alive")).to_contain_text("P(alive)")

    # Sorted by predicted CLV, highest first: Acme, the steady buyer, leads.
    sort = header.get_by_role("link", name="Predicted CLV 365 d")
    sort.click()  # ascending
    expect(page).to_have_url(re.compile(r"o=\d+"))
    sort.click()  # the same header again: descending
    expect(page).to_have_url(re.compile(r"o=-\d+"))
    first = page.locator("#result_list tbody tr").first
    expect(first).to_contain_text("Acme Rockets")
    acme = CustomerPrediction.objects.get(customer=named["acme"])
    expect(first.locator("td.field-predicted_clv")).to_have_text(f"{acme.predicted_clv_365:,.2f}")
    expect(first.locator("td.field-p_alive")).to_have_text(f"{acme.p_alive:.2f}")
    # Hooli, without a purchase, has no prediction and comes last.
    last = page.locator("#result_list tbody tr").last
    expect(last).to_contain_text("Hooli")
    expect(last.locator("td.field-p_alive")).to_have_text("-")
    # The docs' picture: wide enough for every column, the navigation folded away.
    page.set_viewport_size({"width": 1800, "height": 900})
    page.click("#toggle-nav-sidebar")
    expect(page.locator("#nav-sidebar")).to_be_hidden()
    screenshot(page, "prediction-customer-list")
    page.screenshot(path=str(DOCS / "prediction-customer-list.png"))

    # The P(alive) band below 0.25: Initech, silent for months after a ten-day rhythm.
    page.locator("#changelist-filter").get_by_role("link", name="below 0.25").click()
    expect(page).to_have_url(re.compile(r"p_alive=lt25"))
    rows = page.locator("#result_list tbody tr")
    expect(rows.filter(has_text="Initech")).to_have_count(1)
    expect(rows.filter(has_text="Acme Rockets")).to_have_count(0)
    for value in rows.locator("td.field-p_alive").all_inner_texts():
        assert float(value) < 0.25


def test_the_customer_page_explains_the_prediction(browser_page, live_server, rep):
    named = _base(rep)
    globex = CustomerPrediction.objects.get(customer=named["globex"])
    page = browser_page
    login(page, live_server, rep.username)
    page.goto(f"{live_server.url}/admin/customers/customer/{named['globex'].pk}/change/")
    panel = page.locator("#prediction-panel")
    expect(panel.locator("h2")).to_have_text("Prediction")
    expect(page.locator("#prediction-p-alive")).to_have_text(f"{globex.p_alive:.2f}")
    expect(page.locator("#prediction-clv")).to_have_text(f"{globex.predicted_clv_365:,.2f}")
    expect(page.locator("#prediction-reason")).to_have_text(globex.reason)
    expect(page.locator("#prediction-reason")).to_contain_text(
        "30 purchase days, the last 35 days ago, while a customer like this buys every"
    )
    figures = page.locator("#prediction-figures")
    expect(figures).to_contain_text("Repeat purchase days (frequency x)")
    expect(figures.locator("tr", has_text="Purchase days").first).to_contain_text("30")
    expect(figures.locator("tr", has_text="Historical CLV")).to_contain_text("11,400.00")
    expect(page.locator("#prediction-model")).to_contain_text("with the model fitted as of")
    _shot(page, "prediction-customer-page", panel)

    # A customer without a purchase says so.
    page.goto(f"{live_server.url}/admin/customers/customer/{named['hooli'].pk}/change/")
    expect(page.locator("#prediction-reason")).to_have_text("no purchase yet")


def test_the_dashboard_shows_predicted_value_and_value_at_risk(browser_page, live_server, rep, cs):
    _base(rep)
    page = browser_page
    login(page, live_server, cs.username)
    page.goto(f"{live_server.url}/admin/engagement/dashboard/")
    for panel in ("predicted-clv-status", "predicted-clv-type", "value-at-risk"):
        expect(page.locator(f"#panel-{panel} svg")).to_be_visible()
    # The docs' picture: the three prediction panels together, before any table opens
    # (bounding boxes are of the viewport: measured from the top of the page).
    page.evaluate("window.scrollTo(0, 0)")
    top = page.locator("#panel-predicted-clv-status").bounding_box()
    bottom = page.locator("#panel-value-at-risk").bounding_box()
    page.screenshot(
        path=str(DOCS / "prediction-dashboard.png"),
        full_page=True,
        clip={
            "x": top["x"] - 8,
            "y": top["y"] - 8,
            "width": 1400 - top["x"],
            "height": bottom["y"] + bottom["height"] - top["y"] + 16,
        },
    )
    risk = page.locator("#panel-value-at-risk")
    expect(risk.locator("h2")).to_have_text("Value at risk by owner")
    expect(risk.locator(".help")).to_contain_text("Customers whose P(alive) is below 0.5")
    risk.locator("details summary").click()
    owners = risk.locator("table tbody tr")
    expect(owners.filter(has_text="rep")).to_have_count(1)
    expect(owners.filter(has_text="ann")).to_have_count(1)
    status = page.locator("#panel-predicted-clv-status")
    status.locator("details summary").click()
    active = predicted_value()["by_status"]["active"]
    expect(status.get_by_role("row", name=re.compile(r"^Active "))).to_contain_text(
        str(active["predicted_clv"])
    )
    comparison = page.locator("#panel-comparison")
    expect(comparison).to_contain_text("Predicted 365-day CLV per customer")
    screenshot(page, "prediction-dashboard-full")


def test_my_work_puts_the_largest_value_at_stake_first(browser_page, live_server, rep):
    named = _base(rep)
    # A transactional test starts without the shipped rules: one of our own.
    rule = alert_rule_save(name="Slipped to at risk", trigger="status_changed", to_status="at_risk")
    today = timezone.localdate()
    made = []
    keys = ["acme", "initech", "umbrella", "globex", "hooli"]
    for age, key in enumerate(keys):
        alert = Alert.objects.create(
            customer=named[key],
            rule=rule,
            severity="warning",
            message=f"Status changed for {named[key].name}",
            assignee=rep,
            fired_on=today,
        )
        # Globex (the most at stake) is the oldest; newest first would put it last.
        days = 30 if key == "globex" else age
        Alert.objects.filter(pk=alert.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days)
        )
        made.append(alert)
    stake = {
        p.customer_id: p.value_at_stake or 0.0
        for p in CustomerPrediction.objects.filter(customer__in=named.values())
    }
    expected = sorted(keys, key=lambda k: -stake.get(named[k].pk, 0.0))
    assert expected[0] == "globex"
    page = browser_page
    login(page, live_server, rep.username)
    page.goto(f"{live_server.url}/admin/engagement/actionplan/my-work/")
    rows = page.locator("#my-alerts tbody tr.severity-warning")
    mine = rows.filter(has_text=re.compile("Acme Rockets|Initech|Umbrella|Globex|Hooli"))
    expect(mine).to_have_count(5)
    names = [named[k].name for k in expected]
    for i, name in enumerate(names):
        expect(mine.nth(i)).to_contain_text(name)
    top = mine.first.locator("td.value-at-stake")
    expect(top).to_have_text(f"{stake[named['globex'].pk]:,.2f}")
    expect(mine.last.locator("td.value-at-stake")).to_have_text("-")  # Hooli: nothing
    expect(page.locator("#my-alerts .help")).to_contain_text("largest value at stake")
    _shot(page, "prediction-my-work", page.locator("#my-alerts"))
    assert Decimal(str(stake[named["globex"].pk])) > 0
