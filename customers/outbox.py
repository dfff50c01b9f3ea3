"""The refresh outbox (ChangedCustomer): which customers changed since their last refresh.

A write that can change how a customer stands marks the customer here, in its own
transaction (customers.events.send_on_commit does it for every event it sends), so the mark
is as durable as the write: a lost task, a broker that is down or a crashed worker leaves it
in place for the next refresh or the nightly recompute. `customers` only keeps the marks;
`engagement` (engagement.workflow.runs) takes and clears them.

Locking, PostgreSQL: a refresh claims marks with FOR UPDATE SKIP LOCKED inside the
transaction that recomputes them and deletes them there, so two refreshes never take the
same customer and a crash rolls the claim back. A write that marks a customer being
refreshed waits for that refresh to commit, then marks it again (its change may not have
been seen). Writers mark in customer id order, so two bulk writes cannot deadlock. SQLite
runs one writing transaction at a time (BEGIN IMMEDIATE), which gives the same guarantees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from crm.db import IN_LIST_MAX, chunks

from .models import ChangedCustomer

_TABLE = ChangedCustomer._meta.db_table
# One statement for both databases (SQLite >= 3.24 and PostgreSQL): a new mark, or a newer
# write on a waiting one (its first write's time is kept; a full recompute's cover is lifted).
_MARK_SQL = (
    f"INSERT INTO {_TABLE} (customer_id, waiting_since, changed_at, covered_by) "
    "VALUES {values} ON CONFLICT (customer_id) DO UPDATE SET "
    "changed_at = excluded.changed_at, covered_by = NULL"
)
_MARK_ROWS = IN_LIST_MAX // 3  # three parameters a row


def customer_changes_mark(*, customer_ids: Iterable[int]) -> int:
    """Mark these customers changed (call inside the write's transaction). Answers how many."""
    ids = sorted({int(pk) for pk in customer_ids})
    if not ids:
        return 0
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for chunk in chunks(ids, _MARK_ROWS):
            values = ", ".join(["(%s, %s, %s, NULL)"] * len(chunk))
            cursor.execute(
                _MARK_SQL.format(values=values), [v for pk in chunk for v in (pk, now, now)]
            )
    return len(ids)


def customer_changes_claim(*, limit: int) -> list[int]:
    """Up to `limit` marked customer ids, locked until the caller's transaction ends; marks
    locked by another refresh are skipped. Clear them with `customer_changes_clear` in the
    same transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("claim marks inside the transaction that refreshes them")
    marks = ChangedCustomer.objects.order_by("customer_id")
    if connection.features.has_select_for_update_skip_locked:
        marks = marks.select_for_update(skip_locked=True)
    return list(marks.values_list("customer_id", flat=True)[:limit])


def customer_changes_clear(*, customer_ids: Iterable[int]) -> None:
    """Delete the marks of these (claimed) customers."""
    for chunk in chunks(sorted(customer_ids)):
        ChangedCustomer.objects.filter(customer_id__in=chunk).delete()


def customer_changes_cover(*, token: int) -> int:
    """Before a full recompute: tag every mark not being refreshed with `token`. A write after
    this lifts the tag. Answers how many marks were tagged."""
    with transaction.atomic():
        marks = ChangedCustomer.objects.all()
        if connection.features.has_select_for_update_skip_locked:
            locked = marks.select_for_update(skip_locked=True).values("customer_id")
            marks = ChangedCustomer.objects.filter(customer_id__in=locked)
        return marks.update(covered_by=token)


def customer_changes_clear_covered(*, token: int) -> int:
    """After the full recompute that tagged them: delete the marks still tagged `token` (no
    write since, so the recompute read their latest change). Answers how many."""
    with transaction.atomic():
        marks = ChangedCustomer.objects.filter(covered_by=token)
        if connection.features.has_select_for_update_skip_locked:
            locked = marks.select_for_update(skip_locked=True).values("customer_id")
            marks = ChangedCustomer.objects.filter(customer_id__in=locked, covered_by=token)
        deleted, _ = marks.delete()
        return deleted


def customer_changes_backlog() -> tuple[int, dt.datetime | None]:
    """(customers waiting for a refresh, since when the oldest waits)."""
    figures = ChangedCustomer.objects.aggregate(n=Count("pk"), oldest=Min("waiting_since"))
    return figures["n"], figures["oldest"]
