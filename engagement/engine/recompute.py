"""The whole-base recompute (stored results, history) and the rule preview (nothing written).

Figures come from set-based SQL per batch of customer ids (engagement.engine.figures); each
row is classified by engagement.engine.classification.classify (the one statement of the
rules), streamed: only one batch is ever held in Python, so memory stays flat whatever the
customer count.

Each batch is one transaction: upsert of its results plus its history rows. A crash leaves
finished batches new and unfinished ones as they were, never a half-written batch. The whole
run holds engagement.engine.locks.recompute_lock, so two recomputes cannot interleave.

RFM scores are quintiles (NTILE(5)) across every stored result, set by one UPDATE after a
full recompute; a partial recompute (customer_ids) keeps the stored ones.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.utils import timezone

from customers.models import Customer
from engagement.engine.classification import classify
from engagement.engine.figures import batch_figures
from engagement.engine.locks import recompute_lock
from engagement.engine.rule_sets import current_rules, rule_set_ensure
from engagement.engine.rules import Rules
from engagement.models.results import CustomerType, EngagementResult, StatusHistory, TypeChange

BATCH_SIZE = 5_000
# Sparse ids (a partial recompute) are grouped into ranges no wider than this.
MAX_GAP = 1_000

FIGURE_FIELDS = (
    "last_activity_on",
    "prev_activity_on",
    "first_window_activity_on",
    "last_purchase_on",
    "first_purchase_on",
    "loyal_purchases",
    "support_interactions",
    "contact_interactions",
    "activity_365",
    "channels_90",
    "revenue_365",
    "live_product_subscriptions",
    "live_service_subscriptions",
    "oldest_live_subscription_on",
    "mrr",
)
TYPE_FIELDS = EngagementResult.TYPE_FIELDS


_COLUMNS = [
    "customer_id",
    "status",
    "reactivated",
    *TYPE_FIELDS.values(),
    "score",
    "days_since_activity",
    *FIGURE_FIELDS,
    "rule_set_id",
    "as_of",
    "computed_at",
]
# One statement for both databases (SQLite >= 3.24 and PostgreSQL speak ON CONFLICT); r/f/m
# scores are left to the RFM pass. Raw, because the ORM's bulk upsert is limited to a few
# dozen rows per statement on SQLite and builds a model instance per row.
_NEW_ONLY = ["r_score", "f_score", "m_score"]  # 1 until the RFM pass ranks the customer
UPSERT_SQL = (
    f"INSERT INTO {EngagementResult._meta.db_table} ({', '.join(_COLUMNS + _NEW_ONLY)}) "
    f"VALUES ({', '.join(['%s'] * (len(_COLUMNS) + len(_NEW_ONLY)))}) "
    "ON CONFLICT (customer_id) DO UPDATE SET "
    + ", ".join(f"{col} = excluded.{col}" for col in _COLUMNS[1:])
)


_figure_values = operator.attrgetter(*FIGURE_FIELDS)
# SQLite stores dates and decimals as text: the positions of those figures.
_TEXT_ON_SQLITE = tuple(
    i
    for i, name in enumerate(FIGURE_FIELDS)
    if isinstance(EngagementResult._meta.get_field(name), models.DateField | models.DecimalField)
)


def _figure_row(figures, text_positions) -> list:
    """The stored figure columns of one customer, as plain values for the raw upsert."""
    values = list(_figure_values(figures))
    for i in text_positions:
        if values[i] is not None:
            values[i] = str(values[i])
    return values


# The stored status and type flags of an id range (raw: no model converters per row).
# PostgreSQL: a batch's results are copied into a session-private staging table, then
# upserted from it in one statement.
STAGE = "engagement_result_stage"
STAGE_SQL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} AS "
    f"SELECT {', '.join(_COLUMNS + _NEW_ONLY)} FROM {EngagementResult._meta.db_table} "
    "WITH NO DATA"
)
UPSERT_FROM_STAGE_SQL = (
    f"INSERT INTO {EngagementResult._meta.db_table} ({', '.join(_COLUMNS + _NEW_ONLY)}) "
    f"SELECT {', '.join(_COLUMNS + _NEW_ONLY)} FROM {STAGE} "
    "ON CONFLICT (customer_id) DO UPDATE SET "
    + ", ".join(f"{col} = excluded.{col}" for col in _COLUMNS[1:])
)
CHANGE_COLUMNS = {
    "history": ("customer_id", "from_status", "to_status", "as_of", "changed_at", "rule_set_id"),
    "types": ("customer_id", "customer_type", "gained", "as_of", "changed_at", "rule_set_id"),
}
OLD_RESULTS_SQL = (
    f"SELECT customer_id, status, {', '.join(TYPE_FIELDS.values())} "
    f"FROM {EngagementResult._meta.db_table} WHERE customer_id BETWEEN %s AND %s"
)
HISTORY_SQL = (
    f"INSERT INTO {StatusHistory._meta.db_table} ({', '.join(CHANGE_COLUMNS['history'])}) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
TYPE_CHANGE_SQL = (
    f"INSERT INTO {TypeChange._meta.db_table} ({', '.join(CHANGE_COLUMNS['types'])}) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


class RecomputeSummary(dict):
    """What a recompute did, as plain JSON-able values (a dict; keys readable as attributes).

    customers, changed, by_status {status: n}, by_type {type: n}, moves {"from->to": n}
    ("" is a customer without a stored result before), type_moves {"+type"/"-type": n},
    as_of (ISO date), rule_version, seconds.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error


@dataclass
class PreviewSummary:
    """How many customers a rule change would move, and a sample of them; nothing written."""

    as_of: dt.date
    customers: int = 0
    status_moves: list[dict] = field(default_factory=list)  # from_status, to_status, count, samples
    type_moves: list[dict] = field(default_factory=list)  # type, gained, count, samples


def _ranges(customer_ids, batch_size, id_range=None):
    """(lo, hi, wanted ids or None) batches over the given ids, an id range, or every customer."""
    if customer_ids is None:
        if id_range is not None:
            first, last = id_range
        else:
            bounds = Customer.objects.order_by().values_list("pk", flat=True)
            first = bounds.order_by("pk").first()
            last = bounds.order_by("-pk").first()
            if first is None:
                return
        for lo in range(first, last + 1, batch_size):
            yield lo, min(lo + batch_size - 1, last), None
        return
    ids = sorted({int(pk) for pk in customer_ids})
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] - ids[i - 1] > MAX_GAP or ids[i] - ids[start] >= batch_size:
            chunk = ids[start:i]
            yield chunk[0], chunk[-1], set(chunk)
            start = i


def engagement_recompute(
    *,
    as_of: dt.date | None = None,
    customer_ids=None,
    progress=None,
    batch_size=BATCH_SIZE,
    id_range: tuple[int, int] | None = None,
    rule_set=None,
) -> RecomputeSummary:
    """Recompute and store every customer's result (or just `customer_ids`) as of `as_of`.

    `id_range` (lo, hi): every customer with an id in it, one chunk of a full recompute fanned
    out over workers (engagement.workflow.runs): the lock is shared with the other chunks and
    the RFM pass is left to the run's end. `rule_set`: the version to apply (default the
    current one; a fanned-out run fixes it for all its chunks).
    `progress(done_customers, total_customers)` is called after each committed batch.
    """
    started = timezone.now()
    as_of = as_of or timezone.localdate()
    rule_set = rule_set or rule_set_ensure()
    rules = Rules.from_rule_set(rule_set)
    by_status, by_type, moves, type_moves = Counter(), Counter(), Counter(), Counter()
    customers = changed = 0
    if id_range is not None:
        total = Customer.objects.filter(pk__range=id_range).count()
    elif customer_ids is None:
        total = Customer.objects.count()
    else:
        total = len(set(customer_ids))
    with recompute_lock(shared=id_range is not None):
        batches = _with_figures(_ranges(customer_ids, batch_size, id_range), rules, as_of)
        for lo, hi, wanted, rows in batches:
            n, c = _recompute_batch(
                lo, hi, wanted, rows, rule_set, rules, as_of, by_status, by_type, moves, type_moves
            )
            customers += n
            changed += c
            if progress:
                progress(customers, total)
        if customer_ids is None and id_range is None:
            _store_rfm()
    return RecomputeSummary(
        customers=customers,
        changed=changed,
        by_status=dict(by_status),
        by_type=dict(by_type),
        moves={f"{a}->{b}": n for (a, b), n in sorted(moves.items())},
        type_moves=dict(type_moves),
        as_of=as_of.isoformat(),
        rule_version=rule_set.version,
        seconds=round((timezone.now() - started).total_seconds(), 3),
    )


def _with_figures(ranges, rules: Rules, as_of: dt.date):
    """(lo, hi, wanted, figures rows) per id range, in order.

    Outside a transaction, a second thread (its own database connection) reads the next
    range's figures while this one classifies and writes the current range: the aggregate
    runs in the database, with the GIL released, so the two overlap on two cores. Figures
    read only interactions, subscriptions and customers, never the results being written,
    so reading ahead changes nothing. Inside a transaction (a caller's, or a test's) the
    other connection could not see uncommitted rows: ranges are read one by one.
    """
    if not _can_read_ahead():
        for lo, hi, wanted in ranges:
            yield lo, hi, wanted, batch_figures(lo, hi, rules, as_of)
        return
    zone = timezone.get_current_timezone()

    def read(lo, hi):
        try:
            with timezone.override(zone):
                return batch_figures(lo, hi, rules, as_of)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=1) as pool:
        ranges = iter(ranges)
        ahead = next(ranges, None)
        future = pool.submit(read, *ahead[:2]) if ahead else None
        while ahead:
            current, rows = ahead, future.result()
            ahead = next(ranges, None)
            if ahead:
                future = pool.submit(read, *ahead[:2])
            yield (*current, rows)


def _can_read_ahead() -> bool:
    if connection.in_atomic_block:
        return False
    # A private in-memory SQLite database is invisible to another connection.
    name = str(connection.settings_dict["NAME"])
    return not (
        connection.vendor == "sqlite"
        and connection.is_in_memory_db()
        and "cache=shared" not in name
    )


def _recompute_batch(
    lo, hi, wanted, rows, rule_set, rules, as_of, by_status, by_type, moves, tmoves
):
    now = timezone.now()
    stored_now = connection.ops.adapt_datetimefield_value(now)
    stored_as_of = connection.ops.adapt_datefield_value(as_of)
    text_positions = _TEXT_ON_SQLITE if connection.vendor == "sqlite" else ()
    with transaction.atomic():
        if wanted is not None:
            rows = [(pk, f) for pk, f in rows if pk in wanted]
        with connection.cursor() as cursor:
            cursor.execute(OLD_RESULTS_SQL, [lo, hi])
            old = {row[0]: row[1:] for row in cursor.fetchall()}
        results, history, type_changes = [], [], []
        changed = 0
        for pk, figures in rows:
            c = classify(figures, rules, as_of, explain=False)
            by_status[c.status] += 1
            flags = {name: code in c.types for code, name in TYPE_FIELDS.items()}
            for code in c.types:
                by_type[code] += 1
            results.append(
                (
                    pk,
                    c.status,
                    c.reactivated,
                    *flags.values(),
                    c.score,
                    c.days_since_activity,
                    *_figure_row(figures, text_positions),
                    rule_set.pk,
                    stored_as_of,
                    stored_now,
                    1,
                    1,
                    1,
                )
            )
            before = old.get(pk)
            old_status = before[0] if before else ""
            old_types = (
                {code for code, held in zip(TYPE_FIELDS, before[1:], strict=True) if held}
                if before
                else set()
            )
            new_types = set(c.types)
            if old_status != c.status:
                moves[(old_status, c.status)] += 1
                history.append((pk, old_status, c.status, stored_as_of, stored_now, rule_set.pk))
            for code, gained in [(t, True) for t in new_types - old_types] + [
                (t, False) for t in old_types - new_types
            ]:
                tmoves[("+" if gained else "-") + code] += 1
                type_changes.append((pk, code, gained, stored_as_of, stored_now, rule_set.pk))
            if old_status != c.status or old_types != new_types:
                changed += 1
        _write(results, history, type_changes)
    return len(rows), changed


def _write(results, history, type_changes):
    """Store a batch: upsert its results, append its history and type-change rows."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY, not a statement per row: PostgreSQL would otherwise spend most of the
            # recompute on 5,000 round trips and parameter encodings per batch.
            raw = cursor.cursor
            cursor.execute(STAGE_SQL)
            cursor.execute(f"TRUNCATE {STAGE}")
            _copy(raw, STAGE, _COLUMNS + _NEW_ONLY, results)
            cursor.execute(UPSERT_FROM_STAGE_SQL)
            _copy(raw, StatusHistory._meta.db_table, CHANGE_COLUMNS["history"], history)
            _copy(raw, TypeChange._meta.db_table, CHANGE_COLUMNS["types"], type_changes)
            return
        for sql, values in (
            (UPSERT_SQL, results),
            (HISTORY_SQL, history),
            (TYPE_CHANGE_SQL, type_changes),
        ):
            if values:
                cursor.executemany(sql, values)


def _copy(raw_cursor, table: str, columns, rows):
    if rows:
        with raw_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


RFM_SQL = """
    UPDATE {table} SET r_score = q.r, f_score = q.f, m_score = q.m
    FROM (
      SELECT customer_id,
        NTILE(5) OVER (ORDER BY (last_activity_on IS NULL) DESC, days_since_activity DESC,
                       customer_id) AS r,
        NTILE(5) OVER (ORDER BY activity_365, customer_id) AS f,
        NTILE(5) OVER (ORDER BY revenue_365, customer_id) AS m
      FROM {table}
    ) q
    WHERE q.customer_id = {table}.customer_id
      AND ({table}.r_score <> q.r OR {table}.f_score <> q.f OR {table}.m_score <> q.m)
"""


def _store_rfm() -> None:
    """R, F and M (1-5) as quintiles of recency, activity in 365 days and revenue in 365 days."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RFM_SQL.format(table=EngagementResult._meta.db_table))


def engagement_store_rfm() -> None:
    """The RFM pass alone: after every chunk of a fanned-out full recompute is stored."""
    with recompute_lock(shared=True):
        _store_rfm()


def engagement_preview(
    *, rules: Rules, as_of: dt.date | None = None, sample_size: int = 10, batch_size=BATCH_SIZE
) -> PreviewSummary:
    """Who would move if `rules` replaced the active rules, as of `as_of`. Writes nothing."""
    as_of = as_of or timezone.localdate()
    current = current_rules()
    status_moves: dict[tuple, list] = defaultdict(lambda: [0, []])
    type_moves: dict[tuple, list] = defaultdict(lambda: [0, []])
    customers = 0
    for lo, hi, _ in _ranges(None, batch_size):
        before = batch_figures(lo, hi, current, as_of)
        after = batch_figures(lo, hi, rules, as_of)
        for (pk, f_old), (_pk, f_new) in zip(before, after, strict=True):
            customers += 1
            old = classify(f_old, current, as_of, explain=False)
            new = classify(f_new, rules, as_of, explain=False)
            if old.status != new.status:
                _count(status_moves[(old.status, new.status)], pk, sample_size)
            for code in set(new.types) - set(old.types):
                _count(type_moves[(code, True)], pk, sample_size)
            for code in set(old.types) - set(new.types):
                _count(type_moves[(code, False)], pk, sample_size)
    order = {code: i for i, code in enumerate(CustomerType.values)}
    return PreviewSummary(
        as_of=as_of,
        customers=customers,
        status_moves=[
            {"from_status": a, "to_status": b, "count": n, "samples": s}
            for (a, b), (n, s) in sorted(status_moves.items(), key=lambda kv: -kv[1][0])
        ],
        type_moves=[
            {"type": t, "gained": g, "count": n, "samples": s}
            for (t, g), (n, s) in sorted(
                type_moves.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])
            )
        ],
    )


def _count(slot, pk, sample_size):
    slot[0] += 1
    if len(slot[1]) < sample_size:
        slot[1].append(pk)
