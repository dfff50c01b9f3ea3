"""Outcome measurement: window boundaries, maturity, aggregation per rule and playbook,
query counts, and simulated trials whose true effect the reported interval must cover."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer, Interaction
from engagement.engine.rule_sets import rule_set_ensure
from engagement.models.results import EngagementResult, StatusHistory
from engagement.models.workflow import Alert, AlertRule, Playbook
from engagement.workflow.outcome_stats import draw_arm
from engagement.workflow.outcomes import (
    Exposures,
    measure,
    outcomes_report,
    playbook_outcome,
    rule_outcome,
)
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

F = dt.date(2025, 3, 10)  # the fire day
W = 10  # window: F + 1 .. F + 10
ZONE = "Europe/Berlin"  # local dates differ from UTC ones around midnight


@pytest.fixture
def playbook():
    return Playbook.objects.create(name="Win back")


@pytest.fixture
def rule(playbook):
    return AlertRule.objects.create(
        name="Lapsed", trigger="subscription_cancelled", playbook=playbook, outcome_window_days=W
    )


def _alert(rule, customer=None, *, arm="treatment", fired_on=F):
    customer = customer or CustomerFactory()
    return Alert.objects.create(
        customer=customer,
        rule=rule,
        severity="info",
        message="m",
        fired_on=fired_on,
        arm=arm,
        status="open" if arm == "treatment" else "held_out",
    )


def _moved(customer, day, to_status, from_status="at_risk"):
    StatusHistory.objects.create(
        customer=customer,
        from_status=from_status,
        to_status=to_status,
        as_of=day,
        changed_at=timezone.now(),
        rule_set=rule_set_ensure(),
    )


def _local(day, hour, minute=0):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _converted(rule, as_of=F + dt.timedelta(days=W)):
    return measure(
        Exposures.from_queryset(
            Alert.objects.filter(rule=rule).values_list(
                "pk", "customer_id", "fired_on", "rule__outcome_window_days", "arm", "customer_id"
            )
        ),
        as_of=as_of,
    )


def _day(n):
    return F + dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("history", "converted"),
    [
        ([(-30, "active")], True),  # active carried into the window
        ([(-30, "at_risk")], False),  # a lapsed status carried in
        ([(-30, "at_risk"), (0, "active"), (1, "at_risk")], False),  # day F is outside
        ([(-30, "active"), (1, "at_risk")], False),  # left active as the window opened
        ([(-30, "at_risk"), (1, "active")], True),  # first day
        ([(-30, "at_risk"), (W, "active")], True),  # last day F + W
        ([(-30, "at_risk"), (W + 1, "active")], False),  # the day after
        ([(-30, "at_risk"), (3, "active"), (5, "churned")], True),  # active for a while
        ([], False),
    ],
)
def test_converted_reads_the_status_in_effect_inside_the_window(rule, history, converted):
    customer = CustomerFactory()
    for offset, status in history:
        _moved(customer, _day(offset), status)
    _alert(rule, customer)
    totals = _converted(rule)[customer.pk]["treatment"]
    assert (totals.n, totals.converted) == (1, int(converted))


@pytest.mark.parametrize(("result_day", "converted"), [(0, False), (4, True), (W + 1, False)])
def test_a_stored_active_result_inside_the_window_converts(rule, result_day, converted):
    customer = CustomerFactory()
    EngagementResult.objects.create(
        customer=customer,
        status="active",
        rule_set=rule_set_ensure(),
        as_of=_day(result_day),
        computed_at=timezone.now(),
    )
    _alert(rule, customer)
    assert _converted(rule)[customer.pk]["treatment"].converted == int(converted)


def test_purchases_and_revenue_count_local_days_inside_the_window(rule):
    customer = CustomerFactory()
    _alert(rule, customer)
    with timezone.override(ZONE):
        events = [
            (_local(F, 23, 30), "purchase", "1000.00"),  # day F: outside
            (_local(_day(1), 0, 30), "purchase", "120.50"),  # 23:30 UTC on day F: inside
            (_local(_day(4), 12), "purchase", "80.00"),
            (_local(_day(W), 23, 30), "refund", "20.25"),  # last day, already F+W+1 in UTC
            (_local(_day(W + 1), 0, 10), "purchase", "999.00"),  # the day after
        ]
        for at, kind, amount in events:
            InteractionFactory(customer=customer, kind=kind, occurred_at=at, amount=amount)
        totals = _converted(rule)[customer.pk]["treatment"]
    assert totals.purchased == 1
    assert totals.revenue_sum == Decimal("180.25")


def test_no_purchase_in_the_window_is_zero_revenue(rule):
    customer = CustomerFactory()
    _alert(rule, customer)
    InteractionFactory(customer=customer, kind="purchase", occurred_at=_local(F, 12), amount=50)
    totals = _converted(rule)[customer.pk]["treatment"]
    assert (totals.purchased, totals.revenue_sum) == (0, 0)


def test_an_alert_counts_once_its_window_has_ended(rule):
    _alert(rule, arm="treatment")
    assert _converted(rule, as_of=_day(W - 1)) == {}
    assert sum(t["treatment"].n for t in _converted(rule, as_of=_day(W)).values()) == 1


def test_rows_per_rule_and_playbook_add_up_and_answer_rates(rule, playbook):
    other = AlertRule.objects.create(
        name="Other", trigger="support_spike", playbook=playbook, outcome_window_days=W
    )
    converted = CustomerFactory()
    _moved(converted, _day(2), "active")
    _alert(rule, converted)
    _alert(rule)  # not converted
    _alert(rule, arm="control")
    _alert(other, arm="control")
    _alert(rule, fired_on=_day(5))  # not matured yet

    rows = outcomes_report(as_of=_day(W))

    by_key = {(r["rule"], r["playbook"]): r for r in rows}
    assert set(by_key) == {(rule.pk, playbook.pk), (other.pk, playbook.pk), (None, playbook.pk)}
    lapsed = by_key[(rule.pk, playbook.pk)]
    assert lapsed["treatment"] == {
        "n": 2,
        "converted": 0.5,
        "purchased": 0.0,
        "revenue": Decimal("0.00"),
    }
    assert lapsed["control"]["n"] == 1
    assert lapsed["window_days"] == W
    assert lapsed["campaign"] is None
    assert lapsed["conversion_uplift"] is None  # fewer than 30 per arm
    both = by_key[(None, playbook.pk)]
    assert (both["treatment"]["n"], both["control"]["n"]) == (2, 2)
    assert both["window_days"] == W


def test_filters_narrow_the_rows(rule, playbook):
    lone = AlertRule.objects.create(name="Lone", trigger="support_spike", outcome_window_days=5)
    _alert(rule)
    _alert(lone)
    as_of = _day(W)

    assert [r["rule"] for r in outcomes_report(as_of=as_of, rule=lone.pk)] == [lone.pk]
    assert {
        (r["rule"], r["playbook"]) for r in outcomes_report(as_of=as_of, playbook=playbook.pk)
    } == {
        (rule.pk, playbook.pk),
        (None, playbook.pk),
    }
    assert outcomes_report(as_of=as_of, campaign=1) == []
    quiet = AlertRule.objects.create(name="Quiet", trigger="support_spike")
    row = rule_outcome(rule=quiet, as_of=as_of)  # asked for: answered with n = 0
    assert (row["treatment"]["n"], row["treatment"]["converted"]) == (0, None)
    assert playbook_outcome(playbook=playbook, as_of=as_of)["treatment"]["n"] == 1


def test_report_queries_do_not_grow_with_alerts(rule, playbook, django_assert_num_queries):
    rules = [rule] + [
        AlertRule.objects.create(name=f"R{i}", trigger="support_spike", playbook=playbook)
        for i in range(4)
    ]
    customers = Customer.objects.bulk_create(Customer(name=f"c{i}") for i in range(200))
    Alert.objects.bulk_create(
        Alert(
            customer=c,
            rule=rules[i % 5],
            severity="info",
            message="m",
            fired_on=F,
            arm="treatment" if i % 2 else "control",
            status="open" if i % 2 else "held_out",
        )
        for i, c in enumerate(customers)
    )
    with django_assert_num_queries(2):  # the rules (with their playbooks), the measurement
        rows = outcomes_report(as_of=_day(90))
    assert sum(r["treatment"]["n"] + r["control"]["n"] for r in rows if r["rule"]) == 200


# --- Simulated trials ----------------------------------------------------------------------


def _simulate(*, customers, control_rate, treatment_rate, seed, purchase_amount=None):
    """Alerts of one 50 % holdout rule for `customers` customers; each converts with its arm's
    rate (a move to active on day 5 of the window); with `purchase_amount` a purchase of
    a random amount around it inside the window for the converted ones."""
    rng = random.Random(seed)
    rule = AlertRule.objects.create(
        name=f"Trial {seed}", trigger="subscription_cancelled", holdout_percent=50
    )
    made = Customer.objects.bulk_create(Customer(name=f"t{i}") for i in range(customers))
    alerts, moves, purchases = [], [], []
    rule_set = rule_set_ensure()
    for customer in made:
        arm = draw_arm(
            rule_or_campaign_key=f"rule:{rule.pk}",
            customer_id=customer.pk,
            day=F,
            holdout_percent=50,
        )
        alerts.append(
            Alert(
                customer=customer,
                rule=rule,
                severity="info",
                message="m",
                fired_on=F,
                arm=arm,
                status="open" if arm == "treatment" else "held_out",
            )
        )
        rate = treatment_rate if arm == "treatment" else control_rate
        if rng.random() < rate:
            moves.append(
                StatusHistory(
                    customer=customer,
                    from_status="at_risk",
                    to_status="active",
                    as_of=_day(5),
                    changed_at=timezone.now(),
                    rule_set=rule_set,
                )
            )
            if purchase_amount:
                amount = Decimal(purchase_amount * rng.uniform(0.5, 1.5)).quantize(Decimal("0.01"))
                purchases.append(
                    Interaction(
                        customer=customer,
                        kind="purchase",
                        direction="inbound",
                        occurred_at=_local(_day(5), 12),
                        amount=amount,
                    )
                )
    Alert.objects.bulk_create(alerts)
    StatusHistory.objects.bulk_create(moves)
    Interaction.objects.bulk_create(purchases)
    return rule_outcome(rule=rule, as_of=_day(60))


def test_a_known_effect_on_conversion_is_covered_by_the_interval():
    row = _simulate(customers=3000, control_rate=0.20, treatment_rate=0.35, seed=7)
    uplift = row["conversion_uplift"]
    assert row["treatment"]["n"] > 1200
    assert row["control"]["n"] > 1200
    assert uplift["low"] <= 0.15 <= uplift["high"]
    assert uplift["low"] > 0  # and the effect is found
    assert abs(uplift["value"] - 0.15) < 0.05


def test_no_effect_is_an_interval_around_zero():
    row = _simulate(
        customers=3000, control_rate=0.25, treatment_rate=0.25, seed=11, purchase_amount=200
    )
    conversion, purchase, revenue = (
        row["conversion_uplift"],
        row["purchase_uplift"],
        row["revenue_uplift"],
    )
    assert conversion["low"] <= 0 <= conversion["high"]
    assert purchase["low"] <= 0 <= purchase["high"]
    assert revenue["low"] <= 0 <= revenue["high"]
    assert isinstance(revenue["value"], Decimal)
    # Mean revenue is what a converted customer spends (about 200) times the rate (0.25).
    assert Decimal("35") < row["treatment"]["revenue"] < Decimal("65")
