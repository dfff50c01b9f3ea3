"""Activity metrics: active customers (DAU/WAU/MAU), stickiness, lifecycle, cohorts, activation.

Distinct customers with customer activity per bucket, computed in the database; empty
buckets answer zero. See docs/definitions.md, "Metrics" (new wins over returning, so new +
returning + resurrecting = active).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Count

from customers import kinds
from customers.models import Interaction
from engagement.engine.figures import local_day_start
from engagement.engine.rule_sets import current_rules

from .periods import (
    EVERYONE,
    Period,
    Segment,
    as_date,
    bucket_sql,
    calendar_cte,
    fetch,
    month_days_elapsed,
    next_bucket,
    pairs_cte,
    previous_bucket,
    ratio,
    sql_midnight,
    trunc,
)


def activity(*, period: Period, segment: Segment = EVERYONE) -> list[dict]:
    """Distinct active customers per bucket: [{"start", "active"}], empty buckets as 0."""
    counts = dict(
        (as_date(b), n)
        for b, n in Interaction.objects.filter(
            kinds.activity_q(),
            segment.customer_q("customer__"),
            occurred_at__gte=local_day_start(period.first),
            occurred_at__lt=local_day_start(period.after),
        )
        .annotate(b=trunc("occurred_at", period.unit, datetime_field=True))
        .values("b")
        .annotate(n=Count("customer_id", distinct=True))
        .values_list("b", "n")
        .order_by()
    )
    return [{"start": b, "active": counts.get(b, 0)} for b in period.buckets]


def stickiness(*, period: Period, segment: Segment = EVERYONE) -> list[dict]:
    """Per calendar month of the period: MAU, average DAU and DAU/MAU.

    Whole calendar months, like the activity buckets. The average DAU of a month is its
    distinct (customer, day) pairs over its days (the days so far, for the current month),
    so one scan answers both.
    """
    months = Period(unit="month", start=period.start, end=period.end)
    day_sql, day_params = bucket_sql("day", "i.occurred_at", local=True)
    where, wparams = segment.customer_sql("c")
    pairs_sql = (
        f"SELECT DISTINCT i.customer_id AS customer_id, {day_sql} AS d "
        f"FROM customers_interaction i JOIN customers_customer c ON c.id = i.customer_id "
        f"WHERE {kinds.activity_sql('i')} AND i.occurred_at >= %s AND i.occurred_at < %s "
        f"AND {where}"
    )
    month_sql, month_params = bucket_sql("month", "p.d", local=False)
    sql = (
        f"SELECT {month_sql} AS m, COUNT(*), COUNT(DISTINCT p.customer_id) "
        f"FROM ({pairs_sql}) p GROUP BY {month_sql}"
    )
    params = [
        *month_params,
        *day_params,
        sql_midnight(months.first),
        sql_midnight(months.after),
        *wparams,
        *month_params,
    ]
    found = {as_date(m): (pairs, mau) for m, pairs, mau in fetch(sql, params)}
    out = []
    for m in months.buckets:
        pairs, mau = found.get(m, (0, 0))
        days = month_days_elapsed(m)
        dau = round(pairs / days, 2) if days > 0 else 0.0
        out.append({"start": m, "mau": mau, "dau": dau, "stickiness": ratio(dau, mau)})
    return out


def headline_activity(*, end: dt.date, segment: Segment = EVERYONE) -> dict:
    """DAU on `end`, WAU of its ISO week, MAU of its calendar month (each up to `end`)."""
    out = {}
    for key, unit in (("dau", "day"), ("wau", "week"), ("mau", "month")):
        rows = activity(period=Period(unit=unit, start=end, end=end), segment=segment)
        out[key] = rows[0]["active"]
    out["stickiness"] = ratio(out["dau"], out["mau"])
    return out


def lifecycle(*, period: Period, segment: Segment = EVERYONE) -> list[dict]:
    """Per bucket: new, returning, resurrecting (these three sum to the active customers)
    and dormant (active in the previous bucket, not in this one).

    Bucket 0 of the calendar is the one before the period, read only as "previous".
    """
    buckets = [previous_bucket(period.first, period.unit), *period.buckets]
    cal_sql, cal_params = calendar_cte(buckets, period.unit)
    pairs_sql, pairs_params = pairs_cte(period.unit, buckets[0], period.after, segment)
    sql = f"""
        WITH {cal_sql}, {pairs_sql},
        p AS (
            SELECT pairs.customer_id, cal.idx,
                   CASE WHEN pairs.since >= cal.bstart AND pairs.since < cal.bnext
                        THEN 1 ELSE 0 END AS is_new
            FROM pairs JOIN cal ON cal.bstart = pairs.b
        ),
        w AS (
            SELECT idx, is_new,
                   LAG(idx) OVER (PARTITION BY customer_id ORDER BY idx) AS prev_idx,
                   LEAD(idx) OVER (PARTITION BY customer_id ORDER BY idx) AS next_idx
            FROM p
        )
        SELECT idx, SUM(is_new),
               SUM(CASE WHEN is_new = 0 AND prev_idx = idx - 1 THEN 1 ELSE 0 END),
               SUM(CASE WHEN is_new = 0 AND (prev_idx IS NULL OR prev_idx < idx - 1)
                        THEN 1 ELSE 0 END),
               0
        FROM w WHERE idx >= 1 GROUP BY idx
        UNION ALL
        SELECT idx + 1, 0, 0, 0, COUNT(*)
        FROM w WHERE (next_idx IS NULL OR next_idx > idx + 1) AND idx + 1 < %s GROUP BY idx
    """
    rows = fetch(sql, [*cal_params, *pairs_params, len(buckets)])
    found: dict[int, list[int]] = {}
    for idx, new, returning, resurrecting, dormant in rows:
        acc = found.setdefault(int(idx), [0, 0, 0, 0])
        for i, value in enumerate((new, returning, resurrecting, dormant)):
            acc[i] += int(value or 0)
    out = []
    for idx, start in enumerate(buckets[1:], start=1):
        new, returning, resurrecting, dormant = found.get(idx, [0, 0, 0, 0])
        out.append(
            {
                "start": start,
                "new": new,
                "returning": returning,
                "resurrecting": resurrecting,
                "dormant": dormant,
            }
        )
    return out


def cohorts(*, period: Period, segment: Segment = EVERYONE) -> list[dict]:
    """Cohort retention by `customer_since` month: for each cohort month of the period, its size
    and, for N = 0, 1, ... up to the period's end, the share of it active in month cohort + N.
    """
    months = Period(unit="month", start=period.start, end=period.end).buckets
    cal_sql, cal_params = calendar_cte(months, "month")
    after = next_bucket(months[-1], "month")
    pairs_sql, pairs_params = pairs_cte("month", months[0], after, segment)
    where, wparams = segment.customer_sql("c")
    sql = f"""
        WITH {cal_sql}, {pairs_sql}
        SELECT cc.idx, pc.idx - cc.idx, COUNT(*)
        FROM pairs JOIN cal pc ON pc.bstart = pairs.b
        JOIN cal cc ON pairs.since >= cc.bstart AND pairs.since < cc.bnext
        WHERE pc.idx >= cc.idx
        GROUP BY cc.idx, pc.idx - cc.idx
    """
    active = {(int(c), int(n)): k for c, n, k in fetch(sql, [*cal_params, *pairs_params])}
    since_bucket, sparams = bucket_sql("month", "c.customer_since", local=False)
    size_sql = (
        f"SELECT {since_bucket}, COUNT(*) FROM customers_customer c "
        f"WHERE c.customer_since >= %s AND c.customer_since < %s AND {where} "
        f"GROUP BY {since_bucket}"
    )
    sizes = {
        as_date(m): n for m, n in fetch(size_sql, [*sparams, months[0], after, *wparams, *sparams])
    }
    out = []
    for c, month in enumerate(months):
        size = sizes.get(month, 0)
        retention = [ratio(active.get((c, n), 0), size) for n in range(len(months) - c)]
        out.append({"cohort": month, "size": size, "retention": retention})
    return out


def activation(*, period: Period, segment: Segment = EVERYONE, rules=None) -> list[dict]:
    """Per bucket of `customer_since`: customers, those active within `onboarding_days` of it,
    and the share (activation rate)."""
    days = (rules or current_rules()).onboarding_days
    since_bucket, sparams = bucket_sql(period.unit, "c.customer_since", local=False)
    local_day, dparams = bucket_sql("day", "i.occurred_at", local=True)
    where, wparams = segment.customer_sql("c")
    limit = (
        f"c.customer_since + {int(days)}"
        if connection.vendor == "postgresql"
        else f"date(c.customer_since, '+{int(days)} days')"
    )
    sql = f"""
        SELECT {since_bucket}, COUNT(*), SUM(CASE WHEN EXISTS (
            SELECT 1 FROM customers_interaction i
            WHERE i.customer_id = c.id AND {kinds.activity_sql("i")}
              AND i.occurred_at >= %s AND {local_day} >= c.customer_since AND {local_day} <= {limit}
        ) THEN 1 ELSE 0 END)
        FROM customers_customer c
        WHERE c.customer_since >= %s AND c.customer_since < %s AND {where}
        GROUP BY {since_bucket}
    """
    params = [
        *sparams,
        # A lower bound the index on (customer, occurred_at) can use; the exact test follows.
        sql_midnight(period.first - dt.timedelta(days=1)),
        *dparams,
        *dparams,
        period.first,
        period.after,
        *wparams,
        *sparams,
    ]
    found = {as_date(b): (n, a) for b, n, a in fetch(sql, params)}
    out = []
    for b in period.buckets:
        n, activated = found.get(b, (0, 0))
        out.append(
            {
                "start": b,
                "customers": n,
                "activated": int(activated or 0),
                "rate": ratio(activated or 0, n),
            }
        )
    return out
