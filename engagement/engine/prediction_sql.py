"""The per-customer purchase summary of the prediction models as one set-based query.

`purchase_summary(as_of)` returns the same `Summary` as
`engagement.engine.prediction.summarize_purchases` does from (customer, local date, amount)
rows; tests/engagement/engine/test_prediction_sql.py holds the two against each other.
`net_revenue` (historical CLV) and `current_customer_ids` are the other two reads of a fit.

Purchase days are local dates in the current time zone (the site's TIME_ZONE unless one is
activated). Unlike the engagement figures, which only compare timestamps with window starts,
this needs the local date of every purchase (to count distinct days), so the SQL converts:
Django's own `datetime_cast_date_sql` (what TruncDate uses) gives `AT TIME ZONE` on
PostgreSQL and Django's registered function on SQLite, correct across DST on both. Only the
upper bound, "before local D + 1", is an index-friendly timestamp comparison.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection
from django.utils import timezone

from customers.models import Customer, Interaction
from engagement.engine.prediction import Summary

INTERACTIONS = Interaction._meta.db_table
CUSTOMERS = Customer._meta.db_table
FETCH = 20_000  # rows per fetch: a million customers never sit in memory as Python tuples
ID_CHUNK = 500  # customer ids per query when a subset is asked for
EPOCH = dt.date(1970, 1, 1)


def _local_day_sql() -> tuple[str, tuple]:
    tzname = timezone.get_current_timezone_name()
    if connection.vendor == "sqlite" and tzname in ("UTC", "Etc/UTC"):
        # SQLite keeps UTC text; its first ten characters are the date (no Python call per row).
        return "substr(i.occurred_at, 1, 10)", ()
    return connection.ops.datetime_cast_date_sql("i.occurred_at", (), tzname)


def _epoch_days(date_sql: str) -> str:
    """Days since 1970-01-01 of a date (PostgreSQL) or ISO date text (SQLite), as an integer:
    plain integers cross the wire and fill numpy arrays several times faster than dates."""
    if connection.vendor == "postgresql":
        return f"({date_sql} - DATE '1970-01-01')"
    return f"CAST(julianday({date_sql}) - 2440587.5 AS INTEGER)"


def purchase_summary_sql(id_count: int = 0) -> tuple[str, tuple]:
    """The query and its time-zone parameters; the caller appends the bound, then any ids.

    Per (customer, local day): the day's total in cents (summed in integers so SQLite's floats
    cannot round it); per customer: purchase days - 1, the first and last day, and the total
    of every day but the first. Archived customers are few: leaving them out through a small
    hashed list spares joining every purchase to its customer.
    """
    day, day_params = _local_day_sql()
    ids = f" AND i.customer_id IN ({', '.join(['%s'] * id_count)})" if id_count else ""
    sql = f"""
        WITH days AS (
          SELECT i.customer_id AS customer_id, {day} AS day, SUM(ROUND(i.amount * 100)) AS cents
          FROM {INTERACTIONS} i
          WHERE i.kind = 'purchase' AND i.occurred_at < %s{ids}
            AND i.customer_id NOT IN (
              SELECT c.id FROM {CUSTOMERS} c WHERE c.archived_at IS NOT NULL)
          GROUP BY 1, 2
        ), ranked AS (
          SELECT customer_id, day, cents, MIN(day) OVER (PARTITION BY customer_id) AS first_day
          FROM days
        )
        SELECT customer_id, COUNT(*) - 1, {_epoch_days("MIN(day)")}, {_epoch_days("MAX(day)")},
          CAST(SUM(CASE WHEN day > first_day THEN cents ELSE 0 END) AS BIGINT)
        FROM ranked
        GROUP BY customer_id
        ORDER BY customer_id
    """
    return sql, day_params


def purchase_summary(as_of: dt.date, customer_ids=None) -> Summary:
    """Every non-archived customer's (or those of `customer_ids`) purchase summary as of D."""
    bound = _end_bound(as_of)
    if customer_ids is None:
        sql, params = purchase_summary_sql()
        chunks = [_fetch(sql, (*params, bound))]
    else:
        ids = sorted({int(pk) for pk in customer_ids})
        chunks = []
        for start in range(0, len(ids), ID_CHUNK):
            batch = ids[start : start + ID_CHUNK]
            sql, params = purchase_summary_sql(len(batch))
            chunks.append(_fetch(sql, (*params, bound, *batch)))
    pk, x, first, last, repeat_cents = (
        np.concatenate(column) for column in zip(*chunks, strict=True)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, repeat_cents / 100 / np.maximum(x, 1), 0.0)
    return Summary.from_arrays(
        customer_ids=pk,
        frequency=x,
        recency=last - first,
        T=(as_of - EPOCH).days - first,
        monetary=monetary,
    )


def _fetch(sql: str, params: tuple, width: int = 5) -> tuple[np.ndarray, ...]:
    """The query's rows as `width` int64 columns (the summary's: ids, x, first and last day in
    epoch days, repeat cents)."""
    columns = [[] for _ in range(width)]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            for column, values in zip(columns, zip(*rows, strict=True), strict=True):
                column.append(np.array(values, dtype=np.int64))
    return tuple(
        np.concatenate(parts) if parts else np.array([], dtype=np.int64) for parts in columns
    )


def _end_bound(as_of: dt.date):
    """The bound "before local D + 1" as the database's timestamp value."""
    end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min))
    return connection.ops.adapt_datetimefield_value(end)


def _by_ids(sql_of, fixed: tuple, customer_ids, width: int) -> tuple[np.ndarray, ...]:
    """Run `sql_of(id_count)` once (customer_ids None) or per chunk of ids, concatenated."""
    if customer_ids is None:
        parts = [_fetch(sql_of(0), fixed, width)]
    else:
        ids = sorted({int(pk) for pk in customer_ids})
        parts = [
            _fetch(sql_of(len(ids[i : i + ID_CHUNK])), (*fixed, *ids[i : i + ID_CHUNK]), width)
            for i in range(0, len(ids), ID_CHUNK)
        ] or [tuple(np.array([], dtype=np.int64) for _ in range(width))]
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def net_revenue(as_of: dt.date, customer_ids=None) -> tuple[np.ndarray, np.ndarray]:
    """(customer ids, net revenue in cents) up to D: purchases minus refunds, per customer
    with either (sorted by id; archived customers included: callers pick their ids)."""

    def sql(id_count):
        ids = f" AND customer_id IN ({', '.join(['%s'] * id_count)})" if id_count else ""
        return f"""
            SELECT customer_id,
              CAST(SUM(CASE WHEN kind = 'purchase' THEN ROUND(amount * 100)
                            ELSE -ROUND(amount * 100) END) AS BIGINT)
            FROM {INTERACTIONS}
            WHERE kind IN ('purchase', 'refund') AND occurred_at < %s{ids}
            GROUP BY customer_id
            ORDER BY customer_id
        """

    ids, cents = _by_ids(sql, (_end_bound(as_of),), customer_ids, 2)
    return ids, cents


def current_customer_ids(customer_ids=None) -> np.ndarray:
    """The ids of every non-archived customer (or those among `customer_ids`), sorted."""

    def sql(id_count):
        ids = f" AND id IN ({', '.join(['%s'] * id_count)})" if id_count else ""
        return f"SELECT id FROM {CUSTOMERS} WHERE archived_at IS NULL{ids} ORDER BY id"

    return _by_ids(sql, (), customer_ids, 1)[0]
