"""Query parameters read by hand (admin pages, filters): an id or a day, or nothing.

`"²".isdigit()` is true and `int("²")` fails; an id past 2**63 - 1 overflows the database;
a day near year 1 or 9999 overflows the first date arithmetic done with it. These helpers
answer None (ids: the caller ignores the parameter) or raise a ValidationError naming the
parameter (days), so bad input never reaches a query or a calendar.
"""

import datetime as dt

from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1
# Days the product reasons about; outside them bucket and period arithmetic overflows.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def parse_id(value) -> int | None:
    """A record id from text: ASCII digits in the database's range, else None."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def check_day(name: str, day: dt.date) -> dt.date:
    """`day` when the product can reason about it; else ValidationError naming `name`."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            {name: [f"Enter a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."]}
        )
    return day
