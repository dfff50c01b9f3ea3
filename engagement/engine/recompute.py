"""The whole-base recompute (stored results, history) and the rule preview (nothing written).

A batch of customer ids is classified and stored in SQL, with no row in Python: figures from
the set-based aggregates (engagement.engine.figures.stored_figures_sql), classified by the
rules restated as SQL expressions (engagement.engine.classification_sql, held equal to the
reference, classification.classify, by the property-based tests), staged in a session-private
table beside what is stored for them (one join per batch). From the stage alone, in the same
transaction: the summary's counts, the status-history and type-change rows (new against
stored, set-based), then the results: an UPDATE of the unindexed columns where nothing
indexed moved and one upsert for the rest, or, when none of the batch's customers is stored
yet (a first run), one plain INSERT. Memory stays flat whatever the customer count. Reasons
are not stored: the live path words them on read.

Each batch is one transaction. A crash leaves finished batches new and unfinished ones as they
were, never a half-written batch. The whole run holds engagement.engine.locks.recompute_lock,
so two recomputes cannot interleave.

RFM scores are quintiles (NTILE(5)) across every stored result, set by one UPDATE after a
full recompute; a partial recompute (customer_ids) keeps the stored ones.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from engagement.engine.classification import classify
from engagement.engine.classification_sql import classified_sql
from engagement.engine.figures import batch_figures, stored_figures_params, stored_figures_sql
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
RESULTS = EngagementResult._meta.db_table

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
_NEW_ONLY = ["r_score", "f_score", "m_score"]  # 1 until the RFM pass ranks the customer

# A batch's new results are staged in a session-private table (the results' columns), so
# the history can compare them with the stored ones before the upsert overwrites those.
STAGE = "engagement_result_stage"


def _stage_sql() -> list[str]:
    """Make the stage if this session has none, and empty it."""
    columns = ", ".join(
        _COLUMNS + _NEW_ONLY + [f"{col} AS {alias}" for alias, col in _STORED_COLUMNS.items()]
    )
    flag = f"customer_id IS NULL AS {SAME_INDEXED}"  # a boolean column, to be filled
    pg = connection.vendor == "postgresql"
    return [
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} AS SELECT {columns}, {flag} FROM {RESULTS} "
        + ("WITH NO DATA" if pg else "WHERE 0"),
        f"TRUNCATE {STAGE}" if pg else f"DELETE FROM {STAGE}",
    ]


def stage_insert_sql(rules: Rules, only=None) -> str:
    """Classify every customer with lo <= id <= hi (and in `only`) into the stage, beside
    what is stored for them. Binds figures.stored_figures_params, %(rule_set)s, %(as_of)s,
    %(now)s, %(lo)s and %(hi)s."""
    extra = {
        "rule_set_id": "%(rule_set)s",
        "as_of": "%(as_of)s",
        "computed_at": "%(now)s",
        **{column: "1" for column in _NEW_ONLY},
    }
    columns = _COLUMNS + _NEW_ONLY
    figures = stored_figures_sql(rules, only)
    classified = classified_sql(rules, figures, columns, extra)
    stored = [f"o.{col}" for col in _STORED_COLUMNS.values()]
    return (
        f"INSERT INTO {STAGE} ({', '.join(columns + list(_STORED_COLUMNS))}, {SAME_INDEXED}) "
        f"SELECT {', '.join(f'n.{col}' for col in columns)}, {', '.join(stored)}, "
        f"COALESCE(o.customer_id IS NOT NULL AND {_SAME_INDEXED}, FALSE) "
        f"FROM ({classified}) n "
        f"LEFT JOIN {RESULTS} o ON o.customer_id = n.customer_id AND {_IN_BATCH}"
    )


# The stored side is read for the batch's ids alone (binds %(lo)s and %(hi)s): the stage has
# no statistics, and without the range PostgreSQL hashed every stored result once per
# statement of every batch, a cost growing with the base (quadratic over a whole run).
_IN_BATCH = "o.customer_id BETWEEN %(lo)s AND %(hi)s"
# What is stored for each staged customer (NULL: none), read by the stage's own INSERT, so
# the counts, the history and type changes and the choice of write below read the stage
# alone: one join with the stored results per batch where there were four.
_STORED_COLUMNS = {
    "o_status": "status",
    **{f"o_{col}": col for col in TYPE_FIELDS.values()},
}
# True where a customer is stored and none of their indexed columns moves.
SAME_INDEXED = "same_indexed"
_TYPES_DIFFER = " OR ".join(f"n.o_{column} <> n.{column}" for column in TYPE_FIELDS.values())
_NONE_STORED = "n.o_status IS NULL"


def _sum(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


# Per (old status, new status): customers, changed ones, and per type: holders, gains, losses.
COUNTS_SQL = (
    "SELECT COALESCE(n.o_status, ''), n.status, COUNT(*), "
    + _sum(f"{_NONE_STORED} OR n.o_status <> n.status OR {_TYPES_DIFFER}")
    + "".join(
        f", {_sum(f'n.{c}')}, {_sum(f'n.{c} AND ({_NONE_STORED} OR NOT n.o_{c})')}"
        f", {_sum(f'n.o_{c} AND NOT n.{c}')}"
        for c in TYPE_FIELDS.values()
    )
    + f" FROM {STAGE} n GROUP BY COALESCE(n.o_status, ''), n.status"
)
CHANGE_COLUMNS = {
    "history": ("customer_id", "from_status", "to_status", "as_of", "changed_at", "rule_set_id"),
    "types": ("customer_id", "customer_type", "gained", "as_of", "changed_at", "rule_set_id"),
}
HISTORY_FROM_STAGE_SQL = (
    f"INSERT INTO {StatusHistory._meta.db_table} ({', '.join(CHANGE_COLUMNS['history'])}) "
    "SELECT n.customer_id, COALESCE(n.o_status, ''), n.status, n.as_of, n.computed_at, "
    f"n.rule_set_id FROM {STAGE} n "
    f"WHERE {_NONE_STORED} OR n.o_status <> n.status ORDER BY n.customer_id"
)


def _type_flag(prefix: str) -> str:
    """The flag of the type named by t.column1, read from the columns `prefix` + type column."""
    whens = " ".join(f"WHEN '{code}' THEN {prefix}{c}" for code, c in TYPE_FIELDS.items())
    return f"CASE t.column1 {whens} END"


# A gain per type held now and not before (nothing stored: not before), a loss per type held
# before and not now; per customer, gains first, in the types' order.
_NEW_FLAG, _OLD_FLAG = _type_flag("n."), f"COALESCE({_type_flag('n.o_')}, FALSE)"
TYPE_CHANGES_FROM_STAGE_SQL = (
    f"INSERT INTO {TypeChange._meta.db_table} ({', '.join(CHANGE_COLUMNS['types'])}) "
    f"SELECT n.customer_id, t.column1, {_NEW_FLAG}, n.as_of, n.computed_at, n.rule_set_id "
    f"FROM {STAGE} n CROSS JOIN (VALUES "
    + ", ".join(f"('{code}', {i})" for i, code in enumerate(TYPE_FIELDS))
    + f") t WHERE {_NEW_FLAG} <> {_OLD_FLAG} "
    f"ORDER BY n.customer_id, CASE WHEN {_NEW_FLAG} THEN 0 ELSE 1 END, t.column2"
)
# Most nights a customer's indexed columns (list filters and sorts, partial indexes'
# conditions, foreign keys) stay as they were and only the day counts and figures move: those
# rows are written by an UPDATE that sets the other columns alone, which SQLite does without
# touching any index (an upsert setting every column rewrites each index entry, about three
# times the work). Correctness does not depend on this: a column taken for unindexed is still
# written, only slower.


def _indexed_columns() -> list[str]:
    """The result columns that the model's indexes hold, in the stored columns' order."""
    meta = EngagementResult._meta
    names = {field.name for field in meta.concrete_fields if field.db_index}
    for index in meta.indexes:
        names.update(name.removeprefix("-") for name in index.fields)
        if index.condition is not None:
            names.update(lookup for lookup, _ in index.condition.children)
    columns = {meta.get_field(name).column for name in names}
    return [col for col in _COLUMNS[1:] if col in columns]


_INDEXED = _indexed_columns()
_UNINDEXED = [col for col in _COLUMNS[1:] if col not in _INDEXED]
# Read by the stage's INSERT (n: the classified batch, o: the stored results).
_SAME_INDEXED = " AND ".join(
    f"(o.{col} = n.{col} OR (o.{col} IS NULL AND n.{col} IS NULL))" for col in _INDEXED
)
UPDATE_UNINDEXED_SQL = (
    f"UPDATE {RESULTS} AS o SET "
    + ", ".join(f"{col} = n.{col}" for col in _UNINDEXED)
    + f" FROM {STAGE} n WHERE o.customer_id = n.customer_id AND {_IN_BATCH} AND n.{SAME_INDEXED}"
)
# The rest (new customers, or an indexed column moved): one statement for both databases
# (SQLite >= 3.24 and PostgreSQL speak ON CONFLICT; SQLite needs a WHERE to parse it after a
# SELECT); r/f/m scores are left to the RFM pass.
UPSERT_FROM_STAGE_SQL = (
    f"INSERT INTO {RESULTS} ({', '.join(_COLUMNS + _NEW_ONLY)}) "
    f"SELECT {', '.join(f'n.{col}' for col in _COLUMNS + _NEW_ONLY)} FROM {STAGE} n "
    f"WHERE NOT n.{SAME_INDEXED} "
    "ON CONFLICT (customer_id) DO UPDATE SET "
    + ", ".join(f"{col} = excluded.{col}" for col in _COLUMNS[1:])
)
# A batch of customers none of whom has a stored result (a first run): a plain INSERT, with
# nothing to compare and no conflict to arbitrate per row. None is stored meanwhile: every
# writer of results holds engagement.engine.locks.recompute_lock.
INSERT_FROM_STAGE_SQL = (
    f"INSERT INTO {RESULTS} ({', '.join(_COLUMNS + _NEW_ONLY)}) "
    f"SELECT {', '.join(_COLUMNS + _NEW_ONLY)} FROM {STAGE}"
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
        for lo, hi, wanted in _ranges(customer_ids, batch_size, id_range):
            n, c = _recompute_batch(
                lo, hi, wanted, rule_set, rules, as_of, by_status, by_type, moves, type_moves
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


def _recompute_batch(lo, hi, wanted, rule_set, rules, as_of, by_status, by_type, moves, tmoves):
    """Classify and store the customers with lo <= id <= hi (and in `wanted`, when given), in
    one transaction; add to the summary's counters. Returns (customers, changed)."""
    params = {
        **stored_figures_params(rules, as_of, lo, hi),
        "rule_set": rule_set.pk,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    batch = {"lo": lo, "hi": hi}
    customers = changed = stored = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in _stage_sql():
            cursor.execute(sql)
        cursor.execute(stage_insert_sql(rules, sorted(wanted) if wanted else None), params)
        cursor.execute(COUNTS_SQL)
        for old, new, n, c, *per_type in cursor.fetchall():
            customers += n
            changed += c
            stored += n if old else 0
            by_status[new] += n
            if old != new:
                moves[(old, new)] += n
            for i, code in enumerate(TYPE_FIELDS):
                held, gained, lost = per_type[3 * i : 3 * i + 3]
                for counter, key, count in (
                    (by_type, code, held),
                    (tmoves, f"+{code}", gained),
                    (tmoves, f"-{code}", lost),
                ):
                    if count:
                        counter[key] += count
        cursor.execute(HISTORY_FROM_STAGE_SQL)
        cursor.execute(TYPE_CHANGES_FROM_STAGE_SQL)
        _store(cursor, batch, first=not stored)
    return customers, changed


def _store(cursor, batch: dict, first: bool) -> None:
    """The batch's results over the stored ones; `first`: none of its customers has a
    stored result."""
    if first:
        cursor.execute(INSERT_FROM_STAGE_SQL)
        return
    cursor.execute(UPDATE_UNINDEXED_SQL, batch)
    cursor.execute(UPSERT_FROM_STAGE_SQL)


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
