"""A campaign's outcome: its members measured from its start day, in its own row and pooled
into its playbook's; on the API and the campaign page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from engagement.engine.rule_sets import rule_set_ensure
from engagement.models.results import StatusHistory
from engagement.models.segments import Campaign, CampaignMember
from engagement.models.workflow import Alert, AlertRule, Playbook
from engagement.workflow.outcomes import campaign_outcome, outcomes_report, playbook_outcome
from engagement.workflow.segments import saved_segment_create
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db
START = dt.date(2025, 3, 10)
WINDOW = 30
AS_OF = START + dt.timedelta(days=WINDOW)


@pytest.fixture
def playbook():
    return Playbook.objects.create(name="Win back")


@pytest.fixture
def campaign(rep, cs, playbook):
    """40 members per arm, recorded as a run leaves them: 24 treated and 8 held-out
    customers came back inside the window; every treated one bought 50.00 in it."""
    campaign = Campaign.objects.create(
        name="Spring",
        segment=saved_segment_create(owner=rep, name="All"),
        playbook=playbook,
        holdout_percent=50,
        outcome_window_days=WINDOW,
        started_on=START,
        started_by=cs,
        state=Campaign.State.DONE,
    )
    for i in range(80):
        customer = CustomerFactory()
        arm = "treatment" if i < 40 else "control"
        CampaignMember.objects.create(campaign=campaign, customer=customer, arm=arm)
        if i < 24 or 40 <= i < 48:
            StatusHistory.objects.create(
                customer=customer,
                from_status="at_risk",
                to_status="active",
                as_of=START + dt.timedelta(days=5),
                changed_at=timezone.now(),
                rule_set=rule_set_ensure(),
            )
        if i < 40:
            InteractionFactory(
                customer=customer,
                kind="purchase",
                amount=Decimal("50.00"),
                occurred_at=timezone.make_aware(dt.datetime.combine(START, dt.time(12)))
                + dt.timedelta(days=3),
            )
    return campaign


def test_a_campaign_row_measures_its_members_from_the_start_day(campaign, playbook):
    rows = outcomes_report(as_of=AS_OF, campaign=campaign.pk)
    assert len(rows) == 1
    row = rows[0]
    assert (row["rule"], row["playbook"], row["campaign"]) == (None, playbook.pk, campaign.pk)
    assert row["window_days"] == WINDOW
    assert row["treatment"] == {
        "n": 40,
        "converted": 0.6,
        "purchased": 1.0,
        "revenue": Decimal("50.00"),
    }
    assert (row["control"]["n"], row["control"]["converted"]) == (40, 0.2)
    uplift = row["conversion_uplift"]
    assert uplift["value"] == pytest.approx(0.4)
    assert uplift["low"] > 0
    assert campaign_outcome(campaign=campaign, as_of=AS_OF) == row


def test_members_are_counted_only_once_the_window_has_ended(campaign):
    early = campaign_outcome(campaign=campaign, as_of=AS_OF - dt.timedelta(days=1))
    assert (early["treatment"]["n"], early["control"]["n"]) == (0, 0)
    assert outcomes_report(as_of=AS_OF - dt.timedelta(days=1)) == []


def test_a_playbook_pools_its_rules_alerts_and_its_campaigns_members(campaign, playbook):
    rule = AlertRule.objects.create(
        name="Lapsed", trigger="subscription_cancelled", playbook=playbook, outcome_window_days=10
    )
    for arm in ("treatment", "control"):
        Alert.objects.create(
            customer=CustomerFactory(),
            rule=rule,
            severity="info",
            message="m",
            fired_on=START,
            arm=arm,
            status="open" if arm == "treatment" else "held_out",
        )
    pooled = playbook_outcome(playbook=playbook, as_of=AS_OF)
    assert (pooled["treatment"]["n"], pooled["control"]["n"]) == (41, 41)
    assert pooled["window_days"] is None  # the rule's 10 days and the campaign's 30
    kinds = {(r["rule"], r["playbook"], r["campaign"]) for r in outcomes_report(as_of=AS_OF)}
    assert kinds == {(rule.pk, playbook.pk, None), (None, playbook.pk, None)} | {
        (None, playbook.pk, campaign.pk)
    }
    narrowed = outcomes_report(as_of=AS_OF, playbook=playbook.pk)
    assert len(narrowed) == 3


def test_the_api_answers_a_campaigns_row_and_refuses_an_unknown_one(campaign, rep_api):
    body = rep_api.get(f"/api/metrics/outcomes/?as_of={AS_OF}&campaign={campaign.pk}").json()
    assert [r["campaign"] for r in body["results"]] == [campaign.pk]
    assert body["results"][0]["treatment"]["n"] == 40
    answer = rep_api.get(f"/api/metrics/outcomes/?campaign={campaign.pk + 1000}")
    assert answer.status_code == 400
    assert "campaign" in answer.json()


def test_the_campaign_page_shows_the_outcome_once_matured(campaign, client, rep, monkeypatch):
    page = reverse("admin:engagement_campaign_change", args=[campaign.pk])
    client.force_login(rep)
    monkeypatch.setattr(timezone, "localdate", lambda *args: AS_OF)
    html = client.get(page).content.decode()
    assert 'id="outcome"' in html
    assert "Members" in html
    assert "Conversion uplift: +40.0" in html
    monkeypatch.setattr(timezone, "localdate", lambda *args: AS_OF - dt.timedelta(days=1))
    html = client.get(page).content.decode()
    assert 'id="outcome"' not in html
    assert f"from {AS_OF:%b}" in html


def test_report_queries_do_not_grow_with_campaigns(
    campaign, playbook, cs, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6) as one:
        outcomes_report(as_of=AS_OF)
    for i in range(4):
        more = Campaign.objects.create(
            name=f"More {i}",
            playbook=playbook,
            started_on=START,
            started_by=cs,
            outcome_window_days=WINDOW,
        )
        CampaignMember.objects.bulk_create(
            CampaignMember(campaign=more, customer=CustomerFactory(), arm=arm)
            for arm in ("treatment", "control")
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        rows = outcomes_report(as_of=AS_OF)
    assert len([r for r in rows if r["campaign"]]) == 5
