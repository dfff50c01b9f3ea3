"""Periods and segments of the engagement metrics, and the SQL helpers every family shares.

A `Period` buckets local dates (TIME_ZONE) by day, ISO week starting Monday, or calendar
month; a `Segment` narrows customers by owner, kind, country and industry (archived
customers never count). The metric families (activity, status, money) and the rollups
build on these; see docs/definitions.md, "Metrics".
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import DateField, Q
from django.db.models.functions import Trunc
from django.utils import timezone

from crm.params import check_day
from customers import kinds
from customers.models import Customer
from engagement.engine.figures import local_day_start

UNITS = ("day", "week", "month")
MAX_BUCKETS = 800
DEFAULT_SPAN = {"day": 30, "week": 12, "month": 12}


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
        end_day = parse_date("end", end) if end else (today or timezone.localdate())
        if start:
            start_day = parse_date("start", start)
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


def parse_date(name, value) -> dt.date:
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


# Every current customer: the default segment.
EVERYONE = Segment()


def sql_midnight(day: dt.date):
    """local_day_start as a raw SQL parameter (SQLite stores naive UTC text: convert first)."""
    return connection.ops.adapt_datetimefield_value(local_day_start(day))


# --- SQL helpers ------------------------------------------------------------------------------


def tzname() -> str:
    return timezone.get_current_timezone_name()


def bucket_sql(unit: str, column: str, *, local: bool) -> tuple[str, list]:
    """SQL giving the start date of the `unit` bucket of `column` (local date when `local`)."""
    tz = tzname() if local else None
    sql, params = connection.ops.date_trunc_sql(unit, column, (), tz)
    if connection.vendor == "postgresql":
        sql = f"CAST({sql} AS date)"
    return sql, list(params)


def as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def calendar_cte(buckets: list[dt.date], unit: str) -> tuple[str, list]:
    rows, params = [], []
    for idx, start in enumerate(buckets):
        rows.append("(%s, %s, %s)")
        params += [idx, start, next_bucket(start, unit)]
    cast = "CAST(%s AS integer), CAST(%s AS date), CAST(%s AS date)"
    if connection.vendor == "postgresql":
        rows = [f"({cast})"] * len(buckets)
    return f"cal(idx, bstart, bnext) AS (VALUES {', '.join(rows)})", params


def pairs_cte(unit: str, lo: dt.date, hi: dt.date, segment: Segment) -> tuple[str, list]:
    """Distinct (customer, bucket) of customer activity with local dates in [lo, hi)."""
    bucket, bparams = bucket_sql(unit, "i.occurred_at", local=True)
    where, wparams = segment.customer_sql("c")
    sql = (
        f"pairs AS (SELECT DISTINCT i.customer_id AS customer_id, {bucket} AS b, "
        f"c.customer_since AS since FROM customers_interaction i "
        f"JOIN customers_customer c ON c.id = i.customer_id "
        f"WHERE {kinds.activity_sql('i')} AND i.occurred_at >= %s AND i.occurred_at < %s "
        f"AND {where})"
    )
    return sql, [*bparams, sql_midnight(lo), sql_midnight(hi), *wparams]


def fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def trunc(field_name: str, unit: str, *, datetime_field: bool):
    if datetime_field:
        return Trunc(
            field_name, unit, output_field=DateField(), tzinfo=timezone.get_current_timezone()
        )
    return Trunc(field_name, unit, output_field=DateField())


def ratio(num, den, digits: int = 4) -> float | None:
    return round(float(num) / float(den), digits) if den else None


def month_days_elapsed(month: dt.date) -> int:
    """Days of a calendar month so far: all of them for a past month, none for a future one."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    return max(0, (min(last, timezone.localdate()) - month).days + 1)
