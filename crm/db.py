"""Database helpers both apps share."""

import sqlite3

# SQLite refuses statements with too many parameters: `__in` lists stay below this.
IN_LIST_MAX = 900


def chunks(values, size: int = IN_LIST_MAX):
    """`values` in lists of at most `size`, in order."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


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
