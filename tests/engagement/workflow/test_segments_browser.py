"""Segments and campaigns in Chromium: save a segment from the filtered customer list, start
a campaign with its preview, read the campaign page. Each saves its screenshot in docs/.

Every check is a Playwright `expect` (it retries until it holds), so nothing sleeps.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engagement.models.segments import Campaign, SavedSegment
from engagement.workflow.campaigns import campaign_run, campaign_start
from engagement.workflow.plans import action_step_complete
from engagement.workflow.playbooks import playbook_save
from engagement.workflow.segments import saved_segment_create
from tests.fixtures.browser import login, screenshot

from .builders import classified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[3] / "docs"
COMPANIES = [
    "Acme Rockets",
    "Globex",
    "Initech",
    "Umbrella Retail",
    "Stark Supplies",
    "Wayne Foods",
    "Hooli",
    "Vandelay Imports",
    "Soylent Corp",
    "Tyrell Systems",
    "Cyberdyne",
    "Wonka Sweets",
]


def _shot(page, name):
    screenshot(page, name)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def _customers(owner):
    for i, name in enumerate(COMPANIES):
        status = "at_risk" if i % 3 else "active"
        types = ["loyal"] if i % 2 else []
        classified(status, types=types, owner=owner, name=name, country="DE" if i < 8 else "FR")


def _playbook():
    return playbook_save(
        name="Win back",
        objective="Bring at-risk customers back",
        steps=[
            {"title": "Call the sponsor", "kind": "call", "offset_days": 0},
            {"title": "Send the renewal offer", "kind": "email", "offset_days": 3},
            {"title": "Review the account", "kind": "meeting", "offset_days": 10},
        ],
    )


def test_a_rep_saves_a_segment_from_the_filtered_customer_list(browser_page, live_server, rep):
    _customers(rep)
    page = browser_page
    login(page, live_server, rep.username)
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.locator("#changelist-filter").get_by_role("link", name="At risk").click()
    expect(page).to_have_url(re.compile(r"status=at_risk"))
    page.locator("#changelist-filter").get_by_role("link", name="DE").click()
    expect(page).to_have_url(re.compile(r"country=DE"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(5)

    page.click("#save-as-segment")
    filters = page.locator("#segment-filters")
    expect(filters).to_contain_text("at_risk")
    expect(filters).to_contain_text("DE")
    expect(page.locator("#segment-size")).to_have_text("5")
    page.fill("#id_name", "At risk in Germany")
    page.check("#id_is_shared")
    _shot(page, "segment-save")
    page.click("#save-segment-form input[type=submit]")

    segment = SavedSegment.objects.get(name="At risk in Germany")
    expect(page).to_have_url(re.compile(rf"\?segment={segment.pk}$"))
    expect(page.locator(".messagelist")).to_contain_text("At risk in Germany")
    expect(rows).to_have_count(5)
    expect(page.locator("#changelist-filter")).to_contain_text("At risk in Germany (5)")
    assert (segment.filters, segment.is_shared) == ("status=at_risk&country=DE", True)


def test_customer_success_starts_a_campaign_with_a_preview(browser_page, live_server, rep, cs):
    _customers(rep)
    _playbook()
    saved_segment_create(owner=rep, name="At risk", filters="status=at_risk", is_shared=True)
    page = browser_page
    login(page, live_server, cs.username)
    page.goto(f"{live_server.url}/admin/engagement/savedsegment/")
    row = page.locator("#result_list tr", has_text="At risk")
    expect(row.locator(".field-size")).to_have_text("8")
    row.get_by_role("link", name="Start campaign").click()

    form = page.locator("#start-campaign-form")
    form.locator("#id_name").fill("Spring win-back")
    form.locator("#id_playbook").select_option(label="Win back")
    form.locator("#id_holdout_percent").fill("25")
    form.locator("#id_outcome_window_days").fill("45")
    form.locator("input[name=preview]").click()

    expect(page.locator("#preview-customers")).to_have_text("8")
    expect(page.locator("#preview-busy")).to_have_text("0")
    expect(page.locator("#preview-control")).to_have_text("about 2")
    expect(page.locator("#preview-plans")).to_have_text("about 6")
    assert not Campaign.objects.exists()
    _shot(page, "campaign-start")
    page.locator("#confirm-campaign-form input[name=confirm]").click()

    campaign = Campaign.objects.get()
    expect(page).to_have_url(re.compile(rf"/admin/engagement/campaign/{campaign.pk}/change/$"))
    expect(page.locator("#campaign-progress")).to_contain_text("8 of 8 members drawn: done")
    assert (campaign.holdout_percent, campaign.outcome_window_days) == (25, 45)


def test_the_campaign_page_shows_arms_plans_and_when_the_outcome_comes(
    browser_page, live_server, rep, cs
):
    _customers(rep)
    playbook = _playbook()
    segment = saved_segment_create(owner=rep, name="At risk", filters="status=at_risk")
    campaign = campaign_start(
        name="Spring win-back",
        segment=segment,
        playbook=playbook,
        holdout_percent=25,
        outcome_window_days=45,
        started_by=cs,
    )
    campaign = campaign_run(campaign_id=campaign.pk)
    treated = campaign.members.filter(arm="treatment").select_related("action_plan")
    plan = treated.first().action_plan
    for step in plan.steps.all():
        action_step_complete(step=step, user=cs)
    page = browser_page
    login(page, live_server, rep.username)  # every role reads campaigns
    page.goto(f"{live_server.url}/admin/engagement/campaign/")
    page.get_by_role("link", name="Spring win-back").click()

    n_treated, n_control = treated.count(), campaign.members.filter(arm="control").count()
    arms = page.locator("#campaign-arms")
    expect(arms.locator("tr", has_text="treatment")).to_contain_text(f"{n_treated}")
    expect(arms.locator("tr", has_text="control")).to_contain_text(f"{n_control}")
    plans = page.locator("#campaign-plans")
    expect(plans).to_contain_text(f"3 of {3 * n_treated}")
    expect(page.locator("#campaign-progress")).to_contain_text("8 of 8 members drawn: done")
    expect(page.locator("#campaign-outcome")).to_contain_text("45-day window")
    _shot(page, "campaign-page")
