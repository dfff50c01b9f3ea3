"""Engagement metrics ("Metrics" of PRODUCT.md), computed in the database.

Every figure is an aggregate over interactions, subscriptions, the status history or
the type changes, narrowed by a `Segment` (owner, kind, country, industry; archived
customers never count) and bucketed by a `Period` (day, ISO week starting Monday, or
calendar month, on local dates in TIME_ZONE). Buckets without data are answered as
zero, never left out.

Definitions the spec leaves open, chosen here and documented in the README:
- lifecycle: `new` wins over `returning`, so new + returning + resurrecting = active;
- status and type counts at a bucket's end replay the history rows up to that day;
- churn rate = customers turning `churned` in the bucket / customers not churned at its
  start; reactivation rate = customers turning `active` from at_risk, inactive or
  churned / customers in those statuses at its start;
- MRR at a day counts subscriptions live on that day by dates (started <= day < ended)
  whose status is not paused (nor trial unless the rule set counts trials);
- customer lifetime value = net revenue (purchases - refunds) to the period's end per
  customer; "active" in the comparison = customer activity within `active_days` of the
  period's end.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Avg, Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from crm.params import check_day
from customers import kinds
from customers.models import Customer, Interaction, Subscription
from engagement.models.results import (
    CustomerType,
    EngagementResult,
    Status,
    StatusHistory,
    TypeChange,
)
from engagement.models.rules import RuleSet

UNITS = ("day", "week", "month")
MAX_BUCKETS = 800
DEFAULT_SPAN = {"day": 30, "week": 12, "month": 12}
MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")
NOT_ACTIVE_STATUSES = (Status.AT_RISK, Status.INACTIVE, Status.CHURNED)


def active_rule_set():
    """The thresholds in force (engagement.rules owns the choice; defaults until it is there)."""
    try:
        from engagement.rules import active_rule_set as engine_rules
    except ImportError:
        return RuleSet.objects.order_by("-version").first() or RuleSet()
    return engine_rules()


# --- period and segment ---------------------------------------------------------------------


def bucket_start(day: dt.date, unit: str) -> dt.date:
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: dt.date, unit: str) -> dt.date:
    if unit == "week":
        return start + dt.timedelta(days=7)
    if unit == "month":
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start + dt.timedelta(days=1)


def previous_bucket(start: dt.date, unit: str) -> dt.date:
    if unit == "month":
        return (start - dt.timedelta(days=1)).replace(day=1)
    return start - dt.timedelta(days=7 if unit == "week" else 1)


@dataclass(frozen=True)
class Period:
    """Buckets of `unit` from the one holding `start` to the one holding `end` (inclusive)."""

    unit: str
    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, *, period=None, start=None, end=None, today: dt.date | None = None) -> Period:
        """From query parameters (strings or None); raises ValidationError naming the field."""
        unit = period or "month"
        if unit not in UNITS:
            raise ValidationError({"period": [f"Choose one of: {', '.join(UNITS)}."]})
        end_day = _parse_date("end", end) if end else (today or timezone.localdate())
        if start:
            start_day = _parse_date("start", start)
        else:
            start_day = bucket_start(end_day, unit)
            for _ in range(DEFAULT_SPAN[unit] - 1):
                start_day = previous_bucket(start_day, unit)
        if start_day > end_day:
            raise ValidationError({"start": ["The start must be on or before the end."]})
        result = cls(unit=unit, start=start_day, end=end_day)
        if len(result.buckets) > MAX_BUCKETS:
            raise ValidationError(
                {
                    "start": [
                        f"At most {MAX_BUCKETS} {unit} buckets: choose a later start "
                        "or a longer period."
                    ]
                }
            )
        return result

    @property
    def buckets(self) -> list[dt.date]:
        out, current = [], bucket_start(self.start, self.unit)
        while current <= self.end:
            out.append(current)
            current = next_bucket(current, self.unit)
        return out

    @property
    def first(self) -> dt.date:
        return bucket_start(self.start, self.unit)

    @property
    def after(self) -> dt.date:
        """The first day after the last bucket."""
        return next_bucket(bucket_start(self.end, self.unit), self.unit)

    def bucket_end(self, start: dt.date) -> dt.date:
        """The last day of a bucket that counts: never after the period's end."""
        return min(next_bucket(start, self.unit) - dt.timedelta(days=1), self.end)


def _parse_date(name, value) -> dt.date:
    if isinstance(value, dt.date):
        return check_day(name, value)
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({name: ["Enter a date as YYYY-MM-DD."]}) from None
    return check_day(name, day)


@dataclass(frozen=True)
class Segment:
    owner_id: int | None = None
    kind: str = ""
    country: str = ""
    industry: str = ""

    def customer_q(self, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}archived_at__isnull": True})
        for name in ("owner_id", "kind", "country", "industry"):
            value = getattr(self, name)
            if value not in (None, ""):
                q &= Q(**{f"{prefix}{name}": value})
        return q

    def customer_sql(self, alias: str = "c") -> tuple[str, list]:
        parts, params = [f"{alias}.archived_at IS NULL"], []
        for name in ("owner_id", "kind", "country", "industry"):
            value = getattr(self, name)
            if value not in (None, ""):
                parts.append(f"{alias}.{name} = %s")
                params.append(value)
        return " AND ".join(parts), params

    def customers(self):
        return Customer.objects.filter(self.customer_q())


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware instant a local date starts: `local date of t in [a, b]` is `t in [a, b+1)`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def sql_midnight(day: dt.date):
    """local_midnight as a raw SQL parameter (SQLite stores naive UTC text: convert first)."""
    return connection.ops.adapt_datetimefield_value(local_midnight(day))


# --- SQL helpers ------------------------------------------------------------------------------


def _tzname() -> str:
    return timezone.get_current_timezone_name()


def _bucket_sql(unit: str, column: str, *, local: bool) -> tuple[str, list]:
    """SQL giving the start date of the `unit` bucket of `column` (local date when `local`)."""
    tz = _tzname() if local else None
    sql, params = connection.ops.date_trunc_sql(unit, column, (), tz)
    if connection.vendor == "postgresql":
        sql = f"CAST({sql} AS date)"
    return sql, list(params)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _calendar_cte(buckets: list[dt.date], unit: str) -> tuple[str, list]:
    rows, params = [], []
    for idx, start in enumerate(buckets):
        rows.append("(%s, %s, %s)")
        params += [idx, start, next_bucket(start, unit)]
    cast = "CAST(%s AS integer), CAST(%s AS date), CAST(%s AS date)"
    if connection.vendor == "postgresql":
        rows = [f"({cast})"] * len(buckets)
    return f"cal(idx, bstart, bnext) AS (VALUES {', '.join(rows)})", params


def _pairs_cte(unit: str, lo: dt.date, hi: dt.date, segment: Segment) -> tuple[str, list]:
    """Distinct (customer, bucket) of customer activity with local dates in [lo, hi)."""
    bucket, bparams = _bucket_sql(unit, "i.occurred_at", local=True)
    where, wparams = segment.customer_sql("c")
    sql = (
        f"pairs AS (SELECT DISTINCT i.customer_id AS customer_id, {bucket} AS b, "
        f"c.customer_since AS since FROM customers_interaction i "
        f"JOIN customers_customer c ON c.id = i.customer_id "
        f"WHERE {kinds.activity_sql('i')} AND i.occurred_at >= %s AND i.occurred_at < %s "
        f"AND {where})"
    )
    return sql, [*bparams, sql_midnight(lo), sql_midnight(hi), *wparams]


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _series(period: Period, values: dict, default=0) -> list:
    return [values.get(b, default) for b in period.buckets]


def _trunc(field_name: str, unit: str, *, datetime_field: bool):
    if datetime_field:
        return Trunc(
            field_name, unit, output_field=_DateField(), tzinfo=timezone.get_current_timezone()
        )
    return Trunc(field_name, unit, output_field=_DateField())


def _DateField():
    from django.db.models import DateField

    return DateField()


def _ratio(num, den, digits: int = 4) -> float | None:
    return round(float(num) / float(den), digits) if den else None


# --- activity and lifecycle -------------------------------------------------------------------


def activity(*, period: Period, segment: Segment = Segment()) -> list[dict]:
    """Distinct active customers per bucket: [{"start", "active"}], empty buckets as 0."""
    counts = dict(
        (_as_date(b), n)
        for b, n in Interaction.objects.filter(
            kinds.activity_q(),
            segment.customer_q("customer__"),
            occurred_at__gte=local_midnight(period.first),
            occurred_at__lt=local_midnight(period.after),
        )
        .annotate(b=_trunc("occurred_at", period.unit, datetime_field=True))
        .values("b")
        .annotate(n=Count("customer_id", distinct=True))
        .values_list("b", "n")
        .order_by()
    )
    return [{"start": b, "active": counts.get(b, 0)} for b in period.buckets]


def stickiness(*, period: Period, segment: Segment = Segment()) -> list[dict]:
    """Per calendar month of the period: MAU, average DAU and DAU/MAU.

    Whole calendar months, like the activity buckets. The average DAU of a month is its
    distinct (customer, day) pairs over its days (the days so far, for the current month),
    so one scan answers both.
    """
    months = Period(unit="month", start=period.start, end=period.end)
    day_sql, day_params = _bucket_sql("day", "i.occurred_at", local=True)
    where, wparams = segment.customer_sql("c")
    pairs_sql = (
        f"SELECT DISTINCT i.customer_id AS customer_id, {day_sql} AS d "
        f"FROM customers_interaction i JOIN customers_customer c ON c.id = i.customer_id "
        f"WHERE {kinds.activity_sql('i')} AND i.occurred_at >= %s AND i.occurred_at < %s "
        f"AND {where}"
    )
    month_sql, month_params = _bucket_sql("month", "p.d", local=False)
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
    found = {_as_date(m): (pairs, mau) for m, pairs, mau in _fetch(sql, params)}
    out = []
    for m in months.buckets:
        pairs, mau = found.get(m, (0, 0))
        days = month_days_elapsed(m)
        dau = round(pairs / days, 2) if days > 0 else 0.0
        out.append({"start": m, "mau": mau, "dau": dau, "stickiness": _ratio(dau, mau)})
    return out


def headline_activity(*, end: dt.date, segment: Segment = Segment()) -> dict:
    """DAU on `end`, WAU of its ISO week, MAU of its calendar month (each up to `end`)."""
    out = {}
    for key, unit in (("dau", "day"), ("wau", "week"), ("mau", "month")):
        rows = activity(period=Period(unit=unit, start=end, end=end), segment=segment)
        out[key] = rows[0]["active"]
    out["stickiness"] = _ratio(out["dau"], out["mau"])
    return out


def lifecycle(*, period: Period, segment: Segment = Segment()) -> list[dict]:
    """Per bucket: new, returning, resurrecting (these three sum to the active customers)
    and dormant (active in the previous bucket, not in this one).

    Bucket 0 of the calendar is the one before the period, read only as "previous".
    """
    buckets = [previous_bucket(period.first, period.unit), *period.buckets]
    cal_sql, cal_params = _calendar_cte(buckets, period.unit)
    pairs_sql, pairs_params = _pairs_cte(period.unit, buckets[0], period.after, segment)
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
    rows = _fetch(sql, [*cal_params, *pairs_params, len(buckets)])
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


def cohorts(*, period: Period, segment: Segment = Segment()) -> list[dict]:
    """Cohort retention by `customer_since` month: for each cohort month of the period, its size
    and, for N = 0, 1, ... up to the period's end, the share of it active in month cohort + N.
    """
    months = Period(unit="month", start=period.start, end=period.end).buckets
    cal_sql, cal_params = _calendar_cte(months, "month")
    after = next_bucket(months[-1], "month")
    pairs_sql, pairs_params = _pairs_cte("month", months[0], after, segment)
    where, wparams = segment.customer_sql("c")
    sql = f"""
        WITH {cal_sql}, {pairs_sql}
        SELECT cc.idx, pc.idx - cc.idx, COUNT(*)
        FROM pairs JOIN cal pc ON pc.bstart = pairs.b
        JOIN cal cc ON pairs.since >= cc.bstart AND pairs.since < cc.bnext
        WHERE pc.idx >= cc.idx
        GROUP BY cc.idx, pc.idx - cc.idx
    """
    active = {(int(c), int(n)): k for c, n, k in _fetch(sql, [*cal_params, *pairs_params])}
    since_bucket, sparams = _bucket_sql("month", "c.customer_since", local=False)
    size_sql = (
        f"SELECT {since_bucket}, COUNT(*) FROM customers_customer c "
        f"WHERE c.customer_since >= %s AND c.customer_since < %s AND {where} "
        f"GROUP BY {since_bucket}"
    )
    sizes = {
        _as_date(m): n
        for m, n in _fetch(size_sql, [*sparams, months[0], after, *wparams, *sparams])
    }
    out = []
    for c, month in enumerate(months):
        size = sizes.get(month, 0)
        retention = [_ratio(active.get((c, n), 0), size) for n in range(len(months) - c)]
        out.append({"cohort": month, "size": size, "retention": retention})
    return out


# --- status, types, rates ---------------------------------------------------------------------


def _replay(period: Period, rows, baseline: dict, keys) -> list[dict]:
    """Cumulate per-bucket deltas onto the baseline: counts at each bucket's end."""
    deltas: dict[dt.date, dict] = {}
    for b, key, delta in rows:
        bucket = deltas.setdefault(_as_date(b), {})
        bucket[key] = bucket.get(key, 0) + delta
    current = {k: baseline.get(k, 0) for k in keys}
    out = []
    for b in period.buckets:
        for k, delta in deltas.get(b, {}).items():
            if k in current:
                current[k] += delta
        out.append({"start": b, **current})
    return out


def status_history(*, period: Period, segment: Segment = Segment()) -> dict:
    """Customers per status at each bucket's end, and per-bucket churn and reactivation rates,
    replayed from the status history (one row per change: -1 from, +1 to)."""
    history = StatusHistory.objects.filter(segment.customer_q("customer__"), as_of__lt=period.after)
    before = history.filter(as_of__lt=period.first)
    baseline: dict[str, int] = {}
    for status, n in before.values_list("to_status").annotate(n=Count("id")).order_by():
        baseline[status] = baseline.get(status, 0) + n
    for status, n in (
        before.exclude(from_status="").values_list("from_status").annotate(n=Count("id")).order_by()
    ):
        baseline[status] = baseline.get(status, 0) - n
    flows = list(
        history.filter(as_of__gte=period.first)
        .annotate(b=_trunc("as_of", period.unit, datetime_field=False))
        .values_list("b", "from_status", "to_status")
        .annotate(n=Count("id"))
        .order_by()
    )
    deltas = [(b, to, n) for b, _f, to, n in flows] + [(b, f, -n) for b, f, _t, n in flows if f]
    keys = [s.value for s in Status]
    counts = _replay(period, deltas, baseline, keys)
    churned_in: dict = {}
    reactivated_in: dict = {}
    for b, from_status, to_status, n in flows:
        b = _as_date(b)
        if to_status == Status.CHURNED and from_status != Status.CHURNED:
            churned_in[b] = churned_in.get(b, 0) + n
        if to_status == Status.ACTIVE and from_status in NOT_ACTIVE_STATUSES:
            reactivated_in[b] = reactivated_in.get(b, 0) + n
    rates = []
    opening = {k: baseline.get(k, 0) for k in keys}
    for row in counts:
        b = row["start"]
        not_churned = sum(v for k, v in opening.items() if k != Status.CHURNED)
        lapsed = sum(opening[k] for k in NOT_ACTIVE_STATUSES)
        rates.append(
            {
                "start": b,
                "churned": churned_in.get(b, 0),
                "churn_rate": _ratio(churned_in.get(b, 0), not_churned),
                "reactivated": reactivated_in.get(b, 0),
                "reactivation_rate": _ratio(reactivated_in.get(b, 0), lapsed),
            }
        )
        opening = {k: row[k] for k in keys}
    return {"counts": counts, "rates": rates}


def type_history(*, period: Period, segment: Segment = Segment()) -> list[dict]:
    """Customers holding each type at each bucket's end, replayed from the type changes."""
    changes = TypeChange.objects.filter(segment.customer_q("customer__"), as_of__lt=period.after)
    signed = Case(When(gained=True, then=Value(1)), default=Value(-1))
    baseline = dict(
        changes.filter(as_of__lt=period.first)
        .values_list("customer_type")
        .annotate(n=Sum(signed))
        .order_by()
    )
    rows = (
        changes.filter(as_of__gte=period.first)
        .annotate(b=_trunc("as_of", period.unit, datetime_field=False))
        .values_list("b", "customer_type")
        .annotate(n=Sum(signed))
        .order_by()
    )
    return _replay(period, rows, baseline, [t.value for t in CustomerType])


def current_segments(*, segment: Segment = Segment()) -> dict:
    """Customers by stored status and by type now (one query)."""
    type_fields = EngagementResult.TYPE_FIELDS
    rows = (
        EngagementResult.objects.filter(segment.customer_q("customer__"))
        .values("status")
        .annotate(
            n=Count("customer_id"),
            **{
                code: Count("customer_id", filter=Q(**{f: True})) for code, f in type_fields.items()
            },
        )
        .order_by()
    )
    by_status = {s.value: 0 for s in Status}
    by_type = {t.value: 0 for t in CustomerType}
    for row in rows:
        by_status[row["status"]] = row["n"]
        for code in type_fields:
            by_type[code] += row[code]
    return {"status": by_status, "types": by_type}


def activation(*, period: Period, segment: Segment = Segment(), rules=None) -> list[dict]:
    """Per bucket of `customer_since`: customers, those active within `onboarding_days` of it,
    and the share (activation rate)."""
    days = (rules or active_rule_set()).onboarding_days
    since_bucket, sparams = _bucket_sql(period.unit, "c.customer_since", local=False)
    local_day, dparams = _bucket_sql("day", "i.occurred_at", local=True)
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
    found = {_as_date(b): (n, a) for b, n, a in _fetch(sql, params)}
    out = []
    for b in period.buckets:
        n, activated = found.get(b, (0, 0))
        out.append(
            {
                "start": b,
                "customers": n,
                "activated": int(activated or 0),
                "rate": _ratio(activated or 0, n),
            }
        )
    return out


# --- money ------------------------------------------------------------------------------------


def _amounts_by_interval():
    """Sums of monthly and of yearly amounts: MRR = monthly + yearly / 12, divided in Python
    (exact, and free of SQLite's integer division)."""
    year = Q(interval=Subscription.Interval.YEAR)
    return {
        "monthly": Coalesce(Sum("amount", filter=~year), Value(ZERO), output_field=MONEY),
        "yearly": Coalesce(Sum("amount", filter=year), Value(ZERO), output_field=MONEY),
    }


def _mrr_of(row) -> Decimal:
    return Decimal(row["monthly"] or ZERO) + Decimal(row["yearly"] or ZERO) / 12


def _counted_subscriptions(segment: Segment, rules=None):
    excluded = [Subscription.Status.PAUSED]
    if not (rules or active_rule_set()).count_trials_as_subscribers:
        excluded.append(Subscription.Status.TRIAL)
    return Subscription.objects.filter(segment.customer_q("customer__")).exclude(
        status__in=excluded
    )


def mrr(*, period: Period, segment: Segment = Segment(), rules=None) -> list[dict]:
    """MRR at each bucket's end: starts add, ends remove (a subscription is live up to the day
    before `ended_at`), cumulated from the baseline before the period."""
    subs = _counted_subscriptions(segment, rules)
    first, after = period.first, period.after
    live_before = subs.filter(
        Q(started_at__lt=first), Q(ended_at__isnull=True) | Q(ended_at__gte=first)
    )
    baseline = _mrr_of(live_before.aggregate(**_amounts_by_interval()))
    starts = (
        subs.filter(started_at__gte=first, started_at__lt=after)
        .exclude(ended_at__lte=F("started_at"))
        .annotate(b=_trunc("started_at", period.unit, datetime_field=False))
        .values("b")
        .annotate(**_amounts_by_interval())
        .order_by()
    )
    ends = (
        subs.filter(ended_at__gte=first, ended_at__lt=after, ended_at__gt=F("started_at"))
        .annotate(b=_trunc("ended_at", period.unit, datetime_field=False))
        .values("b")
        .annotate(**_amounts_by_interval())
        .order_by()
    )
    delta: dict[dt.date, Decimal] = {}
    for row in starts:
        b = _as_date(row["b"])
        delta[b] = delta.get(b, ZERO) + _mrr_of(row)
    for row in ends:
        b = _as_date(row["b"])
        delta[b] = delta.get(b, ZERO) - _mrr_of(row)
    out, current = [], baseline
    for b in period.buckets:
        current += delta.get(b, ZERO)
        out.append({"start": b, "mrr": current.quantize(Decimal("0.01"))})
    return out


def _signed_amount():
    return Case(
        When(kind=kinds.PURCHASE, then=F("amount")),
        When(kind=kinds.REFUND, then=-F("amount")),
        default=Value(ZERO),
        output_field=MONEY,
    )


def revenue(*, period: Period, segment: Segment = Segment()) -> list[dict]:
    """Purchases, refunds and net revenue per bucket."""
    rows = (
        Interaction.objects.filter(
            segment.customer_q("customer__"),
            kind__in=[kinds.PURCHASE, kinds.REFUND],
            occurred_at__gte=local_midnight(period.first),
            occurred_at__lt=local_midnight(period.after),
        )
        .annotate(b=_trunc("occurred_at", period.unit, datetime_field=True))
        .values("b")
        .annotate(
            purchases=Sum("amount", filter=Q(kind=kinds.PURCHASE)),
            refunds=Sum("amount", filter=Q(kind=kinds.REFUND)),
        )
        .order_by()
    )
    found = {_as_date(r["b"]): r for r in rows}
    out = []
    for b in period.buckets:
        r = found.get(b, {})
        purchases, refunds = r.get("purchases") or ZERO, r.get("refunds") or ZERO
        out.append(
            {"start": b, "purchases": purchases, "refunds": refunds, "revenue": purchases - refunds}
        )
    return out


def active_comparison(*, period: Period, segment: Segment = Segment(), rules=None) -> list[dict]:
    """Active versus non-active customers on the period's last day: customers, average
    engagement score, net revenue of the 365 days to that day and its share, lifetime value
    (net revenue to that day per customer), interactions per customer in those 365 days, and
    MRR on that day."""
    end = period.end
    rules = rules or active_rule_set()
    window = rules.active_days
    # Revenue and interactions over the year that ends on the period's last day.
    year_start = local_midnight(end - dt.timedelta(days=364))
    active_ids = Interaction.objects.filter(
        kinds.activity_q(),
        occurred_at__gte=local_midnight(end - dt.timedelta(days=window)),
        occurred_at__lt=local_midnight(end + dt.timedelta(days=1)),
    ).values("customer_id")

    def flag(field_name):
        return Case(
            When(**{f"{field_name}__in": active_ids}, then=Value(True)), default=Value(False)
        )

    groups = {True: {}, False: {}}
    for row in (
        segment.customers()
        .filter(customer_since__lte=end)
        .annotate(g=flag("id"))
        .values("g")
        .annotate(customers=Count("id"), score=Avg("engagement__score"))
        .order_by()
    ):
        groups[row["g"]].update(customers=row["customers"], score=row["score"])
    money = (
        Interaction.objects.filter(
            segment.customer_q("customer__"),
            kind__in=[kinds.PURCHASE, kinds.REFUND],
            occurred_at__lt=local_midnight(end + dt.timedelta(days=1)),
        )
        .annotate(g=flag("customer_id"))
        .values("g")
        .annotate(
            lifetime=Sum(_signed_amount()),
            period=Sum(_signed_amount(), filter=Q(occurred_at__gte=year_start)),
        )
        .order_by()
    )
    for row in money:
        groups[row["g"]].update(lifetime=row["lifetime"], period_revenue=row["period"])
    for row in (
        Interaction.objects.filter(
            segment.customer_q("customer__"),
            occurred_at__gte=year_start,
            occurred_at__lt=local_midnight(end + dt.timedelta(days=1)),
        )
        .annotate(g=flag("customer_id"))
        .values("g")
        .annotate(n=Count("id"))
        .order_by()
    ):
        groups[row["g"]]["interactions"] = row["n"]
    live = _counted_subscriptions(segment, rules).filter(
        Q(started_at__lte=end), Q(ended_at__isnull=True) | Q(ended_at__gt=end)
    )
    for row in (
        live.annotate(g=flag("customer_id"))
        .values("g")
        .annotate(**_amounts_by_interval())
        .order_by()
    ):
        groups[row["g"]]["mrr"] = _mrr_of(row)
    total_revenue = sum((g.get("period_revenue") or ZERO) for g in groups.values())
    out = []
    for is_active, label in ((True, "active"), (False, "non_active")):
        g = groups[is_active]
        n = g.get("customers", 0)
        period_revenue = g.get("period_revenue") or ZERO
        out.append(
            {
                "group": label,
                "customers": n,
                "avg_score": round(float(g["score"]), 1) if g.get("score") is not None else None,
                "revenue": period_revenue.quantize(Decimal("0.01")),
                "revenue_share": _ratio(period_revenue, total_revenue),
                "clv": ((g.get("lifetime") or ZERO) / n).quantize(Decimal("0.01")) if n else None,
                "interactions_per_customer": round(g.get("interactions", 0) / n, 2) if n else None,
                "mrr": (g.get("mrr") or ZERO).quantize(Decimal("0.01")),
            }
        )
    return out


@dataclass
class Dashboard:
    period: Period
    segment: Segment
    now: dict = field(default_factory=dict)
    headline: dict = field(default_factory=dict)
    activity: list = field(default_factory=list)
    stickiness: list = field(default_factory=list)
    lifecycle: list = field(default_factory=list)
    status: dict = field(default_factory=dict)
    types: list = field(default_factory=list)
    activation: list = field(default_factory=list)
    mrr: list = field(default_factory=list)
    revenue: list = field(default_factory=list)
    cohorts: list = field(default_factory=list)
    comparison: list = field(default_factory=list)
    refresh: object = None  # the MetricRefresh the rolled-up panels came from, if any


def dashboard(*, period: Period, segment: Segment = Segment()) -> Dashboard:
    """Every figure of the engagement dashboard for one period and segment."""
    from engagement import metrics_rollup as rollup

    rules = active_rule_set()
    # The latest rollup refresh, read once for every panel.
    kw = {"period": period, "segment": segment, "refresh": rollup.usable_refresh(rules=rules)}
    status = status_history(period=period, segment=segment)
    return Dashboard(
        period=period,
        segment=segment,
        now=current_segments(segment=segment),
        headline=answer("headline", **kw),
        activity=answer("activity", **kw),
        stickiness=answer("stickiness", **kw),
        lifecycle=answer("lifecycle", **kw),
        status=status,
        types=type_history(period=period, segment=segment),
        activation=answer("activation", **kw, rules=rules),
        mrr=mrr(period=period, segment=segment, rules=rules),
        revenue=revenue(period=period, segment=segment),
        cohorts=answer("cohorts", **kw),
        comparison=answer("comparison", **kw, rules=rules),
        refresh=kw["refresh"],
    )


_FETCH = object()


def answer(name: str, *, period: Period, segment: Segment = Segment(), rules=None, refresh=_FETCH):
    """One figure, from the rollups when the latest refresh covers the period (see
    engagement.metrics_rollup), else computed live. Both give the same numbers."""
    from engagement import metrics_rollup as rollup

    if refresh is _FETCH:
        refresh = rollup.usable_refresh()
    if rollup.covers(name, period, refresh):
        if name == "headline":
            return rollup.headline_activity(end=period.end, segment=segment)
        if name == "comparison":
            return rollup.comparison(segment=segment)
        return getattr(rollup, name)(period=period, segment=segment)
    if name == "headline":
        return headline_activity(end=period.end, segment=segment)
    live = {
        "activity": activity,
        "lifecycle": lifecycle,
        "stickiness": stickiness,
        "cohorts": cohorts,
        "activation": activation,
        "comparison": active_comparison,
    }[name]
    extra = {"rules": rules} if name in ("activation", "comparison") else {}
    return live(period=period, segment=segment, **extra)


def month_days_elapsed(month: dt.date) -> int:
    """Days of a calendar month so far: all of them for a past month, none for a future one."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    return max(0, (min(last, timezone.localdate()) - month).days + 1)
