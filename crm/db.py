"""Database helpers both apps share.

`chunks`: `__in` lists cut to what SQLite accepts.

`analyze`, `analyze_if_stale`: planner statistics after bulk loads. PostgreSQL plans from
statistics that autovacuum refreshes in the background, up to a minute after a load and only
past 10% of a table. A bulk path (the demo seed, an import, a large API ingest) that is
followed at once by a heavy query (the dashboard rollups) would otherwise meet a plan made
for empty tables: a nested loop over 40,000 rows that takes minutes instead of a hash join
that takes a second. They run ANALYZE on the tables a bulk path touched, synchronously.
SQLite's planner needs no statistics, and the project's queries are tuned without them:
there they do nothing.
"""

import sqlite3

from django.db import DEFAULT_DB_ALIAS, connections

# An ingest refreshes statistics once this many rows changed since the last ANALYZE ...
ANALYZE_MIN_ROWS = 10_000
# ... and at least this share of the table (autovacuum's own default threshold).
ANALYZE_MIN_SHARE = 0.1
# SQLite refuses statements with too many parameters: `__in` lists stay below this.
IN_LIST_MAX = 900


def chunks(values, size: int = IN_LIST_MAX):
    """`values` in lists of at most `size`, in order."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _tables(models) -> list[str]:
    return list(dict.fromkeys(model._meta.db_table for model in models))


def analyze(*models, using: str = DEFAULT_DB_ALIAS) -> None:
    """ANALYZE the tables of `models` now (PostgreSQL; nothing elsewhere)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not models:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(t) for t in _tables(models)))


def stale(
    *models, using: str = DEFAULT_DB_ALIAS, min_rows: int | None = None, pending: int = 0
) -> list:
    """The models whose tables changed by `min_rows` rows and a tenth of their size since
    their statistics were taken (PostgreSQL's counters; nothing elsewhere). `pending`: rows
    the caller just wrote, which the counters may not show yet (they lag a commit)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not models:
        return []
    min_rows = ANALYZE_MIN_ROWS if min_rows is None else min_rows
    by_table = {model._meta.db_table: model for model in models}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname, s.n_mod_since_analyze, GREATEST(c.reltuples, 0)"
            " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.schemaname = current_schema() AND s.relname = ANY(%s)",
            [list(by_table)],
        )
        rows = cursor.fetchall()
    return [
        by_table[table]
        for table, changed, size in rows
        if changed + pending >= min_rows and changed + pending >= ANALYZE_MIN_SHARE * size
    ]


def analyze_if_stale(
    *models, using: str = DEFAULT_DB_ALIAS, min_rows: int | None = None, pending: int = 0
) -> list:
    """After a bulk write: ANALYZE the tables it made stale (see `stale`). Answers them."""
    tables = stale(*models, using=using, min_rows=min_rows, pending=pending)
    analyze(*tables, using=using)
    return tables


def params_max(connection) -> int:
    """How many parameters one statement may carry on this connection.

    IN_LIST_MAX is the floor every SQLite build accepts; SQLite >= 3.32 allows 32,766
    (Debian's build 250,000) and PostgreSQL 65,535, so a set-based check of a 5,000-row
    batch can be one statement.
    """
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    if connection.vendor == "postgresql":
        return 65_535
    return IN_LIST_MAX


def copy_rows(raw_cursor, table: str, columns, rows) -> None:
    """PostgreSQL: COPY `rows` (tuples in `columns` order) into `table` through psycopg's raw
    cursor: one stream, not a statement per row."""
    if rows:
        with raw_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
