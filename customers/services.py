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
from django.utils.dateparse import parse_datetime

from crm import db
from crm.db import chunks, params_max
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
# What the bulk INSERT writes, in order: every concrete column but the id (a test holds this
# equal to the model's fields, so a new column cannot be left out silently).
_BULK_COLUMNS = (
    "customer_id",
    "contact_id",
    "kind",
    "direction",
    "occurred_at",
    "amount",
    "subject",
    "notes",
    "external_id",
    "created_by_id",
    "created_at",
)
_CUSTOMER, _EXTERNAL_ID = _BULK_COLUMNS.index("customer_id"), _BULK_COLUMNS.index("external_id")
# Text values, checked by their model field; "" (or null) is "not given".
_BULK_TEXT = ("kind", "direction", "subject", "notes", "external_id")
_BULK_CHOICES = {
    "kind": frozenset(Interaction.Kind.values),
    "direction": frozenset(Interaction.Direction.values),
}


def _pk_of(value):
    """A related record given as an instance or a primary key (int or digit string)."""
    if value is None or value == "":
        return None
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, bool):
        raise ValueError
    pk = int(value)
    if not -(2**63) <= pk < 2**63:
        raise ValueError  # no database integer holds it
    return pk


def _bulk_text(field: models.Field, value):
    """A text value as full_clean() would take it. The usual value (text within max_length,
    a known choice) passes a plain check; any other goes through Field.clean(), whose
    ValidationError is the row's message."""
    if type(value) is str:
        choices = _BULK_CHOICES.get(field.name)
        if choices is not None:
            if value in choices or (value == "" and field.blank):
                return value
        elif (field.max_length is None or len(value) <= field.max_length) and (
            value or field.blank
        ):
            return value
    if value is None and field.blank:
        return ""  # the column stores "" for "not given"
    return field.clean(value, None)


def _bulk_time(field: models.DateTimeField, value) -> dt.datetime:
    """An ISO 8601 timestamp; one without an offset is in the project's time zone."""
    parsed = None
    if type(value) is str:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        parsed = field.clean(value, None)  # anything else, and the invalid value's message
    return _aware(parsed)


def _bulk_amount(field: models.DecimalField, value):
    if value is None or value == "":
        return None
    return field.clean(value, None)  # a Decimal within max_digits and decimal_places


def _existing_ids(model, ids: set[int], **values_of) -> dict:
    """{pk: row} of the ids that exist (a row is the tuple of `values_of`), in one query for
    any batch the API accepts."""
    connection = connections[router.db_for_read(model)]
    found = {}
    for chunk in chunks(sorted(ids), params_max(connection)):
        for pk, *rest in model.objects.filter(pk__in=chunk).values_list("pk", *values_of):
            found[pk] = tuple(rest)
    return found


def _stored_external_ids(pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (customer_id, external_id) pairs among `pairs` that are already stored.

    One query for a whole batch: the pairs are joined as a VALUES list against the
    per-customer unique index, one index probe per pair. (The ORM can only say customer
    IN (...) AND external_id IN (...), which probes every combination.) `NOT (external_id =
    '')` repeats the partial index's condition so that the database uses it.
    """
    connection = connections[router.db_for_read(Interaction)]
    quote = connection.ops.quote_name
    table = quote(Interaction._meta.db_table)
    customer = quote(Interaction._meta.get_field("customer").column)
    external_id = quote(Interaction._meta.get_field("external_id").column)
    found = set()
    for chunk in chunks(sorted(pairs), params_max(connection) // 2):
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


def _insert_interactions(records: list[tuple]) -> None:
    """INSERT rows of _BULK_COLUMNS (values already as the database takes them) with one
    executemany. No model instances and no signals, as with bulk_create."""
    if not records:
        return
    connection = connections[router.db_for_write(Interaction)]
    quote = connection.ops.quote_name
    column_of = {f.attname: f.column for f in Interaction._meta.concrete_fields}
    columns = [column_of[name] for name in _BULK_COLUMNS]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(Interaction._meta.db_table),
        ", ".join(quote(column) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, records)


def interactions_bulk_record(*, rows: list[dict], user=None) -> tuple[int, int]:
    """Record many interactions at once; answer (created, duplicates).

    All or nothing: every row is validated first and any invalid row raises one
    BulkValidationError ({row_index: {field: [messages]}}) with nothing written.
    A row whose external_id the customer already has (stored, or earlier in the same
    batch) is a duplicate: counted, never written twice.

    Validation is per batch, not per row: each value is checked by its model field's rules
    (a plain check for the usual value, Field.clean() for the rest), the cross-field rules
    are the model's (Interaction.amount_error, the contact's customer), and customers,
    contacts and stored external ids are each looked up once for the whole batch. The rows
    are written with one executemany and their customers marked in the refresh outbox with
    one upsert: a 1,000-row batch is a constant handful of queries. Interactions keep no
    history (simple-history is on customers, contacts and subscriptions), as before.
    """
    errors: dict[int, dict[str, list[str]]] = {}

    def fail(index, field, message):
        errors.setdefault(index, {}).setdefault(field, []).append(str(message))

    def fail_all(index, field, exc: ValidationError):
        for message in exc.messages:
            fail(index, field, message)

    fields = {f.name: f for f in Interaction._meta.concrete_fields}
    now = timezone.now()  # occurred_at's default, and created_at (auto_now_add)
    # (index, customer_id, contact_id, values) of every row, valid or not (values None), so
    # that the lookups below check the whole batch together.
    parsed = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            fail(index, NON_FIELD_ERRORS, "Each row must be an object.")
            continue
        unknown = row.keys() - _BULK_FIELDS
        for name in sorted(unknown):
            fail(index, name, "Unknown field.")
        ids = []
        for relation in ("customer", "contact"):
            raw = row.get(relation, row.get(f"{relation}_id"))
            try:
                ids.append(_pk_of(raw))
            except (TypeError, ValueError):
                fail(index, relation, f"Expected a {relation} id.")
                ids.append(None)
        if ids[0] is None and "customer" not in errors.get(index, {}):
            fail(index, "customer", "This field is required.")
        text = {}
        for name in _BULK_TEXT:
            try:
                text[name] = _bulk_text(fields[name], row.get(name, ""))
            except ValidationError as exc:
                fail_all(index, name, exc)
                text[name] = None
        try:
            occurred_at = (
                _bulk_time(fields["occurred_at"], row["occurred_at"])
                if "occurred_at" in row
                else now
            )
        except ValidationError as exc:
            fail_all(index, "occurred_at", exc)
        amount = False  # invalid
        try:
            amount = _bulk_amount(fields["amount"], row.get("amount"))
        except ValidationError as exc:
            fail_all(index, "amount", exc)
        kind = text["kind"]
        if kind is not None and amount is not False:
            amount_error = Interaction.amount_error(kind, amount)
            if amount_error:
                fail(index, "amount", amount_error)
        if index in errors:
            parsed.append((index, ids[0], ids[1], None))
            continue
        direction = text["direction"] or kinds.default_direction(kind)
        parsed.append(
            (
                index,
                ids[0],
                ids[1],
                (
                    kind,
                    direction,
                    occurred_at,
                    amount,
                    text["subject"],
                    text["notes"],
                    text["external_id"],
                ),
            )
        )

    known_customers = _existing_ids(Customer, {p[1] for p in parsed if p[1] is not None})
    contact_customer = _existing_ids(
        Contact, {p[2] for p in parsed if p[2] is not None}, customer="customer_id"
    )
    for index, customer_id, contact_id, *_ in parsed:
        if customer_id is not None and customer_id not in known_customers:
            fail(index, "customer", f"Customer {customer_id} does not exist.")
        if contact_id is not None:
            if contact_id not in contact_customer:
                fail(index, "contact", f"Contact {contact_id} does not exist.")
            elif customer_id in known_customers and contact_customer[contact_id][0] != customer_id:
                fail(index, "contact", Interaction.CONTACT_OF_ANOTHER_CUSTOMER)
    if errors:
        raise BulkValidationError(dict(sorted(errors.items())))

    connection = connections[router.db_for_write(Interaction)]
    adapt_time = connection.ops.adapt_datetimefield_value
    amount_field = fields["amount"]
    created_at = adapt_time(now)
    created_by = user.pk if user is not None else None
    records = []
    for _, customer_id, contact_id, values in parsed:
        kind, direction, occurred_at, amount, subject, notes, external_id = values
        if amount is not None:
            amount = amount_field.get_db_prep_save(amount, connection)
        records.append(
            (
                customer_id,
                contact_id,
                kind,
                direction,
                adapt_time(occurred_at),
                amount,
                subject,
                notes,
                external_id,
                created_by,
                created_at,
            )
        )
    try:
        return _write_new(records)
    except IntegrityError:
        # A concurrent batch stored one of these keys between our lookup and our insert
        # (PostgreSQL; SQLite serialises writers). Once more: now it counts as duplicate.
        return _write_new(records)


@transaction.atomic
def _write_new(records: list[tuple]) -> tuple[int, int]:
    """Insert the rows whose (customer, external_id) is not stored yet; mark their customers."""
    seen = _stored_external_ids(
        {(r[_CUSTOMER], r[_EXTERNAL_ID]) for r in records if r[_EXTERNAL_ID]}
    )
    to_create = []
    duplicates = 0
    for record in records:
        if record[_EXTERNAL_ID]:
            key = (record[_CUSTOMER], record[_EXTERNAL_ID])
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
        to_create.append(record)
    # In customer order: the customer-led indexes then take the batch in key order, each page
    # visited once while it is in the cache (ids follow; the order of a batch carries nothing).
    to_create.sort(key=lambda record: record[_CUSTOMER])
    _insert_interactions(to_create)
    if to_create:
        events.send_on_commit(
            events.interactions_recorded,
            Interaction,
            customer_ids={r[_CUSTOMER] for r in to_create},
        )
        # Many batches in a row: fresh planner statistics before the next heavy read.
        written = len(to_create)
        transaction.on_commit(
            lambda: db.analyze_if_stale(Interaction, pending=written), robust=True
        )
    return len(to_create), duplicates
