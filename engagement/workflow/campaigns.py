"""Campaigns: one playbook started for every customer of a saved segment at once.

`campaign_start` records the campaign (state `pending`); `campaign_run` draws the members
and starts the treatment arm's plans, in chunks, each chunk one transaction that records
its members and their plans together. A run is idempotent: a re-run (a retried task, a
redelivered message) skips the customers already drawn, so nobody is drawn twice and no
plan starts twice. The draw is engagement.workflow.outcome_stats.draw_arm keyed
"campaign:<id>" on the campaign's `started_on`. See docs/definitions.md, "Segments and
campaigns".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm import permissions
from customers.models import Customer
from engagement.models.segments import (
    DEFAULT_OUTCOME_WINDOW_DAYS,
    Campaign,
    CampaignMember,
    SavedSegment,
)
from engagement.models.workflow import ActionPlan, ActionStep, Arm, Playbook

from .outcome_stats import draw_arm
from .plans import action_plans_start_many, default_success_user, progress_percent
from .segments import segment_customers

# Customers drawn per transaction: progress moves in steps of this many.
RUN_CHUNK = 500
_ACTIVE = ActionPlan.PlanStatus.ACTIVE


@dataclass(frozen=True)
class CampaignPreview:
    """What starting a campaign would do today (the draw itself happens at the start)."""

    customers: int  # the segment's current customers: the members-to-be
    with_active_plan: int  # of them, already running an active plan from the playbook
    expected_control: int  # about this many drawn into control (holdout_percent of all)
    expected_plans: int  # about this many plans started (treatment without an active plan)


def campaign_candidates(segment: SavedSegment) -> QuerySet[Customer]:
    """The customers a campaign on `segment` draws: the segment's, never archived ones."""
    return segment_customers(segment).filter(archived_at__isnull=True)


def campaign_preview(
    *, segment: SavedSegment, playbook: Playbook, holdout_percent: int = 0
) -> CampaignPreview:
    """Count (one query) the segment's customers and those with an active plan already."""
    busy = ActionPlan.objects.filter(customer=OuterRef("pk"), playbook=playbook, status=_ACTIVE)
    counts = (
        campaign_candidates(segment)
        .order_by()
        .aggregate(n=Count("pk"), busy=Count("pk", filter=Q(Exists(busy))))
    )
    share = holdout_percent / 100
    return CampaignPreview(
        customers=counts["n"],
        with_active_plan=counts["busy"],
        expected_control=round(counts["n"] * share),
        expected_plans=round((counts["n"] - counts["busy"]) * (1 - share)),
    )


@transaction.atomic
def campaign_start(
    *,
    name: str,
    segment: SavedSegment | None,
    playbook: Playbook | None,
    started_by,
    holdout_percent: int = 0,
    outcome_window_days: int = DEFAULT_OUTCOME_WINDOW_DAYS,
    started_on: dt.date | None = None,
) -> Campaign:
    """Record a campaign, `pending` until campaign_run draws it (the face enqueues that).

    Raises ValidationError naming the field: no segment, invalid segment filters, an
    inactive playbook, holdout outside 0..50, a window below 1 day.
    """
    if segment is None:
        raise ValidationError({"segment": "A campaign needs a segment."})
    if playbook is None:
        raise ValidationError({"playbook": "A campaign needs a playbook."})
    if not playbook.is_active:
        raise ValidationError({"playbook": "This playbook is not active."})
    campaign = Campaign(
        name=name,
        segment=segment,
        playbook=playbook,
        holdout_percent=holdout_percent,
        outcome_window_days=outcome_window_days,
        started_on=started_on or timezone.localdate(),
        started_by=started_by,
        members_total=campaign_candidates(segment).count(),
    )
    campaign.full_clean()
    campaign.save()
    return campaign


def campaign_run(*, campaign_id: int, chunk_size: int = RUN_CHUNK) -> Campaign:
    """Draw the campaign's members and start the treatment arm's plans; idempotent.

    A customer who already has an active plan from the playbook stays in treatment
    without a new plan (member.action_plan empty). A failure marks the campaign `failed`
    with the reason and re-raises (the task retries; the re-run resumes).
    """
    campaign = Campaign.objects.select_related("segment", "playbook", "started_by").get(
        pk=campaign_id
    )
    if campaign.state == Campaign.State.DONE:
        return campaign
    try:
        _run(campaign, chunk_size)
    except Exception as error:
        Campaign.objects.filter(pk=campaign.pk).update(
            state=Campaign.State.FAILED, error=str(error)[:1000]
        )
        raise
    Campaign.objects.filter(pk=campaign.pk).update(
        state=Campaign.State.DONE, error="", finished_at=timezone.now()
    )
    campaign.refresh_from_db()
    return campaign


def _run(campaign: Campaign, chunk_size: int) -> None:
    if campaign.segment is None:
        raise ValidationError({"segment": "The campaign's segment was deleted before it ran."})
    playbook = campaign.playbook
    if playbook is None or not playbook.is_active:
        raise ValidationError({"playbook": "The campaign's playbook is gone or not active."})
    members = CampaignMember.objects.filter(campaign=campaign)
    drawn = set(members.values_list("customer_id", flat=True))
    candidates = list(
        campaign_candidates(campaign.segment).order_by("pk").values_list("pk", flat=True)
    )
    todo = [pk for pk in candidates if pk not in drawn]
    Campaign.objects.filter(pk=campaign.pk).update(
        state=Campaign.State.RUNNING,
        members_total=len(drawn) + len(todo),
        members_done=len(drawn),
        error="",
    )
    starter = campaign.started_by
    owner = starter if permissions.is_customer_success(starter) else default_success_user()
    for start in range(0, len(todo), chunk_size):
        _run_chunk(campaign, playbook, owner, todo[start : start + chunk_size])


@transaction.atomic
def _run_chunk(campaign: Campaign, playbook: Playbook, owner, ids: list[int]) -> None:
    # The campaign row's lock serialises two runs of one campaign chunk by chunk; whoever
    # comes second sees the first one's members below and skips them.
    Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk").first()
    done = set(
        CampaignMember.objects.filter(campaign=campaign, customer_id__in=ids).values_list(
            "customer_id", flat=True
        )
    )
    arms = {
        pk: draw_arm(
            rule_or_campaign_key=f"campaign:{campaign.pk}",
            customer_id=pk,
            day=campaign.started_on,
            holdout_percent=campaign.holdout_percent,
        )
        for pk in ids
        if pk not in done
    }
    treated = Customer.objects.filter(
        pk__in=[pk for pk, arm in arms.items() if arm == Arm.TREATMENT]
    ).select_related("owner")
    plans = action_plans_start_many(
        customers=treated, playbook=playbook, owner=owner, started_on=campaign.started_on
    )
    CampaignMember.objects.bulk_create(
        [
            CampaignMember(campaign=campaign, customer_id=pk, arm=arm, action_plan=plans.get(pk))
            for pk, arm in arms.items()
        ]
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        members_done=CampaignMember.objects.filter(campaign=campaign).count()
    )


# --- Reads --------------------------------------------------------------------------------


def _members(arm: str):
    counted = (
        CampaignMember.objects.filter(campaign=OuterRef("pk"), arm=arm)
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def campaign_list() -> QuerySet[Campaign]:
    """Campaigns with segment, playbook and starter joined, members counted per arm
    (`treatment_count`, `control_count`: one subquery each, no query per row)."""
    return Campaign.objects.select_related("segment", "playbook", "started_by").annotate(
        treatment_count=_members(Arm.TREATMENT), control_count=_members(Arm.CONTROL)
    )


@dataclass(frozen=True)
class CampaignReport:
    """The campaign page's figures (a few aggregate queries, whatever the campaign's size)."""

    treatment: int
    control: int
    plans_started: int
    already_active: int  # treatment members who kept their existing plan
    plans_by_status: dict[str, int]
    steps_total: int
    steps_closed: int
    matures_on: dt.date  # the outcome window ends: the outcome is read from then on

    @property
    def steps_percent(self) -> int:
        return progress_percent(self.steps_closed, self.steps_total)


def campaign_report(campaign: Campaign) -> CampaignReport:
    counts = CampaignMember.objects.filter(campaign=campaign).aggregate(
        treatment=Count("pk", filter=Q(arm=Arm.TREATMENT)),
        control=Count("pk", filter=Q(arm=Arm.CONTROL)),
        planned=Count("pk", filter=Q(action_plan__isnull=False)),
    )
    plans = ActionPlan.objects.filter(campaign_memberships__campaign=campaign)
    by_status = dict.fromkeys(ActionPlan.PlanStatus.values, 0)
    by_status.update(plans.order_by().values_list("status").annotate(n=Count("pk")))
    steps = ActionStep.objects.filter(plan__campaign_memberships__campaign=campaign).aggregate(
        total=Count("pk"), closed=Count("pk", filter=Q(status__in=ActionStep.CLOSED_STATES))
    )
    return CampaignReport(
        treatment=counts["treatment"],
        control=counts["control"],
        plans_started=counts["planned"],
        already_active=counts["treatment"] - counts["planned"],
        plans_by_status=by_status,
        steps_total=steps["total"],
        steps_closed=steps["closed"],
        matures_on=campaign.started_on + dt.timedelta(days=campaign.outcome_window_days),
    )
