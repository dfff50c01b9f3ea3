"""The recompute's SQL classification (engagement.engine.classification_sql) decides exactly
what the reference, classification.classify, decides; and the history rows a recompute
appends are exactly the moves between two classifications.

1. Figures generated directly, with dates on and beside every threshold of the generated
   rules, revenue and channels at their saturation points, MRR at half cents: classified by
   the SQL (over literal rows) and by classify().
2. Histories recomputed twice (other rules, another day): the status-history and
   type-change rows appended by the second recompute, and its summary, are the moves
   between the live (Python) classifications before and after.

Run on SQLite and, with DATABASE_URL pointing at PostgreSQL, on PostgreSQL.
"""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.engine.classification import Figures, classify
from engagement.engine.classification_sql import classified_sql
from engagement.engine.live import engagement_evaluate
from engagement.engine.recompute import engagement_recompute
from engagement.engine.rule_sets import rule_set_update
from engagement.engine.rules import Rules
from engagement.engine.subscriptions import monthly_recurring
from engagement.models import EngagementResult, StatusHistory, TypeChange
from tests.engagement.engine.histories import ZONES, D, build, histories, rule_values

pytestmark = pytest.mark.slow  # property-based

DATES = (
    "customer_since",
    "last_activity_on",
    "prev_activity_on",
    "first_window_activity_on",
    "last_purchase_on",
    "first_purchase_on",
    "oldest_live_subscription_on",
)
COUNTS = (
    "loyal_purchases",
    "support_interactions",
    "contact_interactions",
    "activity_365",
    "channels_90",
    "live_product_subscriptions",
    "live_service_subscriptions",
    "revenue_cents",
    "mrr_twelfths",
)
OUT = [
    "status",
    "reactivated",
    *EngagementResult.TYPE_FIELDS.values(),
    "score",
    "days_since_activity",
    "revenue_365",
    "mrr",
]


@st.composite
def cases(draw):
    """Rules, and figures whose dates sit on, just inside and just outside their windows."""
    rules = Rules(**draw(rule_values()))
    edges = sorted(
        {
            0,
            365,
            rules.onboarding_days,
            rules.active_days,
            rules.at_risk_days,
            rules.inactive_days,
            rules.recent_buyer_days,
            rules.loyal_min_tenure_days,
        }
    )
    days_back = st.one_of(
        st.integers(-3, 900),
        st.sampled_from(edges).flatmap(lambda edge: st.integers(edge - 1, edge + 1)),
    )

    def date(optional=True):
        day = days_back.map(lambda n: D - dt.timedelta(days=n))
        return st.one_of(st.none(), day) if optional else day

    def count(*edges):
        return st.one_of(st.integers(0, 60), st.sampled_from(edges))

    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    **{name: date(optional=name != "customer_since") for name in DATES},
                    "loyal_purchases": count(rules.loyal_min_purchases - 1),
                    "support_interactions": count(rules.support_min_interactions - 1),
                    "contact_interactions": count(rules.contact_min_interactions - 1),
                    "activity_365": count(49, 50, 51),
                    "channels_90": st.integers(0, 7),
                    "live_product_subscriptions": st.integers(0, 2),
                    "live_service_subscriptions": st.integers(0, 2),
                    "revenue_cents": st.one_of(
                        st.integers(-2_000_000, 2_000_000),
                        st.sampled_from([-1, 0, 1, 49_999, 50_000, 999_999, 1_000_000]),
                    ),
                    "monthly_cents": st.integers(0, 100_000),
                    "yearly_cents": st.one_of(
                        st.integers(0, 1_000_000), st.sampled_from([6, 18, 30, 1_206])
                    ),
                }
            ),
            min_size=1,
            max_size=20,
        )
    )
    return rules, rows


def _literal_rows(rows) -> tuple[str, dict]:
    """The rows as a SELECT with stored_figures_sql's columns, and its parameters."""
    pg = connection.vendor == "postgresql"
    selects, params = [], {}
    for i, row in enumerate(rows):
        values = {
            **row,
            "mrr_twelfths": 12 * row["monthly_cents"] + row["yearly_cents"],
            "customer_id": i,
        }
        columns = []
        for name in ("customer_id", *DATES, *COUNTS):
            key = f"r{i}_{name}"
            value = values[name]
            params[key] = value.isoformat() if isinstance(value, dt.date) and not pg else value
            typed = f"CAST(%({key})s AS date)" if pg and name in DATES else f"%({key})s"
            columns.append(f"{typed} AS {name}")
        selects.append("SELECT " + ", ".join(columns))
    return " UNION ALL ".join(selects), params


def _figures(row) -> Figures:
    return Figures(
        **{name: row[name] for name in DATES},
        **{name: row[name] for name in COUNTS[:-2]},
        revenue_365=Decimal(row["revenue_cents"]) / 100,
        mrr=monthly_recurring(
            Decimal(row["monthly_cents"]) / 100, Decimal(row["yearly_cents"]) / 100
        ),
    )


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_sql_classifies_as_classify_does(case):
    rules, rows = case
    figures_sql, params = _literal_rows(rows)
    sql = classified_sql(rules, figures_sql, ["customer_id", *OUT], {})
    params["as_of"] = connection.ops.adapt_datefield_value(D)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY customer_id", params)
        got = cursor.fetchall()
    assert [pk for pk, *_ in got] == list(range(len(rows)))
    for row, (_pk, status, reactivated, *rest) in zip(rows, got, strict=True):
        flags, (score, since, revenue, mrr) = rest[:-4], rest[-4:]
        figures = _figures(row)
        c = classify(figures, rules, D, explain=False)
        held = zip(EngagementResult.TYPE_FIELDS, flags, strict=True)
        types = tuple(code for code, flag in held if flag)
        assert (status, bool(reactivated), types, score, since) == (
            c.status,
            c.reactivated,
            c.types,
            c.score,
            c.days_since_activity,
        ), row
        assert (_money(revenue), _money(mrr)) == (figures.revenue_365, figures.mrr), row


def _live(customers, as_of):
    return {c.pk: engagement_evaluate(customer_id=c.pk, as_of=as_of) for c in customers}


@pytest.mark.django_db
@pytest.mark.parametrize("tz", ZONES[:2])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    generated=histories,
    before=rule_values(),
    after=rule_values(),
    days_later=st.integers(0, 40),
)
def test_history_rows_are_the_moves_between_two_classifications(
    settings, tz, generated, before, after, days_later
):
    settings.TIME_ZONE = tz
    timezone.activate(tz)
    try:
        rule_set_update(**before)
        made = build(generated)
        engagement_recompute(as_of=D)
        old = _live(made, D)
        last_history = StatusHistory.objects.order_by("-id").values_list("id", flat=True).first()
        last_change = TypeChange.objects.order_by("-id").values_list("id", flat=True).first()

        rule_set_update(**after)
        later = D + dt.timedelta(days=days_later)
        summary = engagement_recompute(as_of=later)
        new = _live(made, later)

        moved = {pk for pk in new if new[pk].status != old[pk].status}
        history = StatusHistory.objects.filter(id__gt=last_history or 0).order_by("id")
        assert list(history.values_list("customer_id", "from_status", "to_status", "as_of")) == [
            (pk, old[pk].status, new[pk].status, later) for pk in sorted(moved)
        ]
        expected_changes = {
            (pk, code, gained)
            for pk in new
            for code, gained in [(t, True) for t in set(new[pk].types) - set(old[pk].types)]
            + [(t, False) for t in set(old[pk].types) - set(new[pk].types)]
        }
        changes = TypeChange.objects.filter(id__gt=last_change or 0)
        assert set(changes.values_list("customer_id", "customer_type", "gained")) == (
            expected_changes
        )
        assert changes.count() == len(expected_changes)
        assert set(changes.values_list("as_of", flat=True)) <= {later}

        assert summary.customers == len(made)
        assert summary.by_status == dict(Counter(r.status for r in new.values()))
        assert summary.by_type == dict(Counter(t for r in new.values() for t in r.types))
        assert summary.moves == {
            f"{a}->{b}": n
            for (a, b), n in Counter((old[pk].status, new[pk].status) for pk in moved).items()
        }
        assert summary.type_moves == dict(
            Counter(("+" if gained else "-") + code for _pk, code, gained in expected_changes)
        )
        changed_types = {pk for pk, _code, _gained in expected_changes}
        assert summary.changed == len(moved | changed_types)
    finally:
        timezone.deactivate()
