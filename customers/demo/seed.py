"""Write the demo drafts (customers.demo.archetypes) to the database in bulk.

bulk_create sends no signals: no domain event (customers.events) and no history record
fires per row, so nothing is refreshed customer by customer while loading. The caller
recomputes engagement once for the whole base afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Contact, Customer, Interaction, Product, Subscription
from customers.search import contact_search_text

from . import catalog
from .archetypes import DemoGenerator, Draft

CHUNK = 2_000  # customers generated and written per step (memory stays flat)
BATCH = 1_000  # rows per INSERT (Django lowers it to SQLite's parameter limit)
# The timestamps bulk_create would otherwise stamp with the moment of loading.
STAMPED = {Customer: ("created_at", "updated_at"), Subscription: ("created_at", "updated_at")}
# Interactions are most of the rows: one executemany of plain values, without a model
# instance per row (as customers.services does for the bulk API), at half bulk_create's cost.
INTERACTION_COLUMNS = (
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
INTERACTION_INSERT = "INSERT INTO {} ({}) VALUES ({})".format(
    Interaction._meta.db_table,
    ", ".join(Interaction._meta.get_field(c).column for c in INTERACTION_COLUMNS),
    ", ".join(["%s"] * len(INTERACTION_COLUMNS)),
)


@dataclass
class SeedResult:
    customers: int = 0
    companies: int = 0
    archived: int = 0
    contacts: int = 0
    subscriptions: int = 0
    interactions: int = 0
    seconds: float = 0.0
    by_archetype: Counter = field(default_factory=Counter)
    # The new customers' ids, with how many days ago each joined (customer_since).
    ids: list[int] = field(default_factory=list)
    joined_days_ago: list[int] = field(default_factory=list)

    def ids_joined_before(self, days: int) -> list[int]:
        """The new customers who were already customers `days` days ago."""
        return [pk for pk, ago in zip(self.ids, self.joined_days_ago, strict=True) if ago >= days]


class Clock:
    """Days ago -> dates and aware moments, in the current time zone, never after now."""

    def __init__(self):
        self.now = timezone.now()
        self.tz = timezone.get_current_timezone()
        self.today = timezone.localdate(self.now)
        self.midnight = dt.datetime.combine(self.today, dt.time.min, tzinfo=self.tz)
        self.elapsed = timezone.localtime(self.now, self.tz) - self.midnight
        self._days: dict[int, dt.date] = {}

    def day(self, ago: int) -> dt.date:
        day = self._days.get(ago)
        if day is None:
            day = self._days[ago] = self.today - dt.timedelta(days=ago)
        return day

    def moment(self, ago: int, fraction: float) -> dt.datetime:
        """A time on the local day `ago` days back: office hours, or before now if today."""
        if ago <= 0:
            return self.midnight + self.elapsed * fraction
        start = dt.datetime.combine(self.day(ago), dt.time(7), tzinfo=self.tz)
        return start + dt.timedelta(seconds=int(fraction * 13 * 3600))

    def ago(self, days: float) -> dt.datetime:
        """`days` (fractions allowed) before now."""
        if days < 1:
            return self.now - dt.timedelta(days=days)
        return self.moment(int(days), 0.3)


def demo_seed(
    *, customers: int, seed: int, owners: list, author=None, progress=None, chunk: int = CHUNK
) -> SeedResult:
    """Load `customers` demo customers (with products, contacts, subscriptions, interactions).

    Deterministic: the same seed gives the same records (dates relative to today). The owners
    are spread over `owners` (some customers have none); `author` logs the manual interactions
    of unowned customers. All or nothing (one transaction). Raises ValidationError when this
    seed's customers are already loaded. `progress(done, total)` is called after each chunk.
    """
    if customers < 1:
        raise ValidationError({"customers": "Load at least one customer."})
    prefix = f"DEMO{seed}-"
    if Customer.objects.filter(external_id__startswith=prefix).exists():
        raise ValidationError(
            f"The demo customers of seed {seed} are already loaded; choose another seed."
        )
    started = time.perf_counter()
    clock = Clock()
    generator = DemoGenerator(seed=seed, owners=len(owners))
    result = SeedResult()
    with transaction.atomic(), _given_timestamps():
        products = _products()
        for first in range(1, customers + 1, chunk):
            drafts = [generator.draft(n) for n in range(first, min(first + chunk, customers + 1))]
            _write(drafts, prefix, clock, products, owners, author, result)
            if progress:
                progress(result.customers, customers)
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def _money_adapter():
    field = Interaction._meta.get_field("amount")
    adapt = connection.ops.adapt_decimalfield_value
    return lambda value: adapt(value, field.max_digits, field.decimal_places)


def _products() -> dict[str, Product]:
    """The demo catalogue by sku, made once (an existing sku is kept as it is)."""
    Product.objects.bulk_create(
        [
            Product(sku=sku, name=name, kind=kind, price=price, is_active=active)
            for sku, name, kind, price, active in catalog.PRODUCTS
        ],
        ignore_conflicts=True,
    )
    return {p.sku: p for p in Product.objects.filter(sku__in=[p[0] for p in catalog.PRODUCTS])}


def _write(drafts: list[Draft], prefix, clock: Clock, products, owners, author, result):
    owner_ids = [user.pk for user in owners]
    author_id = author.pk if author else None
    rows = []
    for d in drafts:
        joined = clock.moment(d.since, 0.1)
        rows.append(
            Customer(
                name=d.name,
                kind=d.kind,
                email=d.email,
                phone=d.phone,
                country=d.country,
                industry=d.industry,
                owner_id=None if d.owner is None else owner_ids[d.owner],
                customer_since=clock.day(d.since),
                external_id=f"{prefix}{d.number:06d}",
                created_at=joined,
                updated_at=joined,
                archived_at=None if d.archived is None else clock.moment(d.archived, 0.5),
                # Its contacts are known already: no refresh after inserting them.
                contact_search_text=contact_search_text(c[:3] for c in d.contacts),
            )
        )
    Customer.objects.bulk_create(rows, batch_size=BATCH)
    if rows and rows[0].pk is None:  # SQLite >= 3.35 and PostgreSQL return the new ids
        raise RuntimeError("This database does not return ids from bulk inserts.")

    contacts = [
        [
            Contact(
                customer_id=customer.pk,
                first_name=first,
                last_name=last,
                email=email,
                phone=phone,
                title=title,
                is_primary=primary,
                marketing_opt_in=opt_in,
                external_id=f"{customer.external_id}-C{index}",
            )
            for index, (first, last, email, phone, title, primary, opt_in) in enumerate(
                d.contacts, 1
            )
        ]
        for d, customer in zip(drafts, rows, strict=True)
    ]
    Contact.objects.bulk_create([c for group in contacts for c in group], batch_size=BATCH)

    subscriptions = [
        Subscription(
            customer_id=customer.pk,
            product=products[s.sku],
            status=s.status,
            started_at=clock.day(s.started),
            ended_at=None if s.ended is None else clock.day(s.ended),
            amount=s.amount,
            interval=s.interval,
            external_id=f"{customer.external_id}-S{index}",
            created_at=clock.moment(s.started, 0.2),
            updated_at=clock.ago(s.changed),
        )
        for d, customer in zip(drafts, rows, strict=True)
        for index, s in enumerate(d.subscriptions, 1)
    ]
    Subscription.objects.bulk_create(subscriptions, batch_size=BATCH)

    interactions = []
    stamp = connection.ops.adapt_datetimefield_value
    money = _money_adapter()
    for d, customer, people in zip(drafts, rows, contacts, strict=True):
        owner_id = customer.owner_id or author_id
        for ago, fraction, kind, direction, amount, contact, subject, ref, manual in d.events:
            when = stamp(clock.moment(ago, fraction))
            interactions.append(
                (
                    customer.pk,
                    None if contact is None else people[contact].pk,
                    kind,
                    direction,
                    when,
                    None if amount is None else money(amount),
                    subject,
                    "",
                    ref,
                    owner_id if manual else None,
                    when,
                )
            )
    with connection.cursor() as cursor:
        cursor.executemany(INTERACTION_INSERT, interactions)

    result.customers += len(rows)
    result.companies += sum(1 for d in drafts if d.kind == Customer.Kind.COMPANY)
    result.archived += sum(1 for d in drafts if d.archived is not None)
    result.contacts += sum(len(group) for group in contacts)
    result.subscriptions += len(subscriptions)
    result.interactions += len(interactions)
    result.by_archetype.update(d.archetype for d in drafts)
    result.ids.extend(customer.pk for customer in rows)
    result.joined_days_ago.extend(d.since for d in drafts)


@contextlib.contextmanager
def _given_timestamps():
    """Let bulk_create keep the historical created_at/updated_at the demo gives its records
    (auto_now and auto_now_add would stamp them all with the moment of loading). The fields
    are restored on the way out; a management command runs alone in its process."""
    fields = [model._meta.get_field(name) for model, names in STAMPED.items() for name in names]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add
