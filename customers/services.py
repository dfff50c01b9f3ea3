"""Writes to customers, contacts, products, subscriptions and interactions.

Every service is keyword-only and atomic, validates with `full_clean()` and raises
`ValidationError` whose keys name the offending field. Permissions are not checked
here: the faces (admin, API, commands) ask `crm.permissions` before calling.
Writes that change how a customer stands send a domain event after commit
(`customers.events`).
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone

from crm.db import IN_LIST_MAX, chunks
from crm.permissions import is_sales_rep

from . import events, kinds
from .models import Contact, Customer, Interaction, Product, Subscription
from .search import contact_search_text_refresh

# Fields a service may set. Timestamps, archive state and ids are managed here only.
_MANAGED = {"id", "created_at", "updated_at", "archived_at", "created_by"}


class BulkValidationError(ValidationError):
    """Invalid rows of a bulk write: `row_errors` is {row_index: {field: [messages]}}.

    `message_dict` answers the same nested mapping, so a face can return it as is.
    """

    def __init__(self, row_errors: dict[int, dict[str, list[str]]]):
        self.row_errors = row_errors
        super().__init__(
            {
                index: [f"{field}: {msg}" for field, msgs in fields.items() for msg in msgs]
                for index, fields in row_errors.items()
            }
        )

    @property
    def message_dict(self):
        return self.row_errors


def _settable_fields(model) -> dict[str, models.Field]:
    """Map each name a caller may pass (`owner` or `owner_id`) to its field."""
    names = {}
    for field in model._meta.concrete_fields:
        if field.name in _MANAGED or not field.editable:
            continue
        names[field.name] = field
        names[field.attname] = field
    return names


def _assign(instance: models.Model, fields: Mapping[str, Any]) -> None:
    allowed = _settable_fields(type(instance))
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    for name, value in fields.items():
        if isinstance(allowed[name], models.DateTimeField):
            value = _aware(value)
        setattr(instance, name, value)


def _aware(value):
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


# The field each database constraint is about, so its error names that field.
_CONSTRAINT_FIELDS = {
    "customer_external_id_unique": "external_id",
    "contact_external_id_unique": "external_id",
    "contact_one_primary_per_customer": "is_primary",
    "product_price_not_negative": "price",
    "subscription_external_id_unique": "external_id",
    "subscription_ended_needs_end_date": "ended_at",
    "subscription_ends_after_start": "ended_at",
    "subscription_amount_not_negative": "amount",
    "interaction_external_id_unique_per_customer": "external_id",
    "interaction_amount_matches_kind": "amount",
}


def _constraint_field(model, message: str) -> str | None:
    for constraint in model._meta.constraints:
        if str(constraint.get_violation_error_message()) == message:
            return _CONSTRAINT_FIELDS.get(constraint.name)
    return None


def _full_clean(instance: models.Model, exclude: Iterable[str] | None = None) -> None:
    """full_clean(), with constraint errors moved from __all__ to the field they concern."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        errors = exc.update_error_dict({})
        for error in errors.pop(NON_FIELD_ERRORS, []):
            message = error.message % error.params if error.params else error.message
            field = _constraint_field(type(instance), str(message)) or NON_FIELD_ERRORS
            errors.setdefault(field, []).append(error)
        raise ValidationError(errors) from None


def _save(instance: models.Model, user=None) -> None:
    if user is not None:
        # django-simple-history records who made the change.
        instance._history_user = user
    _full_clean(instance)
    instance.save()


# Customers ---------------------------------------------------------------------------------


@transaction.atomic
def customer_create(*, user=None, **fields) -> Customer:
    """Create a customer. A sales rep creating one becomes its owner when none is given."""
    if fields.get("owner") is None and fields.get("owner_id") is None and is_sales_rep(user):
        fields.pop("owner_id", None)
        fields["owner"] = user
    customer = Customer()
    _assign(customer, fields)
    _save(customer, user)
    events.send_on_commit(events.customers_changed, Customer, customer_ids=[customer.pk])
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, user=None, **fields) -> Customer:
    _assign(customer, fields)
    _save(customer, user)
    events.send_on_commit(events.customers_changed, Customer, customer_ids=[customer.pk])
    return customer


@transaction.atomic
def customer_archive(*, customer: Customer, user=None) -> Customer:
    """Archive (the only way a customer is deleted). Archiving twice keeps the first date."""
    if customer.archived_at is None:
        customer.archived_at = timezone.now()
        if user is not None:
            customer._history_user = user
        customer.save(update_fields=["archived_at", "updated_at"])
        events.send_on_commit(events.customers_changed, Customer, customer_ids=[customer.pk])
    return customer


@transaction.atomic
def customer_restore(*, customer: Customer, user=None) -> Customer:
    if customer.archived_at is not None:
        customer.archived_at = None
        if user is not None:
            customer._history_user = user
        customer.save(update_fields=["archived_at", "updated_at"])
        events.send_on_commit(events.customers_changed, Customer, customer_ids=[customer.pk])
    return customer


# Contacts ----------------------------------------------------------------------------------


# A customer is found by its contacts' names and e-mails (customers.search): every contact
# write refreshes the customers it touched.


@transaction.atomic
def contact_create(*, customer: Customer, user=None, **fields) -> Contact:
    contact = Contact(customer=customer)
    _assign(contact, fields)
    _save(contact, user)
    contact_search_text_refresh(customer_ids=[contact.customer_id])
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, user=None, **fields) -> Contact:
    previous_customer_id = contact.customer_id
    _assign(contact, fields)
    _save(contact, user)
    contact_search_text_refresh(customer_ids=[previous_customer_id, contact.customer_id])
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    customer_id = contact.customer_id
    contact.delete()
    contact_search_text_refresh(customer_ids=[customer_id])


# Products ----------------------------------------------------------------------------------


@transaction.atomic
def product_create(*, user=None, **fields) -> Product:
    product = Product()
    _assign(product, fields)
    _save(product)
    return product


@transaction.atomic
def product_update(*, product: Product, user=None, **fields) -> Product:
    _assign(product, fields)
    _save(product)
    return product


# Subscriptions -----------------------------------------------------------------------------


def _subscriptions_changed(subscription: Subscription, previous_status: str | None) -> None:
    became_cancelled = (
        subscription.status == Subscription.Status.CANCELLED
        and previous_status != Subscription.Status.CANCELLED
    )
    events.send_on_commit(
        events.subscriptions_changed,
        Subscription,
        customer_ids=[subscription.customer_id],
        cancelled_customer_ids=[subscription.customer_id] if became_cancelled else [],
    )


@transaction.atomic
def subscription_create(*, customer: Customer, user=None, **fields) -> Subscription:
    """Create a subscription; one created as `cancelled` counts as a cancellation."""
    subscription = Subscription(customer=customer)
    _assign(subscription, fields)
    _save(subscription, user)
    _subscriptions_changed(subscription, previous_status=None)
    return subscription


@transaction.atomic
def subscription_update(*, subscription: Subscription, user=None, **fields) -> Subscription:
    previous = (
        Subscription.objects.filter(pk=subscription.pk).values_list("status", flat=True).first()
    )
    _assign(subscription, fields)
    _save(subscription, user)
    _subscriptions_changed(subscription, previous_status=previous)
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription) -> None:
    customer_id = subscription.customer_id
    subscription.delete()
    events.send_on_commit(
        events.subscriptions_changed,
        Subscription,
        customer_ids=[customer_id],
        cancelled_customer_ids=[],
    )


# Interactions ------------------------------------------------------------------------------


@transaction.atomic
def interaction_record(*, customer: Customer, user=None, **fields) -> Interaction:
    """Record one interaction. A repeated external_id for the customer is refused on that field.

    Direction defaults from the kind (customers.kinds); created_by is the user unless given.
    """
    created_by = fields.pop("created_by", user)
    interaction = Interaction(customer=customer, created_by=created_by)
    _assign(interaction, fields)
    if not interaction.direction and interaction.kind:
        interaction.direction = kinds.default_direction(interaction.kind)
    _save(interaction)
    events.send_on_commit(events.interactions_recorded, Interaction, customer_ids=[customer.pk])
    return interaction


@transaction.atomic
def interaction_update(*, interaction: Interaction, user=None, **fields) -> Interaction:
    previous_customer_id = interaction.customer_id
    _assign(interaction, fields)
    if not interaction.direction and interaction.kind:
        interaction.direction = kinds.default_direction(interaction.kind)
    _save(interaction)
    events.send_on_commit(
        events.interactions_recorded,
        Interaction,
        customer_ids=[previous_customer_id, interaction.customer_id],
    )
    return interaction


@transaction.atomic
def interaction_delete(*, interaction: Interaction) -> None:
    customer_id = interaction.customer_id
    interaction.delete()
    events.send_on_commit(events.interactions_recorded, Interaction, customer_ids=[customer_id])


_BULK_FIELDS = frozenset(
    {
        "customer",
        "customer_id",
        "contact",
        "contact_id",
        "kind",
        "direction",
        "occurred_at",
        "amount",
        "subject",
        "notes",
        "external_id",
    }
)
# Text columns store "" for "not given", whatever the caller sends.
_BLANK_TEXT = frozenset({"subject", "notes", "external_id", "direction"})
# Checked set-based for the whole batch, not by Field.clean() (one query per row).
_BULK_RELATIONS = ("customer", "contact", "created_by")


def _pk_of(value):
    """A related record given as an instance or a primary key (int or digit string)."""
    if value is None or value == "":
        return None
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, bool):
        raise ValueError
    return int(value)


def _stored_external_ids(pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (customer_id, external_id) pairs among `pairs` that are already stored.

    The pairs are joined as a VALUES list against the per-customer unique index: one
    index probe per pair. (The ORM can only say customer IN (...) AND external_id IN
    (...), which probes every combination.) `NOT (external_id = '')` repeats the
    partial index's condition so that the database uses it.
    """
    connection = connections[router.db_for_read(Interaction)]
    quote = connection.ops.quote_name
    table = quote(Interaction._meta.db_table)
    customer = quote(Interaction._meta.get_field("customer").column)
    external_id = quote(Interaction._meta.get_field("external_id").column)
    found = set()
    ordered = sorted(pairs)
    for chunk in chunks(ordered, IN_LIST_MAX // 2):
        values = ", ".join(["(%s, %s)"] * len(chunk))
        sql = (
            f"SELECT i.{customer}, i.{external_id} FROM (VALUES {values}) AS v "
            f"JOIN {table} AS i ON i.{customer} = v.column1 AND i.{external_id} = v.column2 "
            f"WHERE NOT (i.{external_id} = '')"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for pair in chunk for value in pair])
            found.update((int(c), e) for c, e in cursor.fetchall())
    return found


def _insert_interactions(interactions: list[Interaction]) -> None:
    """INSERT validated interactions with one executemany.

    Same columns and value conversion as bulk_create (every concrete field through
    get_db_prep_save), at half its cost: on SQLite bulk_create compiles a statement per
    ~90 rows, and the bulk path needs no primary keys back. No signals are sent, as
    with bulk_create.
    """
    if not interactions:
        return
    connection = connections[router.db_for_write(Interaction)]
    fields = [f for f in Interaction._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(Interaction._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    created_at = timezone.now()  # what auto_now_add would set
    rows = []
    for interaction in interactions:
        interaction.created_at = created_at
        rows.append(
            [f.get_db_prep_save(getattr(interaction, f.attname), connection) for f in fields]
        )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def interactions_bulk_record(*, rows: list[dict], user=None) -> tuple[int, int]:
    """Record many interactions at once; answer (created, duplicates).

    All or nothing: every row is validated first and any invalid row raises one
    BulkValidationError ({row_index: {field: [messages]}}) with nothing written.
    A row whose external_id the customer already has (stored, or earlier in the same
    batch) is a duplicate: counted, never written twice. Customers and contacts are
    checked with a few queries per batch, so a 1,000-row batch costs a handful of queries.
    """
    errors: dict[int, dict[str, list[str]]] = {}
    parsed: list[tuple[int, dict, int | None, int | None]] = []

    def fail(index, field, message):
        errors.setdefault(index, {}).setdefault(field, []).append(str(message))

    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            fail(index, NON_FIELD_ERRORS, "Each row must be an object.")
            continue
        for name in sorted(set(row) - _BULK_FIELDS):
            fail(index, name, "Unknown field.")
        values = {k: v for k, v in row.items() if k in _BULK_FIELDS}
        ids = {}
        for relation in ("customer", "contact"):
            raw = values.pop(relation, values.pop(f"{relation}_id", None))
            try:
                ids[relation] = _pk_of(raw)
            except (TypeError, ValueError):
                fail(index, relation, f"Expected a {relation} id.")
                ids[relation] = None
        if ids["customer"] is None and "customer" not in errors.get(index, {}):
            fail(index, "customer", "This field is required.")
        parsed.append((index, values, ids["customer"], ids["contact"]))

    customer_ids = {c for _, _, c, _ in parsed if c is not None}
    known_customers = set()
    for chunk in chunks(customer_ids):
        known_customers.update(Customer.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    contact_ids = {c for _, _, _, c in parsed if c is not None}
    contact_owner = {}
    for chunk in chunks(contact_ids):
        contact_owner.update(Contact.objects.filter(pk__in=chunk).values_list("pk", "customer_id"))
    # Stand-ins let Interaction.clean() check the contact's customer without a query.
    contact_stubs = {pk: Contact(pk=pk, customer_id=cid) for pk, cid in contact_owner.items()}

    interactions: list[tuple[int, Interaction]] = []
    for index, values, customer_id, contact_id in parsed:
        if customer_id is not None and customer_id not in known_customers:
            fail(index, "customer", f"Customer {customer_id} does not exist.")
            customer_id = None
        if contact_id is not None and contact_id not in contact_owner:
            fail(index, "contact", f"Contact {contact_id} does not exist.")
            contact_id = None
        interaction = Interaction(customer_id=customer_id, created_by=user)
        if contact_id is not None:
            interaction.contact = contact_stubs[contact_id]
        for name, value in values.items():
            if name == "occurred_at":
                value = _aware(value)
            setattr(interaction, name, "" if value is None and name in _BLANK_TEXT else value)
        try:
            interaction.clean_fields(exclude=_BULK_RELATIONS)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    fail(index, field, message)
        # A time without an offset ("2024-03-01T10:00") is in the project's time zone.
        interaction.occurred_at = _aware(interaction.occurred_at)
        if not interaction.direction and interaction.kind:
            interaction.direction = kinds.default_direction(interaction.kind)
        if interaction.customer_id is not None:
            try:
                # The model's own cross-field rules (amount per kind, contact's customer).
                interaction.clean()
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        fail(index, field, message)
        interactions.append((index, interaction))

    if errors:
        raise BulkValidationError(dict(sorted(errors.items())))

    valid = [interaction for _, interaction in interactions]
    try:
        return _write_new(valid)
    except IntegrityError:
        # A concurrent batch stored one of these keys between our lookup and our insert
        # (PostgreSQL; SQLite serialises writers). Once more: now it counts as duplicate.
        return _write_new(valid)


@transaction.atomic
def _write_new(interactions: list[Interaction]) -> tuple[int, int]:
    """Insert the interactions whose (customer, external_id) is not stored yet."""
    seen = _stored_external_ids(
        {(i.customer_id, i.external_id) for i in interactions if i.external_id}
    )
    to_create = []
    duplicates = 0
    for interaction in interactions:
        if interaction.external_id:
            key = (interaction.customer_id, interaction.external_id)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
        to_create.append(interaction)
    _insert_interactions(to_create)
    if to_create:
        events.send_on_commit(
            events.interactions_recorded,
            Interaction,
            customer_ids={i.customer_id for i in to_create},
        )
    return len(to_create), duplicates
