"""A customer's figures (engagement.engine.classification.Figures) as of a day D, from the
database.

Two independent ways, held against each other by
tests/engagement/engine/test_hypothesis_live_vs_stored.py:

- `customer_figures`: one customer (the live path), from that customer's rows read through the
  (customer, occurred_at) index and folded in Python over local dates.
- `batch_figures_sql` / `row_to_figures`: every customer of an id range at once, as set-based
  SQL aggregates grouped by customer (the rule preview and the benchmark floor), turned into
  Figures in Python; `stored_figures_sql`: the same aggregates turned into the stored columns
  in SQL (the recompute, which classifies them in SQL: engagement.engine.classification_sql).

Time zones: "within N days" is about local dates in the site's TIME_ZONE. The SQL never
converts timestamps: every window "local date >= D - N" is turned, in Python, into the UTC
instant where that local day starts (zoneinfo, so DST is right), and the SQL compares
occurred_at with it. That is correct on SQLite (timestamps stored in UTC text) and on
PostgreSQL (timestamptz) for any TIME_ZONE, and keeps the comparisons index-friendly. The
only timestamps read back (the latest/earliest ones, after aggregation: a few per customer)
are converted to local dates: in Python (row_to_figures) or in SQL (local_date_sql:
AT TIME ZONE on PostgreSQL; on SQLite the UTC text's date, or Django's zoneinfo function
for another zone).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from customers import kinds
from customers.models import Customer, Interaction, Subscription
from engagement.engine.classification import (
    ACTIVITY_WINDOW_DAYS,
    CHANNEL_WINDOW_DAYS,
    REVENUE_WINDOW_DAYS,
    Figures,
)
from engagement.engine.rules import Rules
from engagement.engine.subscriptions import is_live, live_sql, monthly_recurring

INTERACTIONS = Interaction._meta.db_table
SUBSCRIPTIONS = Subscription._meta.db_table
CUSTOMERS = Customer._meta.db_table
PRODUCTS = Subscription._meta.get_field("product").related_model._meta.db_table


def local_day_start(day: dt.date) -> dt.datetime:
    """The aware instant at which local `day` starts in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def local_date(value) -> dt.date:
    return timezone.localtime(_aware(value)).date()


def _aware(value) -> dt.datetime:
    if isinstance(value, str):  # SQLite hands raw timestamps back as UTC text
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value


def _date(value) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Bounds:
    """The UTC instants where each window of D starts (a window is "local date >= D - N")."""

    as_of: dt.date
    end: dt.datetime  # start of D + 1: events on or after it are in the future
    window: dt.datetime  # start of D - active_days + 1: the active window (D - active_days, D]
    loyal: dt.datetime
    support: dt.datetime
    contact: dt.datetime
    year: dt.datetime
    channels: dt.datetime

    @classmethod
    def of(cls, rules: Rules, as_of: dt.date) -> Bounds:
        def start(days_back: int) -> dt.datetime:
            return local_day_start(as_of - dt.timedelta(days=days_back))

        return cls(
            as_of=as_of,
            end=start(-1),
            window=start(rules.active_days - 1),
            loyal=start(rules.loyal_window_days),
            support=start(rules.support_window_days),
            contact=start(rules.contact_window_days),
            year=start(ACTIVITY_WINDOW_DAYS),
            channels=start(CHANNEL_WINDOW_DAYS),
        )

    def params(self) -> dict:
        adapt = connection.ops.adapt_datetimefield_value
        return {
            "as_of": connection.ops.adapt_datefield_value(self.as_of),
            "end": adapt(self.end),
            "win": adapt(self.window),
            "loyal": adapt(self.loyal),
            "support": adapt(self.support),
            "contact": adapt(self.contact),
            "year": adapt(self.year),
            "channels": adapt(self.channels),
        }


# --- one customer (the live path) -------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """One customer's events (kind, direction, local date, amount) and subscription rows up
    to a day: enough for their figures as of that day or any earlier one."""

    customer_since: dt.date
    events: list
    subscriptions: list

    def figures(self, rules: Rules, as_of: dt.date) -> Figures:
        return figures_from_events(
            customer_since=self.customer_since,
            events=self.events,
            subscriptions=self.subscriptions,
            rules=rules,
            as_of=as_of,
        )


def customer_history(customer_id: int, until: dt.date) -> History | None:
    """The customer's rows up to local day `until`, or None when there is no such customer.
    3 queries."""
    since = Customer.objects.filter(pk=customer_id).values_list("customer_since", flat=True).first()
    if since is None:
        return None
    end = local_day_start(until + dt.timedelta(days=1))
    events = Interaction.objects.filter(customer_id=customer_id, occurred_at__lt=end)
    events = events.values_list("kind", "direction", "occurred_at", "amount")
    subscriptions = Subscription.objects.filter(
        customer_id=customer_id, started_at__lte=until
    ).values_list("status", "started_at", "ended_at", "amount", "interval", "product__kind")
    return History(
        customer_since=since,
        events=[(k, d, local_date(t), a) for k, d, t, a in events],
        subscriptions=list(subscriptions),
    )


def customer_figures(customer_id: int, rules: Rules, as_of: dt.date) -> Figures | None:
    """Figures of one customer as of `as_of`, or None when there is no such customer. 3 queries."""
    history = customer_history(customer_id, as_of)
    return None if history is None else history.figures(rules, as_of)


def figures_from_events(*, customer_since, events, subscriptions, rules: Rules, as_of) -> Figures:
    """Fold (kind, direction, local date, amount) events and subscription rows into Figures."""

    def within(day, days):
        return 0 <= (as_of - day).days <= days

    activity, purchases = [], []
    loyal = support = contact = activity_365 = 0
    channels = set()
    revenue = Decimal("0.00")
    for kind, direction, day, amount in events:
        if day > as_of:
            continue
        direction = direction or kinds.default_direction(kind)
        if kinds.is_activity(kind, direction):
            activity.append(day)
            if within(day, ACTIVITY_WINDOW_DAYS):
                activity_365 += 1
            if within(day, CHANNEL_WINDOW_DAYS):
                channels.add(kind)
            if kinds.is_communication_activity(kind, direction) and within(
                day, rules.contact_window_days
            ):
                contact += 1
        if kind == kinds.PURCHASE:
            purchases.append(day)
            if within(day, rules.loyal_window_days):
                loyal += 1
            if within(day, REVENUE_WINDOW_DAYS):
                revenue += Decimal(amount or 0)
        elif kind == kinds.REFUND and within(day, REVENUE_WINDOW_DAYS):
            revenue -= Decimal(amount or 0)
        if kind == kinds.SUPPORT and within(day, rules.support_window_days):
            support += 1
    window_start = as_of - dt.timedelta(days=rules.active_days)  # the window is (this, D]
    before = [d for d in activity if d <= window_start]
    inside = [d for d in activity if d > window_start]

    product = service = 0
    oldest = None
    monthly = yearly = Decimal("0")
    for status, started, ended, amount, interval, product_kind in subscriptions:
        if not is_live(status, started, ended, rules, as_of):
            continue
        if product_kind == "service":
            service += 1
        else:
            product += 1
        oldest = started if oldest is None else min(oldest, started)
        if interval == Subscription.Interval.YEAR:
            yearly += Decimal(amount or 0)
        else:
            monthly += Decimal(amount or 0)
    return Figures(
        customer_since=customer_since,
        last_activity_on=max(activity, default=None),
        prev_activity_on=max(before, default=None),
        first_window_activity_on=min(inside, default=None),
        last_purchase_on=max(purchases, default=None),
        first_purchase_on=min(purchases, default=None),
        loyal_purchases=loyal,
        support_interactions=support,
        contact_interactions=contact,
        activity_365=activity_365,
        channels_90=len(channels),
        revenue_365=revenue.quantize(Decimal("0.01")),
        live_product_subscriptions=product,
        live_service_subscriptions=service,
        oldest_live_subscription_on=oldest,
        mrr=monthly_recurring(monthly, yearly),
    )


# --- the whole base (set-based SQL) -----------------------------------------------------------

ACT = kinds.activity_sql("i")
COMM = kinds.communication_activity_sql("i")


def _channels_sql() -> str:
    """How many distinct kinds of activity within the channel window.

    PostgreSQL sorts every customer's rows for a COUNT(DISTINCT ...) per group: at a million
    customers that sort was 40% of the aggregate. A flag per activity kind, summed, reads the
    same number without it. SQLite's distinct count is the cheaper of the two there.
    """
    recent = "i.occurred_at >= %(channels)s"
    if connection.vendor != "postgresql":
        return f"COUNT(DISTINCT i.kind) FILTER (WHERE {ACT} AND {recent})"
    inbound = f" AND i.direction = '{kinds.INBOUND}'"
    flags = [(kind, "") for kind in sorted(kinds.ACTIVITY_ANY_DIRECTION)] + [
        (kind, inbound) for kind in sorted(kinds.ACTIVITY_INBOUND_ONLY)
    ]
    return " + ".join(
        f"(CASE WHEN COUNT(*) FILTER (WHERE {recent} AND i.kind = '{kind}'{extra}) > 0"
        " THEN 1 ELSE 0 END)"
        for kind, extra in flags
    )


def interaction_aggregate_sql(where: str) -> str:
    """Per-customer interaction figures; `where` restricts customer_id (e.g. an id range).

    Money is summed in cents (integers) so SQLite's floating point cannot round it. Every
    figure is an aggregate with a FILTER: a row outside it costs no call of the aggregate
    (with CASE ... ELSE 0 every row was summed), 12-40% of the aggregate's time.
    """
    return f"""
        SELECT i.customer_id AS customer_id,
          MAX(i.occurred_at) FILTER (WHERE {ACT}) AS last_act,
          MAX(i.occurred_at) FILTER (WHERE {ACT} AND i.occurred_at < %(win)s) AS prev_act,
          MIN(i.occurred_at) FILTER (WHERE {ACT} AND i.occurred_at >= %(win)s) AS first_win,
          MAX(i.occurred_at) FILTER (WHERE i.kind = 'purchase') AS last_purchase,
          MIN(i.occurred_at) FILTER (WHERE i.kind = 'purchase') AS first_purchase,
          COUNT(*) FILTER (WHERE i.kind = 'purchase' AND i.occurred_at >= %(loyal)s)
            AS loyal_purchases,
          COUNT(*) FILTER (WHERE i.kind = 'support' AND i.occurred_at >= %(support)s)
            AS support_n,
          COUNT(*) FILTER (WHERE {COMM} AND i.occurred_at >= %(contact)s) AS contact_n,
          COUNT(*) FILTER (WHERE {ACT} AND i.occurred_at >= %(year)s) AS activity_365,
          {_channels_sql()} AS channels_90,
          COALESCE(SUM(ROUND(i.amount * 100)) FILTER (
            WHERE i.occurred_at >= %(year)s AND i.kind = 'purchase'), 0)
          - COALESCE(SUM(ROUND(i.amount * 100)) FILTER (
            WHERE i.occurred_at >= %(year)s AND i.kind = 'refund'), 0) AS revenue_cents
        FROM {INTERACTIONS} i
        WHERE {where} AND i.occurred_at < %(end)s
        GROUP BY i.customer_id
    """


def subscription_aggregate_sql(where: str, rules: Rules) -> str:
    return f"""
        SELECT s.customer_id AS customer_id,
          SUM(CASE WHEN p.kind = 'service' THEN 0 ELSE 1 END) AS live_product,
          SUM(CASE WHEN p.kind = 'service' THEN 1 ELSE 0 END) AS live_service,
          MIN(s.started_at) AS oldest_live,
          SUM(CASE WHEN s."interval" = 'year' THEN 0 ELSE ROUND(s.amount * 100) END)
            AS monthly_cents,
          SUM(CASE WHEN s."interval" = 'year' THEN ROUND(s.amount * 100) ELSE 0 END) AS yearly_cents
        FROM {SUBSCRIPTIONS} s JOIN {PRODUCTS} p ON p.id = s.product_id
        WHERE {where} AND {live_sql("s", rules, "%(as_of)s")}
        GROUP BY s.customer_id
    """


def in_range(alias: str) -> str:
    return f"{alias}.customer_id BETWEEN %(lo)s AND %(hi)s"


def _batch_from(rules: Rules, only=None) -> str:
    """Every customer with lo <= id <= hi (and in `only`, ids, when given) as `c`, its
    interaction aggregates as `ia` and its subscription aggregates as `sa`."""
    ids = ", ".join(str(int(pk)) for pk in only or ())
    wanted = f" AND c.id IN ({ids})" if ids else ""

    def where(alias: str) -> str:
        # The aggregates read the wanted customers' rows alone: a refresh of scattered ids
        # (a range of 5,000 ids holding 50 of them) would otherwise aggregate all 5,000.
        return f"{alias}.customer_id IN ({ids})" if ids else in_range(alias)

    return f"""
        FROM {CUSTOMERS} c
        LEFT JOIN ({interaction_aggregate_sql(where("i"))}) ia
          ON ia.customer_id = c.id
        LEFT JOIN ({subscription_aggregate_sql(where("s"), rules)}) sa
          ON sa.customer_id = c.id
        WHERE c.id BETWEEN %(lo)s AND %(hi)s{wanted}
    """


def batch_figures_sql(rules: Rules) -> str:
    """Every customer with lo <= id <= hi, with its interaction and subscription aggregates."""
    return f"""
        SELECT c.id, c.customer_since, ia.last_act, ia.prev_act, ia.first_win, ia.last_purchase,
          ia.first_purchase, ia.loyal_purchases, ia.support_n, ia.contact_n, ia.activity_365,
          ia.channels_90, ia.revenue_cents, sa.live_product, sa.live_service, sa.oldest_live,
          sa.monthly_cents, sa.yearly_cents
        {_batch_from(rules)}
        ORDER BY c.id
    """


# --- the same figures as columns, converted in SQL (the recompute: no Python per row) ----------


def _is_utc(tz) -> bool:
    return str(tz) in ("UTC", "Etc/UTC")


def local_date_sql(expr: str) -> str:
    """SQL: the local date, in the current time zone, of the timestamp `expr` (NULL stays
    NULL); binds %(tz)s (local_date_params)."""
    if connection.vendor == "postgresql":
        return f"CAST(({expr}) AT TIME ZONE %(tz)s AS date)"
    if _is_utc(timezone.get_current_timezone()):
        return f"substr({expr}, 1, 10)"  # SQLite's UTC text: the date is its first ten characters
    _ensure_local_date_function()
    return f"{LOCAL_DATE_FUNCTION}({expr}, %(tz)s)"


def local_date_params() -> dict:
    return {"tz": str(timezone.get_current_timezone())}


# SQLite has no time zones: a Python function converts there, registered on the connection.
LOCAL_DATE_FUNCTION = "engagement_local_date"


def _ensure_local_date_function() -> None:
    connection.ensure_connection()
    raw = connection.connection
    if getattr(connection, "_engagement_local_date_on", None) is not raw:
        raw.create_function(LOCAL_DATE_FUNCTION, 2, _sqlite_local_date, deterministic=True)
        connection._engagement_local_date_on = raw  # this raw connection has it


def _sqlite_local_date(value, tzname):
    return None if value is None else _converter(tzname)(value)


@functools.lru_cache(maxsize=8)
def _converter(tzname: str) -> _UtcTextToLocalDate:
    return _UtcTextToLocalDate(zoneinfo.ZoneInfo(tzname))


class _UtcTextToLocalDate:
    """SQLite's UTC timestamp text ("YYYY-MM-DD HH:MM:SS[.ffffff]") -> local date text, exact
    (zoneinfo) and cheap: worked out once per UTC hour of the timestamps (the local date of
    the hour, and the "MM:SS" where local midnight falls inside it, if it does); a timestamp
    costs a lookup and a comparison, or the full conversion in an hour the offset changes."""

    MAX_HOURS = 200_000  # about 23 years of distinct hours; then the cache starts over

    def __init__(self, tz):
        self.tz = tz
        # UTC hour -> (local date, "MM:SS" of local midnight or None, local date from it),
        # or None when the offset changes within the hour.
        self.hours: dict[str, tuple | None] = {}

    def exact(self, value: str) -> str:
        moment = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        return moment.astimezone(self.tz).date().isoformat()

    def hour(self, hour: str) -> tuple | None:
        start = dt.datetime.fromisoformat(hour + ":00").replace(tzinfo=dt.UTC)
        end = start + dt.timedelta(minutes=59, seconds=59)
        first, last = start.astimezone(self.tz), end.astimezone(self.tz)
        if first.utcoffset() != last.utcoffset():
            return None
        if first.date() == last.date():
            return first.date().isoformat(), None, None
        midnight = dt.datetime.combine(last.date(), dt.time.min) - first.utcoffset()
        boundary = f"{midnight.minute:02d}:{midnight.second:02d}"
        return first.date().isoformat(), boundary, last.date().isoformat()

    def __call__(self, value: str) -> str:
        key = value[:13]
        try:
            entry = self.hours[key]
        except KeyError:
            if len(self.hours) > self.MAX_HOURS:
                self.hours.clear()
            try:
                entry = self.hours[key] = self.hour(key)
            except ValueError:
                return self.exact(value)
        if entry is None or len(value) < 19:
            return self.exact(value)
        before, boundary, after = entry
        if boundary is None or value[14:19] < boundary:
            return before
        return after


def days_between_sql(later: str, earlier: str) -> str:
    """SQL: whole days from the date `earlier` to the date `later` (negative when before)."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    # Julian days of two dates are both x.5: their difference is an exact integer.
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def stored_figures_sql(rules: Rules, only=None) -> str:
    """The figures of every customer with lo <= id <= hi (and in `only`), as the columns
    EngagementResult stores them, from the same aggregates as batch_figures_sql: local
    dates, counts, `revenue_cents` and `mrr_twelfths` (12 x MRR in cents, an integer, so
    the one rounding to cents happens in classification_sql like monthly_recurring's)."""
    d = local_date_sql
    return f"""
        SELECT c.id AS customer_id, c.customer_since AS customer_since,
          {d("ia.last_act")} AS last_activity_on,
          {d("ia.prev_act")} AS prev_activity_on,
          {d("ia.first_win")} AS first_window_activity_on,
          {d("ia.last_purchase")} AS last_purchase_on,
          {d("ia.first_purchase")} AS first_purchase_on,
          COALESCE(ia.loyal_purchases, 0) AS loyal_purchases,
          COALESCE(ia.support_n, 0) AS support_interactions,
          COALESCE(ia.contact_n, 0) AS contact_interactions,
          COALESCE(ia.activity_365, 0) AS activity_365,
          COALESCE(ia.channels_90, 0) AS channels_90,
          CAST(COALESCE(ia.revenue_cents, 0) AS BIGINT) AS revenue_cents,
          COALESCE(sa.live_product, 0) AS live_product_subscriptions,
          COALESCE(sa.live_service, 0) AS live_service_subscriptions,
          sa.oldest_live AS oldest_live_subscription_on,
          12 * CAST(COALESCE(sa.monthly_cents, 0) AS BIGINT)
            + CAST(COALESCE(sa.yearly_cents, 0) AS BIGINT) AS mrr_twelfths
        {_batch_from(rules, only)}
    """


def stored_figures_params(rules: Rules, as_of: dt.date, lo: int, hi: int) -> dict:
    return {**Bounds.of(rules, as_of).params(), **local_date_params(), "lo": lo, "hi": hi}


def _cents(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def _opt_local(value):
    return None if value is None else local_date(value)


def _local_dates(tz):
    """A fast timestamp -> local date converter for one batch (the zone looked up once)."""
    utc = _is_utc(tz)

    def convert(value):
        if value is None:
            return None
        if isinstance(value, str):
            if utc:  # SQLite's UTC text: the date is its first ten characters
                return dt.date.fromisoformat(value[:10])
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(tz).date()

    return convert


def row_to_figures(row, to_local=None) -> tuple[int, Figures]:
    (pk, since, last_act, prev_act, first_win, last_p, first_p, loyal, support, contact, act365,
     channels, revenue, product, service, oldest, monthly, yearly) = row  # fmt: skip
    to_local = to_local or _opt_local
    return pk, Figures(
        customer_since=_date(since),
        last_activity_on=to_local(last_act),
        prev_activity_on=to_local(prev_act),
        first_window_activity_on=to_local(first_win),
        last_purchase_on=to_local(last_p),
        first_purchase_on=to_local(first_p),
        loyal_purchases=int(loyal or 0),
        support_interactions=int(support or 0),
        contact_interactions=int(contact or 0),
        activity_365=int(act365 or 0),
        channels_90=int(channels or 0),
        revenue_365=_cents(revenue),
        live_product_subscriptions=int(product or 0),
        live_service_subscriptions=int(service or 0),
        oldest_live_subscription_on=_date(oldest),
        mrr=monthly_recurring(_cents(monthly), _cents(yearly)),
    )


def batch_figures(lo: int, hi: int, rules: Rules, as_of: dt.date):
    """(customer id, Figures) for every customer with lo <= id <= hi, in id order."""
    params = {**Bounds.of(rules, as_of).params(), "lo": lo, "hi": hi}
    with connection.cursor() as cursor:
        cursor.execute(batch_figures_sql(rules), params)
        rows = cursor.fetchall()
    to_local = _local_dates(timezone.get_current_timezone())
    return [row_to_figures(row, to_local) for row in rows]
