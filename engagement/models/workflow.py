from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .results import CustomerType, Status


class StepKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    TASK = "task", "Task"


class Arm(models.TextChoices):
    """The arm of a held-out alert or a campaign member (docs/definitions.md, "Outcomes")."""

    TREATMENT = "treatment", "Treatment"
    CONTROL = "control", "Control"


# A rule or campaign holds out at most half of its customers.
MAX_HOLDOUT_PERCENT = 50


class Playbook(models.Model):
    name = models.CharField(max_length=200, unique=True)
    objective = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PlaybookStep(models.Model):
    class AssigneeRole(models.TextChoices):
        OWNER = "owner", "The customer's owner"
        CUSTOMER_SUCCESS = "customer_success", "The plan's owner (customer success)"

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.TASK)
    offset_days = models.PositiveIntegerField(default=0)
    assignee_role = models.CharField(
        max_length=20, choices=AssigneeRole.choices, default=AssigneeRole.CUSTOMER_SUCCESS
    )

    class Meta:
        ordering = ["playbook", "position", "id"]

    def __str__(self):
        return self.title


class AlertRule(models.Model):
    class Trigger(models.TextChoices):
        STATUS_CHANGED = "status_changed", "Status changed"
        TYPE_GAINED = "type_gained", "Type gained"
        TYPE_LOST = "type_lost", "Type lost"
        SUBSCRIPTION_CANCELLED = "subscription_cancelled", "Subscription cancelled"
        SUPPORT_SPIKE = "support_spike", "Support spike"
        HIGH_VALUE_INACTIVE = "high_value_inactive", "High-value customer inactive"
        VALUE_AT_RISK = "value_at_risk", "Predicted value at risk"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    name = models.CharField(max_length=200, unique=True)
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    to_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    from_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    customer_type = models.CharField(max_length=20, choices=CustomerType.choices, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    window_days = models.PositiveIntegerField(null=True, blank=True)
    min_revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # value_at_risk: fires below this P(alive) (a probability, 0 to 1).
    max_p_alive = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    playbook = models.ForeignKey(
        Playbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="alert_rules"
    )
    cooldown_days = models.PositiveIntegerField(default=30)
    holdout_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_HOLDOUT_PERCENT)],
        help_text="Share of the customers it fires for held out as a control group (0 to 50).",
    )
    outcome_window_days = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="Days after an alert over which its outcome is read.",
    )
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_percent__gte=0, holdout_percent__lte=MAX_HOLDOUT_PERCENT),
                name="alert_rule_holdout_percent_range",
                violation_error_message="The holdout is a percent from 0 to 50.",
            ),
            models.CheckConstraint(
                condition=Q(outcome_window_days__gte=1),
                name="alert_rule_outcome_window_positive",
                violation_error_message="The outcome window is at least one day.",
            ),
        ]

    def __str__(self):
        return self.name


class Alert(models.Model):
    class AlertStatus(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"
        # The control arm of a rule's holdout: recorded, never worked (see `arm`).
        HELD_OUT = "held_out", "Held out"

    # Still to be worked; at most one per rule and customer (the constraint below).
    OPEN_STATES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
    # Worked and closed. HELD_OUT is neither open nor closed: drawn into the control arm, it
    # is never worked nor set by hand, and counts for the cooldown by its day like any alert.
    CLOSED_STATES = (AlertStatus.RESOLVED, AlertStatus.DISMISSED)

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="alerts"
    )
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    severity = models.CharField(max_length=10, choices=AlertRule.Severity.choices)
    message = models.TextField()
    status = models.CharField(max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    arm = models.CharField(max_length=10, choices=Arm.choices, default=Arm.TREATMENT)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    # The day the alert fired: with the constraint below, a retried evaluation cannot duplicate it.
    fired_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action_plan = models.ForeignKey(
        "engagement.ActionPlan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "customer", "fired_on"], name="alert_once_per_rule_customer_day"
            ),
            models.UniqueConstraint(
                fields=["rule", "customer"],
                condition=Q(status__in=["open", "acknowledged"]),  # OPEN_STATES
                name="alert_one_open_per_rule_customer",
            ),
            # Control alerts and held_out go together: the experiment cannot be edited away.
            models.CheckConstraint(
                condition=(Q(arm="control") & Q(status="held_out"))
                | (Q(arm="treatment") & ~Q(status="held_out")),
                name="alert_held_out_iff_control",
                violation_error_message="Held-out alerts are the control arm, and only they.",
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status"], name="alert_assignee_status"),
            models.Index(fields=["customer", "status"], name="alert_customer_status"),
            models.Index(fields=["status", "severity"], name="alert_status_severity"),
        ]

    def __str__(self):
        return f"{self.rule}: {self.customer}"


class ActionPlan(models.Model):
    class PlanStatus(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="action_plans"
    )
    playbook = models.ForeignKey(
        Playbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )
    objective = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_plans",
    )
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    started_on = models.DateField()
    due_on = models.DateField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "playbook"],
                condition=Q(status="active", playbook__isnull=False),
                name="plan_one_active_per_customer_playbook",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="plan_owner_status"),
            models.Index(fields=["customer", "status"], name="plan_customer_status"),
        ]

    def __str__(self):
        return f"{self.playbook or 'Plan'} for {self.customer}"


class ActionStep(models.Model):
    class StepStatus(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    CLOSED_STATES = (StepStatus.DONE, StepStatus.SKIPPED)

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.TASK)
    due_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_steps",
    )
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Overdue reminders go out at most once a day per step.
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "position"], name="step_position_unique_in_plan"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="step_assignee_due"),
        ]

    def __str__(self):
        return self.title
