"""Saved segments (named customer-list filters) and campaigns (a playbook for a whole segment).

See docs/definitions.md, "Segments and campaigns".
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .workflow import ActionPlan, Arm, Playbook

# A holdout above half would leave the treatment arm the smaller one.
MAX_HOLDOUT_PERCENT = 50
DEFAULT_OUTCOME_WINDOW_DAYS = 60


class SavedSegment(models.Model):
    name = models.CharField(max_length=200)
    # The customer list's filters and search as a query string, e.g. "status=at_risk&type=loyal";
    # the names are those of engagement.workflow.customer_filters.SegmentFilter.
    filters = models.CharField(max_length=2000, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_segments"
    )
    is_shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="segment_name_unique_per_owner",
                violation_error_message="You already have a segment of this name.",
            ),
        ]
        indexes = [models.Index(fields=["is_shared", "name"], name="segment_shared_name")]

    def __str__(self):
        return self.name


class Campaign(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200)
    # Both kept nullable: the members are recorded, so a campaign outlives its segment, and
    # its playbook goes the way of an alert rule's (SET_NULL).
    segment = models.ForeignKey(
        SavedSegment, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    playbook = models.ForeignKey(
        Playbook, null=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_HOLDOUT_PERCENT)]
    )
    outcome_window_days = models.PositiveIntegerField(
        default=DEFAULT_OUTCOME_WINDOW_DAYS, validators=[MinValueValidator(1)]
    )
    started_on = models.DateField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns_started",
    )
    # The background run: members_done of members_total drawn (and their plans started).
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    members_total = models.PositiveIntegerField(default=0)
    members_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_percent__lte=MAX_HOLDOUT_PERCENT),
                name="campaign_holdout_at_most_50",
            ),
            models.CheckConstraint(
                condition=Q(outcome_window_days__gte=1), name="campaign_window_positive"
            ),
        ]

    def __str__(self):
        return self.name


class CampaignMember(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="campaign_memberships"
    )
    arm = models.CharField(max_length=10, choices=Arm.choices)
    # Treatment only; empty when the customer already had an active plan from the playbook.
    action_plan = models.ForeignKey(
        ActionPlan,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaign_memberships",
    )

    class Meta:
        ordering = ["campaign", "customer"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_member_once"),
        ]
        indexes = [models.Index(fields=["campaign", "arm"], name="campaign_member_arm")]

    def __str__(self):
        return f"{self.campaign}: {self.customer} ({self.arm})"
