"""Database helpers both apps share."""

# SQLite refuses statements with too many parameters: `__in` lists stay below this.
IN_LIST_MAX = 900


def chunks(values, size: int = IN_LIST_MAX):
    """`values` in lists of at most `size`, in order."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
