from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class RuleSet(models.Model):
    """One version of the engagement thresholds. Versions are never edited: a change is a new row.

    The active rule set is the one with the highest version.
    """

    version = models.PositiveIntegerField(unique=True, editable=False)
    recent_buyer_days = models.PositiveIntegerField(default=30)
    loyal_min_purchases = models.PositiveIntegerField(default=3)
    loyal_window_days = models.PositiveIntegerField(default=365)
    loyal_min_tenure_days = models.PositiveIntegerField(default=180)
    support_min_interactions = models.PositiveIntegerField(default=3)
    support_window_days = models.PositiveIntegerField(default=90)
    contact_min_interactions = models.PositiveIntegerField(default=2)
    contact_window_days = models.PositiveIntegerField(default=90)
    onboarding_days = models.PositiveIntegerField(default=30)
    active_days = models.PositiveIntegerField(default=30)
    at_risk_days = models.PositiveIntegerField(default=60)
    inactive_days = models.PositiveIntegerField(default=90)
    count_trials_as_subscribers = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    THRESHOLD_FIELDS = (
        "recent_buyer_days",
        "loyal_min_purchases",
        "loyal_window_days",
        "loyal_min_tenure_days",
        "support_min_interactions",
        "support_window_days",
        "contact_min_interactions",
        "contact_window_days",
        "onboarding_days",
        "active_days",
        "at_risk_days",
        "inactive_days",
        "count_trials_as_subscribers",
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = "engagement rule set"

    def __str__(self):
        return f"Rules v{self.version}"
