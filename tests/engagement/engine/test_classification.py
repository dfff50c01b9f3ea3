"""The classifier on plain figures: every window at day N and N+1, no database."""

import datetime as dt
from decimal import Decimal

import pytest

from engagement.engine.classification import Figures, classify, within
from engagement.engine.rules import Rules

D = dt.date(2026, 6, 30)
RULES = Rules()


def ago(n):
    return D - dt.timedelta(days=n)


def figures(**kw):
    kw.setdefault("customer_since", ago(1000))
    return Figures(**kw)


def status(**kw):
    return classify(figures(**kw), RULES, D).status


def types(rules=RULES, **kw):
    return set(classify(figures(**kw), rules, D).types)


def test_within_includes_day_n_and_excludes_the_future():
    assert within(D, ago(30), 30)
    assert not within(D, ago(31), 30)
    assert within(D, D, 0)
    assert not within(D, D + dt.timedelta(days=1), 30)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "active"),
        (30, "active"),
        (31, "at_risk"),
        (60, "at_risk"),
        (61, "inactive"),
        (90, "inactive"),
        (91, "churned"),
    ],
)
def test_status_by_days_since_last_activity(days, expected):
    assert status(last_activity_on=ago(days)) == expected


@pytest.mark.parametrize(("since", "expected"), [(0, "new"), (30, "new"), (31, "at_risk")])
def test_new_needs_no_activity_and_a_customer_since_within_onboarding(since, expected):
    assert status(customer_since=ago(since)) == expected


def test_a_customer_since_after_d_is_new():
    assert status(customer_since=D + dt.timedelta(days=5)) == "new"


def test_no_activity_counts_days_from_customer_since():
    assert status(customer_since=ago(91)) == "churned"
    assert status(customer_since=ago(90)) == "inactive"


def test_any_activity_rules_out_new_even_on_the_first_day():
    assert status(customer_since=ago(3), last_activity_on=ago(2)) == "active"


def test_a_live_subscription_without_use_is_passive_not_at_risk():
    assert status(last_activity_on=ago(45), live_product_subscriptions=1) == "passive"
    assert status(last_activity_on=ago(30), live_product_subscriptions=1) == "active"
    assert status(last_activity_on=ago(200), live_service_subscriptions=1) == "passive"


def test_status_reason_names_the_figure_and_the_rule():
    c = classify(figures(last_activity_on=ago(41)), RULES, D)
    assert c.reasons["status"].startswith("last activity 41 days ago; active needs 30")


@pytest.mark.parametrize(("days", "held"), [(0, True), (30, True), (31, False)])
def test_recent_buyer_window(days, held):
    assert ("recent_buyer" in types(last_purchase_on=ago(days))) is held


@pytest.mark.parametrize(
    ("purchases", "tenure", "held"),
    [(3, 180, True), (2, 180, False), (3, 179, False), (5, 400, True)],
)
def test_loyal_by_purchases_and_tenure(purchases, tenure, held):
    got = types(loyal_purchases=purchases, first_purchase_on=ago(tenure))
    assert ("loyal" in got) is held


@pytest.mark.parametrize(("age", "held"), [(180, True), (179, False)])
def test_loyal_by_a_long_live_subscription(age, held):
    got = types(live_product_subscriptions=1, oldest_live_subscription_on=ago(age))
    assert ("loyal" in got) is held


@pytest.mark.parametrize(("n", "held"), [(3, True), (2, False)])
def test_support_heavy_threshold(n, held):
    assert ("support" in types(support_interactions=n)) is held


@pytest.mark.parametrize(("n", "held"), [(2, True), (1, False)])
def test_engaged_contact_threshold(n, held):
    assert ("contact" in types(contact_interactions=n)) is held


def test_subscriber_types_by_product_kind():
    assert types(live_product_subscriptions=1) == {"product_subscriber"}
    assert types(live_service_subscriptions=2) == {"service_subscriber"}


def test_every_type_has_a_reason_held_or_missed():
    c = classify(figures(support_interactions=1), RULES, D)
    assert set(c.reasons["types"]) == {
        "recent_buyer", "loyal", "support", "product_subscriber", "service_subscriber", "contact"
    }  # fmt: skip
    assert "1 support interaction within 90 days" in c.reasons["types"]["support"]
    assert "needs 3 or more" in c.reasons["types"]["support"]


@pytest.mark.parametrize(("gap", "flag"), [(61, True), (60, False)])
def test_reactivated_needs_a_gap_longer_than_at_risk_days(gap, flag):
    c = classify(
        figures(
            last_activity_on=ago(5),
            first_window_activity_on=ago(10),
            prev_activity_on=ago(10 + gap),
        ),
        RULES,
        D,
    )
    assert c.status == "active"
    assert c.reactivated is flag


def test_reactivated_only_when_active():
    c = classify(figures(last_activity_on=ago(40), prev_activity_on=ago(200)), RULES, D)
    assert c.status == "at_risk"
    assert not c.reactivated


def test_last_activity_on_the_window_edge_is_active_but_not_reactivated():
    c = classify(figures(last_activity_on=ago(30), prev_activity_on=ago(30)), RULES, D)
    assert (c.status, c.reactivated) == ("active", False)


def test_rules_change_the_answer():
    assert status(last_activity_on=ago(40)) == "at_risk"
    c = classify(figures(last_activity_on=ago(40)), Rules(active_days=45, at_risk_days=60), D)
    assert c.status == "active"


def test_score_rises_with_recency_frequency_revenue_and_channels():
    base = classify(figures(last_activity_on=ago(100)), RULES, D).score
    recent = classify(figures(last_activity_on=ago(1)), RULES, D).score
    busy = classify(figures(last_activity_on=ago(1), activity_365=40), RULES, D).score
    rich = classify(
        figures(last_activity_on=ago(1), activity_365=40, revenue_365=Decimal("5000")), RULES, D
    ).score
    broad = classify(
        figures(
            last_activity_on=ago(1), activity_365=40, revenue_365=Decimal("5000"), channels_90=4
        ),
        RULES,
        D,
    ).score
    assert 0 <= base < recent < busy < rich < broad <= 100
    assert classify(figures(), RULES, D).score == 0
