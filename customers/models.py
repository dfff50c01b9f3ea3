from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import kinds
from .search import SearchTextField


def local_today():
    return timezone.localdate()


class CustomerQuerySet(models.QuerySet):
    def unarchived(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)


class Customer(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", "Company"
        PERSON = "person", "Person"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=64, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    customer_since = models.DateField(default=local_today)
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # What the search box matches, folded (customers.search): the customer's own fields,
    # kept by every save and bulk insert, and its contacts', kept by the contact writes.
    search_text = SearchTextField(sources=("name", "email", "external_id"))
    contact_search_text = models.TextField(editable=False, blank=True, default="", db_default="")

    history = HistoricalRecords(excluded_fields=["search_text", "contact_search_text"])
    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_external_id_unique",
                violation_error_message="A customer with this external id already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "name"], name="customer_owner_name"),
            models.Index(fields=["kind"], name="customer_kind"),
            models.Index(fields=["country"], name="customer_country"),
            models.Index(fields=["industry"], name="customer_industry"),
            # The list's order (name, then id), read in order without a sort.
            models.Index(fields=["name", "id"], name="customer_name_id"),
            # Only the few archived ones: "archived_at IS NULL" (almost every row) reads the
            # list's order instead; a full index on archived_at misleads SQLite's planner.
            models.Index(
                fields=["archived_at"],
                condition=Q(archived_at__isnull=False),
                name="customer_archived",
            ),
            models.Index(fields=["customer_since"], name="customer_since"),
        ]

    def __str__(self):
        return self.name


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=100, blank=True)
    is_primary = models.BooleanField(default=False)
    marketing_opt_in = models.BooleanField(default=False)
    external_id = models.CharField(max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="contact_external_id_unique",
                violation_error_message="A contact with this external id already exists.",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
                violation_error_message="This customer already has a primary contact.",
            ),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="contact_name"),
            models.Index(fields=["email"], name="contact_email"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()


class Product(models.Model):
    class Kind(models.TextChoices):
        PRODUCT = "product", "Product"
        SERVICE = "service", "Service"

    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRODUCT)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="EUR")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0),
                name="product_price_not_negative",
                violation_error_message="Price cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class Subscription(models.Model):
    class Status(models.TextChoices):
        TRIAL = "trial", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    ENDED_STATUSES = (Status.CANCELLED, Status.EXPIRED)

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateField(default=local_today)
    ended_at = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.MONTH)
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="subscription_external_id_unique",
                violation_error_message="A subscription with this external id already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["cancelled", "expired"]) | Q(ended_at__isnull=False),
                name="subscription_ended_needs_end_date",
                violation_error_message="Cancelled and expired subscriptions need an end date.",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="subscription_ends_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="subscription_amount_not_negative",
                violation_error_message="Amount cannot be negative.",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="subscription_customer_status"),
            models.Index(fields=["status"], name="subscription_status"),
        ]

    def __str__(self):
        return f"{self.product} for {self.customer}"

    def clean(self):
        errors = {}
        if self.status in self.ENDED_STATUSES and not self.ended_at:
            errors["ended_at"] = "An end date is required when the status is cancelled or expired."
        if self.ended_at and self.started_at and self.ended_at < self.started_at:
            errors["ended_at"] = "The end date cannot be before the start date."
        if errors:
            raise ValidationError(errors)

    @property
    def monthly_amount(self) -> Decimal:
        """MRR contribution: the amount normalised to a month."""
        return self.amount / 12 if self.interval == self.Interval.YEAR else self.amount


class Interaction(models.Model):
    class Kind(models.TextChoices):
        PURCHASE = kinds.PURCHASE, "Purchase"
        REFUND = kinds.REFUND, "Refund"
        SUPPORT = kinds.SUPPORT, "Support"
        LOGIN = kinds.LOGIN, "Login"
        FEATURE_USE = kinds.FEATURE_USE, "Feature use"
        WEBINAR = kinds.WEBINAR, "Webinar"
        MEETING = kinds.MEETING, "Meeting"
        VISIT = kinds.VISIT, "Visit"
        EMAIL = kinds.EMAIL, "E-mail"
        CALL = kinds.CALL, "Call"
        CHAT = kinds.CHAT, "Chat"
        SOCIAL = kinds.SOCIAL, "Social"
        NOTE = kinds.NOTE, "Note"

    class Direction(models.TextChoices):
        INBOUND = kinds.INBOUND, "Inbound"
        OUTBOUND = kinds.OUTBOUND, "Outbound"

    MONEY_KINDS = (kinds.PURCHASE, kinds.REFUND)

    # No index of its own: interaction_customer_figures (customer, occurred_at, ...) serves every
    # lookup by customer, and each index is paid on every insert.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Blank means "not given": filled from the kind by clean() and the services.
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            # The external id first: a feed's ids mostly rise (invoice and event numbers), so a
            # batch's new keys land on the index's last pages, where (customer, external_id)
            # put every row of a batch on a page of its own. The same pairs are unique.
            models.UniqueConstraint(
                fields=["external_id", "customer"],
                condition=~Q(external_id=""),
                name="interaction_external_id_unique_per_customer",
                violation_error_message=(
                    "This customer already has an interaction with this external id."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["purchase", "refund"], amount__isnull=False) & Q(amount__gt=0)
                )
                | (~Q(kind__in=["purchase", "refund"]) & Q(amount__isnull=True)),
                name="interaction_amount_matches_kind",
                violation_error_message=(
                    "Purchases and refunds need an amount above zero; other kinds have none."
                ),
            ),
        ]
        indexes = [
            # Every column the engagement figures read, after the customer and the time: the
            # recompute's aggregates and one customer's history read this index only
            # (customers/migrations/0007_interaction_figures_index.py).
            models.Index(
                fields=["customer", "occurred_at", "kind", "direction", "amount"],
                name="interaction_customer_figures",
            ),
            models.Index(
                fields=["customer", "kind", "occurred_at"], name="interaction_customer_kind"
            ),
            models.Index(fields=["occurred_at"], name="interaction_time"),
            models.Index(fields=["kind", "occurred_at"], name="interaction_kind_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"

    CONTACT_OF_ANOTHER_CUSTOMER = "This contact does not belong to the interaction's customer."

    @classmethod
    def amount_error(cls, kind: str, amount) -> str | None:
        """What is wrong with this amount for this kind, or None (also the bulk path's rule)."""
        if kind in cls.MONEY_KINDS:
            if amount is None or amount <= 0:
                return f"A {kind} needs an amount greater than zero."
        elif amount is not None:
            return f"A {kind} has no amount; leave it empty."
        return None

    def clean(self):
        if not self.direction and self.kind:
            self.direction = kinds.default_direction(self.kind)
        errors = {}
        amount_error = self.amount_error(self.kind, self.amount)
        if amount_error:
            errors["amount"] = amount_error
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            errors["contact"] = self.CONTACT_OF_ANOTHER_CUSTOMER
        if errors:
            raise ValidationError(errors)


class ChangedCustomer(models.Model):
    """The refresh outbox: a customer whose engagement is stale since a write.

    Marked in the same transaction as the write (customers.outbox.customer_changes_mark, called
    by customers.events.send_on_commit), so a mark exists exactly when the write committed,
    whatever happens to the task that should refresh it. `engagement` drains the marks (one
    refresh at a time takes every mark and clears it in its own transaction). A plain id, not
    a foreign key: marking must not lock or check the customer row under load, and the mark of
    a customer deleted meanwhile refreshes nothing.
    """

    customer_id = models.BigIntegerField(primary_key=True)
    # Since when it waits: the first write not yet refreshed (the admin's backlog line).
    waiting_since = models.DateTimeField()
    # The latest write: a full recompute clears only the marks it saw, unchanged since.
    changed_at = models.DateTimeField()
    # A full recompute's token while it covers this mark; a new write resets it (see outbox).
    covered_by = models.BigIntegerField(null=True, blank=True)

    def __str__(self):
        return f"customer {self.customer_id} changed at {self.changed_at:%Y-%m-%d %H:%M:%S}"
