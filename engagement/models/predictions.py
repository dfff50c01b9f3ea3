"""Stored predictions: every fit of the purchase models, and one current prediction per customer.

Written by engagement.engine.prediction_service; the definitions are in docs/definitions.md,
"Prediction".
"""

from django.db import models


class PredictionFit(models.Model):
    """One fit of BG/NBD and Gamma-Gamma as of a day. Every fit is kept.

    Not fitted (too little data): the parameters are empty and `message` says why. Fitted
    but not converged: the parameters where the optimiser stopped, `converged` False, and
    `message` says what went wrong; the model in use stays the previous one.
    """

    as_of = models.DateField()
    fitted_at = models.DateTimeField()
    customers = models.PositiveIntegerField(default=0)  # with a purchase on or before as_of
    repeaters = models.PositiveIntegerField(default=0)  # with a repeat purchase day
    # BG/NBD (alpha in days) and Gamma-Gamma; empty when not fitted.
    r = models.FloatField(null=True, blank=True)
    alpha = models.FloatField(null=True, blank=True)
    a = models.FloatField(null=True, blank=True)
    b = models.FloatField(null=True, blank=True)
    p = models.FloatField(null=True, blank=True)
    q = models.FloatField(null=True, blank=True)
    gamma = models.FloatField(null=True, blank=True)
    log_likelihood = models.FloatField(null=True, blank=True)  # BG/NBD's, over `customers`
    gamma_gamma_log_likelihood = models.FloatField(null=True, blank=True)  # over `repeaters`
    converged = models.BooleanField(default=False)
    message = models.TextField(blank=True)  # why not fitted or not converged; empty when fine
    seconds = models.FloatField(default=0)  # summary, fit, predictions and their writes

    class Meta:
        ordering = ["-fitted_at", "-id"]
        get_latest_by = ["fitted_at", "id"]
        indexes = [models.Index(fields=["-fitted_at", "-id"], name="prediction_fit_latest")]

    def __str__(self):
        if not self.fitted:
            return f"as of {self.as_of}: {self.message}"
        state = "converged" if self.converged else f"not converged ({self.message})"
        return (
            f"as of {self.as_of}: {state}; {self.customers:,} customers "
            f"({self.repeaters:,} repeaters); r={self.r:.4g}, alpha={self.alpha:.4g} days, "
            f"a={self.a:.4g}, b={self.b:.4g}; p={self.p:.4g}, q={self.q:.4g}, "
            f"gamma={self.gamma:.4g}"
        )

    @property
    def fitted(self) -> bool:
        return self.r is not None

    @property
    def usable(self) -> bool:
        """The model in use is the latest usable fit: converged, or not fitted (then every
        prediction is empty). A fit that did not converge leaves the previous one in use."""
        return self.converged or not self.fitted


class CustomerPrediction(models.Model):
    """A customer's current prediction (one row per customer), made by `fit`'s model as of
    `as_of`. A customer without a purchase, or a model not fitted, leaves the figures empty
    and `reason` says why."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="prediction"
    )
    # Not indexed: nothing looks predictions up by fit, and every fit rewrites every row, so
    # an index on it would be a million entries rewritten nightly for nothing.
    fit = models.ForeignKey(
        PredictionFit, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    as_of = models.DateField()
    # The summary: repeat purchase days, days first -> last purchase day, days first -> as_of,
    # mean repeat purchase day total (empty without a repeat).
    frequency = models.PositiveIntegerField(null=True, blank=True)
    recency = models.PositiveIntegerField(null=True, blank=True)
    T = models.PositiveIntegerField(null=True, blank=True, db_column="t")
    monetary = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # The prediction.
    p_alive = models.FloatField(null=True, blank=True)
    expected_purchases_90 = models.FloatField(null=True, blank=True)
    expected_purchases_365 = models.FloatField(null=True, blank=True)
    expected_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    predicted_clv_365 = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    historical_clv = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [
            # With the customer list's tie-break (customer id), like the engagement sorts.
            models.Index(fields=["p_alive", "customer"], name="prediction_p_alive"),
            models.Index(fields=["predicted_clv_365", "customer"], name="prediction_clv"),
        ]
        # PostgreSQL also gets (predicted_clv_365 DESC NULLS LAST), made by migration 0007:
        # SQLite cannot index NULLS LAST, and Django cannot declare an index for one vendor.

    def __str__(self):
        return f"{self.customer_id}: {self.reason}"

    @property
    def value_at_stake(self):
        """predicted_clv_365 x (1 - p_alive): the predicted value the customer may not bring."""
        if self.predicted_clv_365 is None or self.p_alive is None:
            return None
        return float(self.predicted_clv_365) * (1 - self.p_alive)
