"""Campaigns: preview, deterministic draw, plans for treatment only, idempotent resumable runs."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagement.models import Arm, Campaign, CampaignMember
from engagement.models.workflow import ActionPlan, ActionStep, Playbook
from engagement.workflow import campaigns
from engagement.workflow.campaigns import (
    campaign_list,
    campaign_preview,
    campaign_report,
    campaign_run,
    campaign_start,
)
from engagement.workflow.outcome_stats import draw_arm
from engagement.workflow.plans import action_plan_start, action_step_complete
from engagement.workflow.segments import saved_segment_create
from tests.factories import CustomerFactory

from .builders import classified

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def playbook():
    return Playbook.objects.get(name="Reactivation")


@pytest.fixture
def at_risk(rep):
    """Twelve at-risk customers (and two others the segment leaves out)."""
    classified("active", owner=rep)
    classified("at_risk", owner=rep, archived_at=timezone.now())
    return [classified("at_risk", owner=rep) for _ in range(12)]


@pytest.fixture
def segment(rep, at_risk):
    return saved_segment_create(owner=rep, name="At risk", filters="status=at_risk")


def _start(segment, playbook, user, **fields):
    fields.setdefault("name", "Win back")
    return campaign_start(segment=segment, playbook=playbook, started_by=user, **fields)


def test_preview_counts_members_and_those_with_an_active_plan(
    segment, playbook, at_risk, cs, django_assert_num_queries
):
    action_plan_start(customer=at_risk[0], playbook=playbook, owner=cs)
    action_plan_start(customer=at_risk[1], playbook=Playbook.objects.get(name="Churn save"))
    with django_assert_num_queries(1):
        preview = campaign_preview(segment=segment, playbook=playbook, holdout_percent=25)
    assert (preview.customers, preview.with_active_plan) == (12, 1)
    assert preview.expected_control == 3
    assert preview.expected_plans == round(11 * 0.75)


def test_members_are_drawn_deterministically_and_treatment_gets_plans(segment, playbook, cs):
    campaign = campaign_run(campaign_id=_start(segment, playbook, cs, holdout_percent=50).pk)
    assert campaign.state == Campaign.State.DONE
    assert (campaign.members_total, campaign.members_done) == (12, 12)
    members = list(CampaignMember.objects.filter(campaign=campaign).select_related("action_plan"))
    assert len(members) == 12
    for member in members:
        assert member.arm == draw_arm(
            rule_or_campaign_key=f"campaign:{campaign.pk}",
            customer_id=member.customer_id,
            day=campaign.started_on,
            holdout_percent=50,
        )
        if member.arm == Arm.TREATMENT:
            plan = member.action_plan
            assert (plan.customer_id, plan.playbook, plan.owner) == (
                member.customer_id,
                playbook,
                cs,  # started by customer success: they own the plans
            )
            assert plan.started_on == campaign.started_on
            assert plan.steps.count() == playbook.steps.count()
        else:
            assert member.action_plan is None
    control = [m.customer_id for m in members if m.arm == Arm.CONTROL]
    assert not ActionPlan.objects.filter(customer_id__in=control).exists()


def test_without_holdout_everybody_is_treated(segment, playbook, cs):
    campaign = campaign_run(campaign_id=_start(segment, playbook, cs).pk)
    assert set(campaign.members.values_list("arm", flat=True)) == {Arm.TREATMENT}
    assert ActionPlan.objects.filter(playbook=playbook).count() == 12


def test_a_customer_with_an_active_plan_stays_in_treatment_without_a_second_plan(
    segment, playbook, at_risk, cs
):
    existing = action_plan_start(customer=at_risk[0], playbook=playbook, owner=cs)
    campaign = campaign_run(campaign_id=_start(segment, playbook, cs).pk)
    member = campaign.members.get(customer=at_risk[0])
    assert (member.arm, member.action_plan) == (Arm.TREATMENT, None)
    assert list(ActionPlan.objects.filter(customer=at_risk[0])) == [existing]
    report = campaign_report(campaign)
    assert (report.plans_started, report.already_active) == (11, 1)


def test_a_re_run_draws_nobody_twice_and_starts_no_second_plan(segment, playbook, cs):
    campaign = campaign_run(campaign_id=_start(segment, playbook, cs, holdout_percent=30).pk)
    before = list(campaign.members.order_by("customer").values_list("customer", "arm"))
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.RUNNING)
    again = campaign_run(campaign_id=campaign.pk)
    assert list(again.members.order_by("customer").values_list("customer", "arm")) == before
    assert ActionPlan.objects.count() == sum(arm == Arm.TREATMENT for _, arm in before)
    assert (again.state, again.members_done) == (Campaign.State.DONE, 12)


def test_a_failed_run_is_marked_and_resumes_where_it_stopped(segment, playbook, cs, monkeypatch):
    campaign = _start(segment, playbook, cs)
    real_start = campaigns.action_plans_start_many
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_start(**kwargs)

    monkeypatch.setattr(campaigns, "action_plans_start_many", flaky)
    with pytest.raises(RuntimeError):
        campaign_run(campaign_id=campaign.pk, chunk_size=5)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.FAILED
    assert "database went away" in campaign.error
    # The first chunk is kept whole; the failed chunk left nothing behind.
    assert (campaign.members.count(), campaign.members_done) == (5, 5)
    assert ActionPlan.objects.count() == 5

    monkeypatch.setattr(campaigns, "action_plans_start_many", real_start)
    campaign = campaign_run(campaign_id=campaign.pk, chunk_size=5)
    assert (campaign.state, campaign.error) == (Campaign.State.DONE, "")
    assert campaign.members.count() == 12
    assert ActionPlan.objects.count() == 12
    assert ActionPlan.objects.values("customer").distinct().count() == 12


def test_progress_moves_chunk_by_chunk(segment, playbook, cs, monkeypatch):
    campaign = _start(segment, playbook, cs)
    assert (campaign.state, campaign.members_total, campaign.members_done) == ("pending", 12, 0)
    seen = []
    real_chunk = campaigns._run_chunk

    def observed(*args):
        real_chunk(*args)
        row = Campaign.objects.get(pk=campaign.pk)
        seen.append((row.state, row.members_done, row.members_total))

    monkeypatch.setattr(campaigns, "_run_chunk", observed)
    campaign_run(campaign_id=campaign.pk, chunk_size=5)
    assert seen == [("running", 5, 12), ("running", 10, 12), ("running", 12, 12)]


def test_archived_customers_are_never_members(segment, playbook, cs, rep):
    archived_in_segment = saved_segment_create(owner=rep, name="Archived", filters="archived=true")
    campaign = campaign_run(campaign_id=_start(archived_in_segment, playbook, cs).pk)
    assert campaign.members.count() == 0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"holdout_percent": 51}, "holdout_percent"),
        ({"outcome_window_days": 0}, "outcome_window_days"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(segment, playbook, cs, fields, named):
    with pytest.raises(ValidationError) as refused:
        _start(segment, playbook, cs, **fields)
    assert named in refused.value.message_dict
    assert not Campaign.objects.exists()


def test_an_inactive_playbook_or_no_segment_is_refused(segment, playbook, cs):
    with pytest.raises(ValidationError) as refused:
        _start(None, playbook, cs)
    assert list(refused.value.message_dict) == ["segment"]
    Playbook.objects.filter(pk=playbook.pk).update(is_active=False)
    playbook.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        _start(segment, playbook, cs)
    assert list(refused.value.message_dict) == ["playbook"]


def test_a_campaign_started_by_an_admin_gives_plans_to_customer_success(
    segment, playbook, cs, crm_admin
):
    campaign = campaign_run(campaign_id=_start(segment, playbook, crm_admin).pk)
    assert set(ActionPlan.objects.values_list("owner", flat=True)) == {cs.pk}
    assert campaign.started_by == crm_admin


def test_report_follows_the_plans_progress(segment, playbook, cs):
    campaign = campaign_run(campaign_id=_start(segment, playbook, cs, started_on=TODAY).pk)
    plan = ActionPlan.objects.filter(playbook=playbook).first()
    for step in plan.steps.all():
        action_step_complete(step=step, user=cs)
    report = campaign_report(campaign)
    steps = ActionStep.objects.filter(plan__playbook=playbook).count()
    assert (report.treatment, report.control) == (12, 0)
    assert report.plans_by_status == {"active": 11, "completed": 1, "cancelled": 0}
    assert (report.steps_total, report.steps_closed) == (steps, plan.steps.count())
    assert report.matures_on == TODAY + dt.timedelta(days=60)


def test_campaign_list_counts_arms_without_a_query_per_row(
    segment, playbook, cs, django_assert_num_queries
):
    for holdout in (0, 20, 50):
        campaign_run(campaign_id=_start(segment, playbook, cs, holdout_percent=holdout).pk)
        ActionPlan.objects.all().delete()  # let the next campaign start plans again
    with django_assert_num_queries(1):
        rows = [
            (c.holdout_percent, c.treatment_count, c.control_count, c.playbook.name, c.segment.name)
            for c in campaign_list().order_by("holdout_percent")
        ]
    assert [row[0] for row in rows] == [0, 20, 50]
    for holdout, treatment, control, *_ in rows:
        members = CampaignMember.objects.filter(campaign__holdout_percent=holdout)
        assert treatment == members.filter(arm=Arm.TREATMENT).count()
        assert control == members.filter(arm=Arm.CONTROL).count()
        assert treatment + control == 12
    assert rows[0][2] == 0


def test_holdout_share_of_a_large_segment_is_near_the_percent(rep, playbook, cs):
    CustomerFactory.create_batch(400, owner=rep)
    everyone = saved_segment_create(owner=rep, name="All")
    campaign = campaign_run(campaign_id=_start(everyone, playbook, cs, holdout_percent=25).pk)
    control = campaign.members.filter(arm=Arm.CONTROL).count()
    # 25% of 400: sd = sqrt(400 * .25 * .75) ~ 8.7; +-5 sd is a bound no fair draw breaks.
    assert 100 - 44 <= control <= 100 + 44
