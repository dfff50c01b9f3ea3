"""The decisions of engagement.engine.classification (status, types, the reactivated flag,
the score) restated as SQL expressions, so the recompute classifies and stores a batch of
customers in one INSERT ... SELECT, with no row in Python.

classification.classify is the reference (docs/definitions.md, "Status", "Customer types",
"Reactivated", "Score and RFM"); tests/engagement/engine/test_hypothesis_classification_sql.py
holds the two equal on generated histories and rules, on SQLite and on PostgreSQL. The reasons
(words) have no SQL form: the live path computes them on read (engagement.engine.live).

The expressions read the columns of figures.stored_figures_sql (local dates, counts, cents)
plus `since`: days from the last activity (or, without any, from customer_since) to D.
Thresholds are the rule set's validated integers, written into the SQL as literals; D is
bound as %(as_of)s. Integer arithmetic only, as in classification.score: every division has
non-negative operands, so SQL's truncating division is Python's floor division.
"""

from __future__ import annotations

import sqlite3

from django.db import connection

from engagement.engine.classification import (
    BREADTH_FULL,
    BREADTH_POINTS,
    FREQUENCY_FULL,
    FREQUENCY_POINTS,
    RECENCY_DAYS,
    RECENCY_POINTS,
    REVENUE_FULL_CENTS,
    REVENUE_POINTS,
)
from engagement.engine.figures import days_between_sql
from engagement.engine.rules import Rules
from engagement.models.results import CustomerType, EngagementResult, Status

AS_OF = "%(as_of)s"


def _greatest(a, b) -> str:
    return f"GREATEST({a}, {b})" if connection.vendor == "postgresql" else f"MAX({a}, {b})"


def _least(a, b) -> str:
    return f"LEAST({a}, {b})" if connection.vendor == "postgresql" else f"MIN({a}, {b})"


def _flag(condition: str) -> str:
    """A boolean column from a condition; NULL (a missing date) is false, as in Python."""
    return f"CASE WHEN {condition} THEN TRUE ELSE FALSE END"


def _days_to_d(column: str) -> str:
    return days_between_sql(AS_OF, column)


def status_sql(r: Rules) -> str:
    """docs/definitions.md, "Status": the first matching line wins."""
    return f"""CASE
        WHEN last_activity_on IS NULL AND since <= {int(r.onboarding_days)} THEN '{Status.NEW}'
        WHEN since <= {int(r.active_days)} THEN '{Status.ACTIVE}'
        WHEN live_product_subscriptions + live_service_subscriptions <> 0
          THEN '{Status.PASSIVE}'
        WHEN since <= {int(r.at_risk_days)} THEN '{Status.AT_RISK}'
        WHEN since <= {int(r.inactive_days)} THEN '{Status.INACTIVE}'
        ELSE '{Status.CHURNED}' END"""


def reactivated_sql(r: Rules) -> str:
    gap = days_between_sql("first_window_activity_on", "prev_activity_on")
    return _flag(
        f"({status_sql(r)}) = '{Status.ACTIVE}' AND prev_activity_on IS NOT NULL"
        f" AND first_window_activity_on IS NOT NULL AND {gap} > {int(r.at_risk_days)}"
    )


def type_sql(r: Rules) -> dict[str, str]:
    """{type code: its flag} (docs/definitions.md, "Customer types")."""
    tenure = int(r.loyal_min_tenure_days)
    return {
        CustomerType.RECENT_BUYER: _flag(
            f"last_purchase_on IS NOT NULL"
            f" AND {_days_to_d('last_purchase_on')} BETWEEN 0 AND {int(r.recent_buyer_days)}"
        ),
        CustomerType.LOYAL: _flag(
            f"(loyal_purchases >= {int(r.loyal_min_purchases)}"
            f" AND first_purchase_on IS NOT NULL"
            f" AND {_days_to_d('first_purchase_on')} >= {tenure})"
            f" OR (oldest_live_subscription_on IS NOT NULL"
            f" AND {_days_to_d('oldest_live_subscription_on')} >= {tenure})"
        ),
        CustomerType.SUPPORT: _flag(f"support_interactions >= {int(r.support_min_interactions)}"),
        CustomerType.PRODUCT_SUBSCRIBER: _flag("live_product_subscriptions <> 0"),
        CustomerType.SERVICE_SUBSCRIBER: _flag("live_service_subscriptions <> 0"),
        CustomerType.CONTACT: _flag(f"contact_interactions >= {int(r.contact_min_interactions)}"),
    }


def score_sql() -> str:
    """classification.score: recency, frequency, revenue and breadth, each rounded down."""
    left = _greatest(0, f"{RECENCY_DAYS} - {_greatest(0, 'since')}")  # days left of the year
    recency = (
        f"CASE WHEN last_activity_on IS NULL THEN 0"
        f" ELSE {RECENCY_POINTS} * {left} / {RECENCY_DAYS} END"
    )
    frequency = f"{FREQUENCY_POINTS} * {_least('activity_365', FREQUENCY_FULL)} / {FREQUENCY_FULL}"
    revenue = (
        f"{REVENUE_POINTS} * {_least(_greatest('revenue_cents', 0), REVENUE_FULL_CENTS)}"
        f" / {REVENUE_FULL_CENTS}"
    )
    breadth = f"{BREADTH_POINTS} * {_least('channels_90', BREADTH_FULL)} / {BREADTH_FULL}"
    return f"({recency}) + {frequency} + {revenue} + {breadth}"


def mrr_sql() -> str:
    """subscriptions.monthly_recurring: (monthly + yearly / 12) rounded once to cents, half
    to even (Decimal's default), from mrr_twelfths = 12 x that sum in cents (an integer)."""
    a = "ABS(mrr_twelfths)"
    q, rest = f"({a} / 12)", f"({a} %% 12)"
    rounded = f"({q} + CASE WHEN {rest} > 6 OR ({rest} = 6 AND {q} %% 2 = 1) THEN 1 ELSE 0 END)"
    return f"(CASE WHEN mrr_twelfths < 0 THEN -1 ELSE 1 END) * {rounded} / 100.0"


def classified_sql(rules: Rules, figures: str, columns, extra: dict[str, str]) -> str:
    """SELECT the stored result's `columns` (EngagementResult's names) of every row of
    `figures` (a SELECT with figures.stored_figures_sql's columns), classified under `rules`
    as of %(as_of)s; `extra` gives other columns' values (SQL)."""
    values = {
        "customer_id": "customer_id",
        "status": status_sql(rules),
        "reactivated": reactivated_sql(rules),
        **{EngagementResult.TYPE_FIELDS[code]: sql for code, sql in type_sql(rules).items()},
        "score": score_sql(),
        "days_since_activity": "since",
        "revenue_365": "revenue_cents / 100.0",
        "mrr": mrr_sql(),
        **extra,
    }
    select = ",\n          ".join(f"{values.get(column, column)} AS {column}" for column in columns)
    since = _days_to_d("COALESCE(last_activity_on, customer_since)")
    return f"""
        WITH f AS {_materialized()} ({figures}),
        g AS (SELECT f.*, {since} AS since FROM f)
        SELECT {select}
        FROM g
    """


def _materialized() -> str:
    """Keep the converted figures (a few date conversions per customer) from being
    recomputed in every expression that reads them; SQLite learned the hint in 3.35."""
    if connection.vendor == "postgresql" or sqlite3.sqlite_version_info >= (3, 35):
        return "MATERIALIZED"
    return ""
