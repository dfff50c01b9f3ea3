"""The interaction kinds: categories and what counts as customer activity (see
docs/definitions.md, "Customer activity").

This module is the single statement of that table. Python code asks the functions;
querysets and set-based SQL use the Q objects and SQL fragments built from the same sets.
"""

from django.db.models import Q

PURCHASE = "purchase"
REFUND = "refund"
SUPPORT = "support"
LOGIN = "login"
FEATURE_USE = "feature_use"
WEBINAR = "webinar"
MEETING = "meeting"
VISIT = "visit"
EMAIL = "email"
CALL = "call"
CHAT = "chat"
SOCIAL = "social"
NOTE = "note"

INBOUND = "inbound"
OUTBOUND = "outbound"

CATEGORY = {
    PURCHASE: "commerce",
    REFUND: "commerce",
    SUPPORT: "support",
    LOGIN: "usage",
    FEATURE_USE: "usage",
    WEBINAR: "marketing",
    MEETING: "communication",
    VISIT: "communication",
    EMAIL: "communication",
    CALL: "communication",
    CHAT: "communication",
    SOCIAL: "communication",
    NOTE: "internal",
}

# Customer activity whatever the direction.
ACTIVITY_ANY_DIRECTION = frozenset({PURCHASE, SUPPORT, LOGIN, FEATURE_USE, WEBINAR, MEETING, VISIT})
# Customer activity only when the customer reached out.
ACTIVITY_INBOUND_ONLY = frozenset({EMAIL, CALL, CHAT, SOCIAL})
COMMUNICATION = frozenset(k for k, c in CATEGORY.items() if c == "communication")


def default_direction(kind: str) -> str:
    """Direction when none is given: inbound, except notes (outbound)."""
    return OUTBOUND if kind == NOTE else INBOUND


def is_activity(kind: str, direction: str) -> bool:
    return kind in ACTIVITY_ANY_DIRECTION or (
        kind in ACTIVITY_INBOUND_ONLY and direction == INBOUND
    )


def is_communication_activity(kind: str, direction: str) -> bool:
    return kind in COMMUNICATION and is_activity(kind, direction)


def activity_q(prefix: str = "") -> Q:
    """Q for interactions that count as customer activity (prefix e.g. 'interactions__')."""
    return Q(**{f"{prefix}kind__in": sorted(ACTIVITY_ANY_DIRECTION)}) | Q(
        **{f"{prefix}kind__in": sorted(ACTIVITY_INBOUND_ONLY), f"{prefix}direction": INBOUND}
    )


def _sql_list(kinds) -> str:
    return ", ".join(f"'{k}'" for k in sorted(kinds))


def activity_sql(alias: str = "i") -> str:
    """SQL predicate for customer activity on interaction table alias `alias`."""
    return (
        f"({alias}.kind IN ({_sql_list(ACTIVITY_ANY_DIRECTION)}) OR "
        f"({alias}.kind IN ({_sql_list(ACTIVITY_INBOUND_ONLY)}) "
        f"AND {alias}.direction = '{INBOUND}'))"
    )


def communication_activity_sql(alias: str = "i") -> str:
    return f"({activity_sql(alias)} AND {alias}.kind IN ({_sql_list(COMMUNICATION)}))"
