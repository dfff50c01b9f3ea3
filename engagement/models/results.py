from django.db import models


class Status(models.TextChoices):
    NEW = "new", "New"
    ACTIVE = "active", "Active"
    PASSIVE = "passive", "Passive"
    AT_RISK = "at_risk", "At risk"
    INACTIVE = "inactive", "Inactive"
    CHURNED = "churned", "Churned"


# Past active and paying nothing: the statuses a customer is reactivated from.
LAPSED_STATUSES = (Status.AT_RISK, Status.INACTIVE, Status.CHURNED)


class CustomerType(models.TextChoices):
    RECENT_BUYER = "recent_buyer", "Recent buyer"
    LOYAL = "loyal", "Loyal"
    SUPPORT = "support", "Support-heavy"
    PRODUCT_SUBSCRIBER = "product_subscriber", "Product subscriber"
    SERVICE_SUBSCRIBER = "service_subscriber", "Service subscriber"
    CONTACT = "contact", "Engaged contact"


def _rule_set_field():
    """The rule-set version a stored row was computed with.

    Versions are never edited or deleted (a change is a new version; deleting one is refused
    by the admin, the API and PROTECT), so no database constraint or index stands behind
    this column: the constraint was one row-by-row lookup per written row, and the index one
    entry per row on a column holding a few values that nothing filters by selectively;
    together 15-20% of a first recompute on PostgreSQL (migration 0014).
    """
    return models.ForeignKey(
        "engagement.RuleSet",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )


class EngagementResult(models.Model):
    """The current stored classification of one customer, with the figures behind it.

    Types are boolean columns (one per CustomerType) so lists filter on them by index.
    Reasons are not stored: they are derived from these figures and the rule set.
    """

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="engagement"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    reactivated = models.BooleanField(default=False)
    type_recent_buyer = models.BooleanField(default=False)
    type_loyal = models.BooleanField(default=False)
    type_support = models.BooleanField(default=False)
    type_product_subscriber = models.BooleanField(default=False)
    type_service_subscriber = models.BooleanField(default=False)
    type_contact = models.BooleanField(default=False)
    score = models.PositiveSmallIntegerField(default=0)
    r_score = models.PositiveSmallIntegerField(default=1)
    f_score = models.PositiveSmallIntegerField(default=1)
    m_score = models.PositiveSmallIntegerField(default=1)

    # The figures, as of `as_of`.
    last_activity_on = models.DateField(null=True, blank=True)
    days_since_activity = models.IntegerField(null=True, blank=True)
    prev_activity_on = models.DateField(null=True, blank=True)
    first_window_activity_on = models.DateField(null=True, blank=True)
    last_purchase_on = models.DateField(null=True, blank=True)
    first_purchase_on = models.DateField(null=True, blank=True)
    loyal_purchases = models.PositiveIntegerField(default=0)
    support_interactions = models.PositiveIntegerField(default=0)
    contact_interactions = models.PositiveIntegerField(default=0)
    activity_365 = models.PositiveIntegerField(default=0)
    channels_90 = models.PositiveSmallIntegerField(default=0)
    revenue_365 = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    live_product_subscriptions = models.PositiveIntegerField(default=0)
    live_service_subscriptions = models.PositiveIntegerField(default=0)
    oldest_live_subscription_on = models.DateField(null=True, blank=True)
    mrr = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    rule_set = _rule_set_field()
    as_of = models.DateField()
    computed_at = models.DateTimeField()

    TYPE_FIELDS = {t.value: f"type_{t.value}" for t in CustomerType}

    class Meta:
        indexes = [
            # Status, reactivated and type filters read customer ids from these indexes
            # alone (the customer list joins them in its order), not from the rows.
            models.Index(fields=["status", "customer"], name="engagement_status"),
            # Sorts of the customer list, with its tie-break (customer id, descending): a
            # page is read from the index in order, without sorting the tied rows.
            models.Index(fields=["-score", "-customer"], name="engagement_score"),
            models.Index(fields=["last_activity_on", "customer"], name="engagement_last_activity"),
            models.Index(
                fields=["status", "customer"],
                condition=models.Q(reactivated=True),
                name="engagement_reactivated",
            ),
        ] + [
            models.Index(
                fields=["status", "customer"],
                condition=models.Q(**{f: True}),
                name=f"eng_{f.removeprefix('type_')[:20]}",
            )
            for f in (
                "type_recent_buyer",
                "type_loyal",
                "type_support",
                "type_product_subscriber",
                "type_service_subscriber",
                "type_contact",
            )
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.status}"

    @property
    def types(self) -> list[str]:
        return [code for code, field in self.TYPE_FIELDS.items() if getattr(self, field)]


class StatusHistory(models.Model):
    """Appended by a recompute whenever a customer's status changes."""

    # Looked up by customer through status_history_customer (customer, as_of): no index of
    # its own (migration 0012).
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="status_history",
        db_index=False,
    )
    from_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    as_of = models.DateField()
    changed_at = models.DateTimeField()
    rule_set = _rule_set_field()

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name_plural = "status history"
        indexes = [
            models.Index(fields=["customer", "as_of"], name="status_history_customer"),
            models.Index(fields=["as_of", "to_status"], name="status_history_day"),
            models.Index(fields=["changed_at"], name="status_history_changed_at"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.from_status or '-'} -> {self.to_status} on {self.as_of}"


class TypeChange(models.Model):
    """Appended by a recompute whenever a customer gains or loses a type."""

    # Looked up by customer through type_change_customer (customer, as_of).
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="type_changes",
        db_index=False,
    )
    customer_type = models.CharField(max_length=20, choices=CustomerType.choices)
    gained = models.BooleanField()
    as_of = models.DateField()
    changed_at = models.DateTimeField()
    rule_set = _rule_set_field()

    class Meta:
        ordering = ["-as_of", "-id"]
        indexes = [
            models.Index(fields=["customer", "as_of"], name="type_change_customer"),
            models.Index(fields=["as_of", "customer_type"], name="type_change_day"),
            models.Index(fields=["changed_at"], name="type_change_changed_at"),
        ]

    def __str__(self):
        sign = "+" if self.gained else "-"
        return f"{self.customer_id}: {sign}{self.customer_type} on {self.as_of}"
