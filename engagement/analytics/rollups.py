"""Metric rollups: the heavy engagement metrics summed ahead, per segment cell.

Activity, lifecycle, stickiness, activation and cohorts need distinct customers per
bucket, which no index answers: at 2,000,000 interactions each is a scan of its own. The
rollups store them per bucket and per cell (owner, kind, country, industry). Every
customer sits in exactly one cell, so the figure of any segment is a SUM over the cells
it selects, read in milliseconds. `metrics_refresh()` rebuilds them with set-based SQL
(after each nightly recompute, or `python manage.py refresh_metrics`).

engagement.analytics.board answers from the rollups when the latest refresh is of today, in the
current time zone, and covers the period; otherwise it computes live. The two paths run
the same definitions and are held against each other by tests/engagement/analytics/test_rollups.py.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from customers import kinds
from engagement.engine.rule_sets import current_rules
from engagement.engine.subscriptions import live_sql, monthly_recurring
from engagement.models.metrics import ActivityCell, CohortCell, ComparisonCell, MetricRefresh

from .periods import (
    UNITS,
    Period,
    Segment,
    as_date,
    bucket_sql,
    bucket_start,
    calendar_cte,
    month_days_elapsed,
    next_bucket,
    previous_bucket,
    ratio,
    sql_midnight,
    trunc,
)

# How far back each unit is rolled up (in buckets, as the dashboard's own limit).
SPAN = {"day": 800, "week": 800, "month": 800}
CELL = ("owner_id", "kind", "country", "industry")


# --- building -----------------------------------------------------------------------------------


def metrics_refresh(*, as_of: dt.date | None = None) -> MetricRefresh:
    """Rebuild every rollup as of `as_of` (default today), atomically: readers see the old
    rollups or the new ones, never a mix."""
    as_of = as_of or timezone.localdate()
    rules = current_rules()
    started = time.perf_counter()
    with transaction.atomic():
        for model in (ActivityCell, CohortCell, ComparisonCell):
            _empty(model._meta.db_table)
        first_day = _first_day(as_of)
        for unit in UNITS:
            _build_activity(unit, first_day, as_of, rules.onboarding_days)
        _build_cohorts(first_day, as_of)
        _build_comparison(as_of, rules)
        MetricRefresh.objects.all().delete()
        refresh = MetricRefresh.objects.create(
            as_of=as_of,
            time_zone=timezone.get_current_timezone_name(),
            built_at=timezone.now(),
            seconds=round(time.perf_counter() - started, 2),
            onboarding_days=rules.onboarding_days,
            active_days=rules.active_days,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (ActivityCell, CohortCell, ComparisonCell):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return refresh


def _empty(table: str):
    with connection.cursor() as cursor:
        # TRUNCATE is transactional on PostgreSQL and does not scan; SQLite has only DELETE.
        verb = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
        cursor.execute(f"{verb} {table}")


def _first_day(as_of: dt.date) -> dt.date:
    """The earliest day anything happened (activity or a customer_since), not after as_of."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(occurred_at) FROM customers_interaction")
        first_event = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(customer_since) FROM customers_customer")
        first_since = cursor.fetchone()[0]
    days = [as_of]
    if first_event is not None:
        value = (
            first_event
            if isinstance(first_event, dt.datetime)
            else dt.datetime.fromisoformat(str(first_event))
        )
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        days.append(timezone.localdate(value))
    if first_since is not None:
        days.append(as_date(first_since))
    return min(days)


def _calendar(unit: str, first_day: dt.date, as_of: dt.date) -> list[dt.date]:
    """Buckets up to as_of, at most SPAN[unit] of them, plus the one before (read as previous)."""
    buckets = Period(unit=unit, start=first_day, end=as_of).buckets[-SPAN[unit] :]
    return [previous_bucket(buckets[0], unit), *buckets]


def _cell_sql(alias: str = "c") -> str:
    return ", ".join(f"{alias}.{c}" for c in CELL)


def _execute(sql: str, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _build_activity(unit: str, first_day: dt.date, as_of: dt.date, onboarding_days: int):
    buckets = _calendar(unit, first_day, as_of)
    cal_sql, cal_params = calendar_cte(buckets, unit)
    b_sql, b_params = bucket_sql(unit, "i.occurred_at", local=True)
    since_sql, since_params = bucket_sql(unit, "c.customer_since", local=False)
    day_sql, day_params = bucket_sql("day", "i.occurred_at", local=True)
    limit = (
        f"c.customer_since + {int(onboarding_days)}"
        if connection.vendor == "postgresql"
        else f"date(c.customer_since, '+{int(onboarding_days)} days')"
    )
    cells = ", ".join(CELL)
    q = connection.ops.quote_name
    columns = ", ".join(
        q(c)
        for c in ("active", "new", "returning", "resurrecting", "dormant", "joined", "activated")
    )
    zero_cols = "0 AS n_active, 0 AS n_new, 0 AS n_ret, 0 AS n_res"
    sql = f"""
        INSERT INTO engagement_activitycell (unit, bucket, {cells}, {columns})
        WITH {cal_sql},
        pairs AS (
            SELECT DISTINCT i.customer_id AS customer_id, {b_sql} AS b
            FROM customers_interaction i
            WHERE {kinds.activity_sql("i")} AND i.occurred_at >= %s AND i.occurred_at < %s
        ),
        p AS (
            SELECT pairs.customer_id, cal.idx, {_cell_sql()},
                   CASE WHEN {since_sql} = cal.bstart THEN 1 ELSE 0 END AS is_new
            FROM pairs JOIN cal ON cal.bstart = pairs.b
            JOIN customers_customer c ON c.id = pairs.customer_id
            WHERE c.archived_at IS NULL
        ),
        w AS (
            SELECT idx, {cells}, is_new,
                   LAG(idx) OVER (PARTITION BY customer_id ORDER BY idx) AS prev_idx,
                   LEAD(idx) OVER (PARTITION BY customer_id ORDER BY idx) AS next_idx
            FROM p
        ),
        u AS (
            SELECT idx, {cells}, 1 AS n_active, is_new AS n_new,
                   CASE WHEN is_new = 0 AND prev_idx = idx - 1 THEN 1 ELSE 0 END AS n_ret,
                   CASE WHEN is_new = 0 AND (prev_idx IS NULL OR prev_idx < idx - 1)
                        THEN 1 ELSE 0 END AS n_res,
                   0 AS n_dormant, 0 AS n_joined, 0 AS n_activated
            FROM w WHERE idx >= 1
            UNION ALL
            SELECT idx + 1, {cells}, {zero_cols}, 1, 0, 0
            FROM w WHERE (next_idx IS NULL OR next_idx > idx + 1) AND idx + 1 < %s
            UNION ALL
            SELECT cal.idx, {_cell_sql()}, {zero_cols}, 0, 1,
                   CASE WHEN EXISTS (
                       SELECT 1 FROM customers_interaction i
                       WHERE i.customer_id = c.id AND {kinds.activity_sql("i")}
                         AND i.occurred_at >= %s
                         AND {day_sql} >= c.customer_since AND {day_sql} <= {limit}
                   ) THEN 1 ELSE 0 END
            FROM customers_customer c JOIN cal ON cal.bstart = {since_sql}
            WHERE c.archived_at IS NULL AND cal.idx >= 1
        )
        SELECT %s, cal.bstart, {", ".join(f"u.{c}" for c in CELL)}, SUM(u.n_active),
               SUM(u.n_new), SUM(u.n_ret), SUM(u.n_res), SUM(u.n_dormant), SUM(u.n_joined),
               SUM(u.n_activated)
        FROM u JOIN cal ON cal.idx = u.idx
        GROUP BY cal.bstart, {", ".join(f"u.{c}" for c in CELL)}
    """
    params = [
        *cal_params,
        *b_params,
        sql_midnight(buckets[0]),
        sql_midnight(as_of + dt.timedelta(days=1)),
        *since_params,
        len(buckets),
        sql_midnight(buckets[1] - dt.timedelta(days=1)),
        *day_params,
        *day_params,
        *since_params,
        unit,
    ]
    _execute(sql, params)


def _build_cohorts(first_day: dt.date, as_of: dt.date):
    months = _calendar("month", first_day, as_of)[1:]
    cal_sql, cal_params = calendar_cte(months, "month")
    b_sql, b_params = bucket_sql("month", "i.occurred_at", local=True)
    since_sql, since_params = bucket_sql("month", "c.customer_since", local=False)
    cells = ", ".join(CELL)
    sql = f"""
        INSERT INTO engagement_cohortcell (cohort, months_after, {cells}, active)
        WITH {cal_sql},
        pairs AS (
            SELECT DISTINCT i.customer_id AS customer_id, {b_sql} AS b
            FROM customers_interaction i
            WHERE {kinds.activity_sql("i")} AND i.occurred_at >= %s AND i.occurred_at < %s
        )
        SELECT cc.bstart, pc.idx - cc.idx, {_cell_sql()}, COUNT(*)
        FROM pairs JOIN cal pc ON pc.bstart = pairs.b
        JOIN customers_customer c ON c.id = pairs.customer_id
        JOIN cal cc ON cc.bstart = {since_sql}
        WHERE c.archived_at IS NULL AND pc.idx >= cc.idx
        GROUP BY cc.bstart, pc.idx - cc.idx, {_cell_sql()}
    """
    params = [
        *cal_params,
        *b_params,
        sql_midnight(months[0]),
        sql_midnight(as_of + dt.timedelta(days=1)),
        *since_params,
    ]
    _execute(sql, params)


def _build_comparison(as_of: dt.date, rules):
    active = "(a.last_activity IS NOT NULL AND a.last_activity >= %s)"
    cells = ", ".join(CELL)
    sql = f"""
        INSERT INTO engagement_comparisoncell ({cells}, is_active, customers, scored, score_sum,
            lifetime_revenue, revenue_365, interactions_365, monthly_amounts, yearly_amounts)
        SELECT {_cell_sql()}, {active}, COUNT(*), COUNT(e.score), COALESCE(SUM(e.score), 0),
               COALESCE(SUM(a.lifetime), 0), COALESCE(SUM(a.revenue_365), 0),
               COALESCE(SUM(a.interactions_365), 0), COALESCE(SUM(s.monthly), 0),
               COALESCE(SUM(s.yearly), 0)
        FROM customers_customer c
        LEFT JOIN (
            SELECT i.customer_id,
                   MAX(CASE WHEN {kinds.activity_sql("i")} THEN i.occurred_at END) AS last_activity,
                   SUM(CASE WHEN i.kind = 'purchase' THEN i.amount
                            WHEN i.kind = 'refund' THEN -i.amount ELSE 0 END) AS lifetime,
                   SUM(CASE WHEN i.occurred_at < %s THEN 0
                            WHEN i.kind = 'purchase' THEN i.amount
                            WHEN i.kind = 'refund' THEN -i.amount ELSE 0 END) AS revenue_365,
                   SUM(CASE WHEN i.occurred_at >= %s THEN 1 ELSE 0 END) AS interactions_365
            FROM customers_interaction i WHERE i.occurred_at < %s
            GROUP BY i.customer_id
        ) a ON a.customer_id = c.id
        LEFT JOIN engagement_engagementresult e ON e.customer_id = c.id
        LEFT JOIN (
            SELECT sub.customer_id,
                   SUM(CASE WHEN sub."interval" = 'year' THEN 0 ELSE sub.amount END) AS monthly,
                   SUM(CASE WHEN sub."interval" = 'year' THEN sub.amount ELSE 0 END) AS yearly
            FROM customers_subscription sub
            WHERE {live_sql("sub", rules, "%s")}
            GROUP BY sub.customer_id
        ) s ON s.customer_id = c.id
        WHERE c.archived_at IS NULL AND c.customer_since <= %s
        GROUP BY {_cell_sql()}, {active}
    """
    since_365 = sql_midnight(as_of - dt.timedelta(days=364))
    recent = sql_midnight(as_of - dt.timedelta(days=rules.active_days))
    params = [
        recent,
        since_365,
        since_365,
        sql_midnight(as_of + dt.timedelta(days=1)),
        as_of,
        as_of,
        as_of,
        recent,
    ]
    _execute(sql, params)


# --- reading ------------------------------------------------------------------------------------


def usable_refresh(*, rules=None) -> MetricRefresh | None:
    """The latest refresh if it was built today, in this time zone, with today's rules."""
    refresh = MetricRefresh.objects.order_by("-built_at").first()
    if refresh is None or refresh.time_zone != timezone.get_current_timezone_name():
        return None
    if timezone.localdate(refresh.built_at) != timezone.localdate():
        return None
    rules = rules or current_rules()
    if (refresh.onboarding_days, refresh.active_days) != (rules.onboarding_days, rules.active_days):
        return None
    return refresh


def _reaches(refresh: MetricRefresh, unit: str, first: dt.date) -> bool:
    earliest = bucket_start(refresh.as_of, unit)
    for _ in range(SPAN[unit] - 1):
        earliest = previous_bucket(earliest, unit)
    return first >= earliest


def covers(name: str, period: Period, refresh: MetricRefresh | None) -> bool:
    """May `name` be answered from these rollups (usable_refresh()) for this period?"""
    if refresh is None or period.end > refresh.as_of:
        return False
    if name == "comparison":
        return period.end == refresh.as_of
    months = Period(unit="month", start=period.start, end=period.end)
    if name == "stickiness":
        return _reaches(refresh, "month", months.first) and _reaches(refresh, "day", months.first)
    if name == "cohorts":
        return _reaches(refresh, "month", months.first)
    if name == "headline":
        return _reaches(refresh, "day", period.end) and _reaches(refresh, "month", period.end)
    return _reaches(refresh, period.unit, period.first)


def _cells(model, segment: Segment):
    q = Q()
    for name in CELL:
        value = getattr(segment, name)
        if value not in (None, ""):
            q &= Q(**{name: value})
    return model.objects.filter(q)


def _sums(period: Period, segment: Segment, unit: str, *fields) -> dict[dt.date, dict]:
    rows = (
        _cells(ActivityCell, segment)
        .filter(unit=unit, bucket__gte=period.first, bucket__lt=period.after)
        .values("bucket")
        .annotate(**{f: Sum(f) for f in fields})
        .order_by()
    )
    return {r["bucket"]: r for r in rows}


def activity(*, period, segment) -> list[dict]:
    found = _sums(period, segment, period.unit, "active")
    return [{"start": b, "active": found.get(b, {}).get("active") or 0} for b in period.buckets]


def lifecycle(*, period, segment) -> list[dict]:
    keys = ("new", "returning", "resurrecting", "dormant")
    found = _sums(period, segment, period.unit, *keys)
    return [{"start": b, **{k: found.get(b, {}).get(k) or 0 for k in keys}} for b in period.buckets]


def activation(*, period, segment) -> list[dict]:
    found = _sums(period, segment, period.unit, "joined", "activated")
    out = []
    for b in period.buckets:
        joined = found.get(b, {}).get("joined") or 0
        activated = found.get(b, {}).get("activated") or 0
        out.append(
            {
                "start": b,
                "customers": joined,
                "activated": activated,
                "rate": ratio(activated, joined),
            }
        )
    return out


def stickiness(*, period, segment) -> list[dict]:
    months = Period(unit="month", start=period.start, end=period.end)
    mau = _sums(months, segment, "month", "active")
    days = Period(unit="day", start=months.first, end=months.after - dt.timedelta(days=1))
    daily = _sums(days, segment, "day", "active")
    pairs: dict[dt.date, int] = {}
    for day, row in daily.items():
        pairs[day.replace(day=1)] = pairs.get(day.replace(day=1), 0) + (row["active"] or 0)
    out = []
    for month in months.buckets:
        n_days = month_days_elapsed(month)
        dau = round(pairs.get(month, 0) / n_days, 2) if n_days > 0 else 0.0
        count = mau.get(month, {}).get("active") or 0
        out.append({"start": month, "mau": count, "dau": dau, "stickiness": ratio(dau, count)})
    return out


def headline_activity(*, end, segment) -> dict:
    out = {}
    for key, unit in (("dau", "day"), ("wau", "week"), ("mau", "month")):
        out[key] = activity(period=Period(unit=unit, start=end, end=end), segment=segment)[0][
            "active"
        ]
    out["stickiness"] = ratio(out["dau"], out["mau"])
    return out


def cohorts(*, period, segment) -> list[dict]:
    months = Period(unit="month", start=period.start, end=period.end).buckets
    after = next_bucket(months[-1], "month")
    rows = (
        _cells(CohortCell, segment)
        .filter(cohort__gte=months[0], cohort__lt=after)
        .values("cohort", "months_after")
        .annotate(n=Sum("active"))
        .order_by()
    )
    active = {(r["cohort"], r["months_after"]): r["n"] for r in rows}
    sizes = dict(
        segment.customers()
        .filter(customer_since__gte=months[0], customer_since__lt=after)
        .annotate(month=trunc("customer_since", "month", datetime_field=False))
        .values_list("month")
        .annotate(n=Count("id"))
        .order_by()
    )
    out = []
    for c, month in enumerate(months):
        size = sizes.get(month, 0)
        retention = [ratio(active.get((month, n), 0), size) for n in range(len(months) - c)]
        out.append({"cohort": month, "size": size, "retention": retention})
    return out


def comparison(*, segment) -> list[dict]:
    fields = (
        "customers",
        "scored",
        "score_sum",
        "lifetime_revenue",
        "revenue_365",
        "interactions_365",
        "monthly_amounts",
        "yearly_amounts",
    )
    rows = {
        r["is_active"]: r
        for r in _cells(ComparisonCell, segment)
        .values("is_active")
        .annotate(**{f: Sum(f) for f in fields})
        .order_by()
    }
    zero = Decimal("0.00")
    total_revenue = sum((r["revenue_365"] or zero) for r in rows.values())
    out = []
    for is_active, label in ((True, "active"), (False, "non_active")):
        r = rows.get(is_active, {})
        n = r.get("customers") or 0
        revenue = Decimal(r.get("revenue_365") or zero)
        out.append(
            {
                "group": label,
                "customers": n,
                "avg_score": round(r["score_sum"] / r["scored"], 1) if r.get("scored") else None,
                "revenue": revenue.quantize(Decimal("0.01")),
                "revenue_share": ratio(revenue, total_revenue),
                "clv": (Decimal(r.get("lifetime_revenue") or zero) / n).quantize(Decimal("0.01"))
                if n
                else None,
                "interactions_per_customer": round((r.get("interactions_365") or 0) / n, 2)
                if n
                else None,
                "mrr": monthly_recurring(r.get("monthly_amounts"), r.get("yearly_amounts")),
            }
        )
    return out
