"""Database helpers both apps share."""

# SQLite refuses statements with too many parameters: `__in` lists stay below this.
IN_LIST_MAX = 900


def chunks(values, size: int = IN_LIST_MAX):
    """`values` in lists of at most `size`, in order."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def copy_rows(raw_cursor, table: str, columns, rows) -> None:
    """PostgreSQL: COPY `rows` (tuples in `columns` order) into `table` through psycopg's raw
    cursor: one stream, not a statement per row."""
    if rows:
        with raw_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
