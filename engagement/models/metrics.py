from django.db import models


class MetricRefresh(models.Model):
    """One build of the metric rollups (engagement.analytics.rollups.metrics_refresh).

    The rollups hold figures per segment cell (owner, kind, country, industry): every
    customer sits in exactly one cell, so any segment's figure is a sum over cells.
    """

    as_of = models.DateField()
    time_zone = models.CharField(max_length=64)
    built_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    onboarding_days = models.PositiveIntegerField()
    active_days = models.PositiveIntegerField()

    class Meta:
        ordering = ["-built_at", "-id"]
        get_latest_by = "built_at"

    def __str__(self):
        return f"Metrics as of {self.as_of} (built {self.built_at:%Y-%m-%d %H:%M})"


class _Cell(models.Model):
    owner_id = models.IntegerField(null=True)
    kind = models.CharField(max_length=10)
    country = models.CharField(max_length=64)
    industry = models.CharField(max_length=100)

    class Meta:
        abstract = True


class ActivityCell(_Cell):
    """Per unit (day, week, month), bucket and cell: active customers by lifecycle, dormant
    ones, and customers whose customer_since falls in the bucket with those activated."""

    unit = models.CharField(max_length=5)
    bucket = models.DateField()
    active = models.IntegerField(default=0)
    new = models.IntegerField(default=0)
    returning = models.IntegerField(default=0)
    resurrecting = models.IntegerField(default=0)
    dormant = models.IntegerField(default=0)
    joined = models.IntegerField(default=0)
    activated = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["unit", "bucket"], name="activity_cell_bucket")]


class CohortCell(_Cell):
    """Customers of a customer_since month cohort active `months_after` months later, per cell."""

    cohort = models.DateField()
    months_after = models.PositiveSmallIntegerField()
    active = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["cohort"], name="cohort_cell_cohort")]


class ComparisonCell(_Cell):
    """Active (activity within active_days of the refresh day) versus non-active customers."""

    is_active = models.BooleanField()
    customers = models.IntegerField(default=0)
    scored = models.IntegerField(default=0)
    score_sum = models.BigIntegerField(default=0)
    lifetime_revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_365 = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    interactions_365 = models.BigIntegerField(default=0)
    # Amounts of live monthly and yearly subscriptions, kept apart so MRR (monthly + yearly
    # / 12) is exact when summed over cells.
    monthly_amounts = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    yearly_amounts = models.DecimalField(max_digits=16, decimal_places=2, default=0)
