"""One run, every entry point: a recompute as of D, then the alert rules as of the same D.

The story of issue 12: a customer's history loaded, a back-dated recompute (at risk on
2026-06-10), then a later one (inactive on 2026-06-30), with the shipped "Became inactive"
rule (status_changed -> inactive, playbook Reactivation): the alert and its plan appear as of
2026-06-30, and running the same day again adds nothing. Told once per entry point.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from engagement import tasks
from engagement.models.results import EngagementResult, Status, StatusHistory, TypeChange
from engagement.models.workflow import ActionPlan, ActionStep, Alert, AlertRule
from engagement.workflow.runs import engagement_run
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

AT_RISK_DAY = dt.date(2026, 6, 10)
INACTIVE_DAY = dt.date(2026, 6, 30)
RULE = "Became inactive"


def _at(day: dt.date, hour=12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def lapsing(rep, cs):
    """Last active on 2026-04-20: at risk as of 2026-06-10 (51 days), inactive as of
    2026-06-30 (71 days). Spends little, so the high-value rule stays quiet."""
    customer = CustomerFactory(owner=rep, customer_since=dt.date(2025, 1, 1))
    for day in (dt.date(2026, 3, 2), dt.date(2026, 4, 20)):
        InteractionFactory(customer=customer, kind="login", occurred_at=_at(day))
    return customer


def _fired(customer):
    return list(
        Alert.objects.filter(customer=customer).values_list(
            "rule__name", "fired_on", "action_plan__playbook__name", "action_plan__started_on"
        )
    )


def _counts():
    return (
        Alert.objects.count(),
        ActionPlan.objects.count(),
        ActionStep.objects.count(),
        StatusHistory.objects.count(),
        TypeChange.objects.count(),
    )


def _assert_story(customer):
    assert EngagementResult.objects.get(customer=customer).status == Status.INACTIVE
    assert _fired(customer) == [(RULE, INACTIVE_DAY, "Reactivation", INACTIVE_DAY)]
    alert = Alert.objects.get(customer=customer)
    assert "from at_risk to inactive on 2026-06-30" in alert.message
    # "days ago" counted from D, not from the day the command ran.
    assert "last activity 2026-04-20 (71 days ago)" in alert.message
    assert alert.action_plan.steps.order_by("due_on").first().due_on >= INACTIVE_DAY


# --- the command ----------------------------------------------------------------------------


def _command(day: dt.date) -> str:
    out = io.StringIO()
    call_command(
        "recompute_engagement", "--as-of", day.isoformat(), stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()


def test_command_back_dated_then_later_fires_the_rule_as_of_the_later_day(lapsing):
    first = _command(AT_RISK_DAY)
    assert EngagementResult.objects.get(customer=lapsing).status == Status.AT_RISK
    assert not Alert.objects.exists()  # a first classification is no move
    assert "Alerts fired as of 2026-06-10: 0" in first

    second = _command(INACTIVE_DAY)

    _assert_story(lapsing)
    assert "at_risk -> inactive" in second
    assert "Alerts fired as of 2026-06-30: 1" in second
    assert RULE in second


def test_command_rerun_of_the_same_day_adds_nothing(lapsing):
    _command(AT_RISK_DAY)
    _command(INACTIVE_DAY)
    before = _counts()

    again = _command(INACTIVE_DAY)

    assert _counts() == before
    assert "Alerts fired as of 2026-06-30: 0" in again


def test_the_cooldown_counts_from_d_on_both_sides(rep, cs):
    rich = CustomerFactory(owner=rep, customer_since=dt.date(2025, 1, 1))
    InteractionFactory(
        customer=rich,
        kind="purchase",
        amount=Decimal("6000.00"),
        occurred_at=_at(dt.date(2026, 3, 1)),
    )
    rule = "High-value customer inactive"
    assert engagement_run(as_of=INACTIVE_DAY).alerts_by_rule == {rule: 1}
    Alert.objects.update(status=Alert.AlertStatus.RESOLVED)

    # Ten days before a later alert, and 29 days after it: inside its cooldown.
    assert engagement_run(as_of=INACTIVE_DAY - dt.timedelta(days=10)).alerts == 0
    assert engagement_run(as_of=INACTIVE_DAY + dt.timedelta(days=29)).alerts == 0
    assert engagement_run(as_of=INACTIVE_DAY + dt.timedelta(days=30)).alerts_by_rule == {rule: 1}
    assert sorted(Alert.objects.values_list("fired_on", flat=True)) == [
        INACTIVE_DAY,
        INACTIVE_DAY + dt.timedelta(days=30),
    ]


# --- the nightly task and the API -----------------------------------------------------------


def test_nightly_task_evaluates_as_of_its_day(lapsing):
    tasks.recompute_all.delay(AT_RISK_DAY.isoformat()).get()
    summary = tasks.recompute_all.delay(INACTIVE_DAY.isoformat()).get()

    _assert_story(lapsing)
    assert summary["alerts"] == 1
    assert summary["alerts_by_rule"] == {RULE: 1}
    assert summary["as_of"] == "2026-06-30"
    before = _counts()
    assert tasks.recompute_all.delay(INACTIVE_DAY.isoformat()).get()["alerts"] == 0
    assert _counts() == before


def test_api_recompute_evaluates_as_of_its_day(lapsing, admin_api):
    url = "/api/engagement/recompute/"
    assert admin_api.post(url, {"as_of": "2026-06-10"}, format="json").status_code == 200
    response = admin_api.post(url, {"as_of": "2026-06-30"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["summary"]["alerts"] == 1
    _assert_story(lapsing)
    before = _counts()
    again = admin_api.post(url, {"as_of": "2026-06-30"}, format="json").json()
    assert again["summary"]["alerts"] == 0
    assert _counts() == before


# --- the admin actions and the freshness refresh --------------------------------------------


@pytest.mark.parametrize(
    ("changelist", "action", "selected"),
    [
        ("admin:customers_customer_changelist", "recompute_engagement_action", "customer"),
        ("admin:engagement_engagementresult_changelist", "recompute_results_action", "result"),
    ],
)
def test_admin_actions_recompute_and_evaluate_as_of_today(
    client, crm_admin, rep, changelist, action, selected, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    customer = CustomerFactory(owner=rep, customer_since=today - dt.timedelta(days=400))
    InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=80))
    engagement_run(as_of=today - dt.timedelta(days=20))  # 60 days: at risk then
    assert EngagementResult.objects.get(customer=customer).status == Status.AT_RISK
    pk = customer.pk if selected == "customer" else customer.engagement.pk
    client.force_login(crm_admin)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(changelist), {"action": action, helpers.ACTION_CHECKBOX_NAME: [pk]})

    assert EngagementResult.objects.get(customer=customer).status == Status.INACTIVE
    assert [(name, fired) for name, fired, *_ in _fired(customer)] == [(RULE, today)]


def test_freshness_refresh_task_evaluates_the_moves_it_stored(rep):
    today = timezone.localdate()
    customer = CustomerFactory(owner=rep, customer_since=today - dt.timedelta(days=400))
    InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=80))
    engagement_run(as_of=today - dt.timedelta(days=20))

    summary = tasks.refresh_customers.delay([customer.pk]).get()

    assert summary["alerts"] == 1
    assert [(name, fired) for name, fired, *_ in _fired(customer)] == [(RULE, today)]


def test_moves_of_other_days_are_not_evaluated_again(lapsing):
    engagement_run(as_of=AT_RISK_DAY)
    engagement_run(as_of=INACTIVE_DAY, evaluate=False)  # history loaded, not lived
    # The next day has no move of its own: yesterday's move fires nothing today.
    summary = engagement_run(as_of=INACTIVE_DAY + dt.timedelta(days=1))
    assert summary.alerts == 0
    assert not Alert.objects.exists()


# --- triggers as of D -------------------------------------------------------------------------


def test_type_gained_skips_the_first_classification_but_fires_on_a_later_gain(rep):
    today = timezone.localdate()
    veteran = CustomerFactory(owner=rep, customer_since=today - dt.timedelta(days=800))
    for days in (300, 200, 20):  # loyal from the start
        InteractionFactory(
            customer=veteran,
            kind="purchase",
            amount=Decimal("50.00"),
            occurred_at=timezone.now() - dt.timedelta(days=days),
        )
    grower = CustomerFactory(owner=rep, customer_since=today - dt.timedelta(days=800))
    for days in (300, 200):  # loyal from its third purchase on
        InteractionFactory(
            customer=grower,
            kind="purchase",
            amount=Decimal("50.00"),
            occurred_at=timezone.now() - dt.timedelta(days=days),
        )

    first = engagement_run(as_of=today - dt.timedelta(days=10))
    assert first.type_moves["+loyal"] == 1  # veteran's first classification: stored...
    assert not Alert.objects.filter(rule__trigger="type_gained").exists()  # ...not alerted

    InteractionFactory(
        customer=grower,
        kind="purchase",
        amount=Decimal("50.00"),
        occurred_at=timezone.now() - dt.timedelta(days=2),
    )
    engagement_run(as_of=today)
    gained = Alert.objects.filter(rule__trigger="type_gained")
    assert list(gained.values_list("customer", "rule__name")) == [(grower.pk, "Became loyal")]


def test_first_classification_as_new_still_fires_onboarding(rep):
    today = timezone.localdate()
    newcomer = CustomerFactory(owner=rep, customer_since=today - dt.timedelta(days=3))
    engagement_run()
    assert list(Alert.objects.values_list("customer", "rule__name")) == [
        (newcomer.pk, "New customer to onboard")
    ]


def test_support_spike_counts_local_dates_up_to_d(rep, settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    AlertRule.objects.exclude(trigger="support_spike").update(is_active=False)
    rule = AlertRule.objects.get(trigger="support_spike")  # 5 within 14 days
    day = dt.date(2026, 6, 30)
    spiking, late = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    with timezone.override("Europe/Warsaw"):
        # 2026-06-16 00:30 local is 14 days before D: inside "within 14 days".
        first = timezone.make_aware(dt.datetime(2026, 6, 16, 0, 30))
        for hours in range(5):
            InteractionFactory(
                customer=spiking, kind="support", occurred_at=first + dt.timedelta(hours=hours)
            )
        # 2026-06-30 22:30 UTC is 2026-07-01 00:30 local: after D, invisible as of D.
        after = dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC)
        for minutes in range(5):
            InteractionFactory(
                customer=late, kind="support", occurred_at=after + dt.timedelta(minutes=minutes)
            )
        engagement_run(as_of=day)

    alert = Alert.objects.get()
    assert (alert.customer, alert.rule, alert.fired_on) == (spiking, rule, day)
    assert f"5 support interactions in the last {rule.window_days} days" in alert.message
