"""Local dates in SQL (engagement.engine.figures.local_date_sql) are zoneinfo's: PostgreSQL's
AT TIME ZONE, and on SQLite the first ten characters in UTC or the registered function in
any other zone, whose per-hour shortcut is exact around midnights and offset changes."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement.engine.figures import _UtcTextToLocalDate, local_date_params, local_date_sql
from tests.factories import CustomerFactory, InteractionFactory

ZONES = [
    "UTC",
    "Europe/Warsaw",
    "America/Sao_Paulo",
    "America/St_Johns",  # -03:30, its DST changes at 05:30 UTC: inside a UTC hour
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a half-hour DST
    "Pacific/Kiritimati",  # +14
]
instants = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1))


def _exact(naive_utc: dt.datetime, zone: str) -> dt.date:
    return naive_utc.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(zone)).date()


@settings(max_examples=500, deadline=None)
@given(moment=instants, zone=st.sampled_from(ZONES))
def test_the_sqlite_function_is_zoneinfo(moment, zone):
    convert = _UtcTextToLocalDate(zoneinfo.ZoneInfo(zone))
    assert convert(str(moment)) == _exact(moment, zone).isoformat()


@pytest.mark.parametrize("zone", ZONES)
def test_every_second_around_local_midnights_and_offset_changes(zone):
    tz = zoneinfo.ZoneInfo(zone)
    convert = _UtcTextToLocalDate(tz)
    edges = []
    for day in range(0, 366, 1):
        local = dt.datetime.combine(dt.date(2026, 1, 1) + dt.timedelta(days=day), dt.time.min)
        edges.append(local.replace(tzinfo=tz).astimezone(dt.UTC).replace(tzinfo=None))
    for hours in range(0, 366 * 24):  # offset changes: wherever the offset differs an hour on
        at = dt.datetime(2026, 1, 1) + dt.timedelta(hours=hours)
        if _offset(at, tz) != _offset(at + dt.timedelta(hours=1), tz):
            edges.append(at)
    for edge in edges:
        for seconds in (-61, -1, 0, 1, 59, 61):
            moment = edge + dt.timedelta(seconds=seconds)
            for value in (moment, moment.replace(microsecond=999_999)):
                assert convert(str(value)) == _exact(value, zone).isoformat(), value


def _offset(naive_utc, tz):
    return naive_utc.replace(tzinfo=dt.UTC).astimezone(tz).utcoffset()


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
def test_sql_local_dates_on_this_database(settings, zone):
    settings.TIME_ZONE = zone
    moments = [
        dt.datetime(2026, 3, 29, 0, 59, 59),
        dt.datetime(2026, 3, 29, 1, 0, 0),
        dt.datetime(2026, 10, 31, 23, 59, 59, 999_999),
        dt.datetime(2026, 11, 1, 5, 30),
        dt.datetime(2026, 6, 30, 10, 15),
        dt.datetime(2026, 6, 30, 18, 14, 59),
        dt.datetime(2026, 6, 30, 18, 15),
    ]
    customer = CustomerFactory()
    for moment in moments:
        InteractionFactory(customer=customer, occurred_at=moment.replace(tzinfo=dt.UTC))
    with timezone.override(zone), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT occurred_at, {local_date_sql('occurred_at')} FROM customers_interaction "
            "WHERE customer_id = %(pk)s ORDER BY occurred_at",
            {**local_date_params(), "pk": customer.pk},
        )
        got = [dt.date.fromisoformat(str(day)) for _at, day in cursor.fetchall()]
    assert got == [_exact(moment, zone) for moment in sorted(moments)]
