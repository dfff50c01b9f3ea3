"""The demo's held-out rules: a matured past in which Reactivation works."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from engagement.models.workflow import ActionStep, Alert, AlertRule, Playbook
from engagement.workflow.demo_outcomes import HOLDOUT_PERCENT, fire_days
from engagement.workflow.outcomes import outcomes_report
from engagement.workflow.plans import default_success_user
from engagement.workflow.selectors import my_work

TODAY = dt.date(2026, 6, 15)


def test_fire_days_are_the_last_three_whose_window_has_ended():
    days = [dt.date(2026, month, 1) for month in range(1, 7)]
    # 1 April + 60 days is 31 May: ended; 1 May + 60 is 30 June: not yet.
    assert fire_days(days, TODAY) == [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    assert fire_days([], TODAY) == []


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_holds_out_and_shows_reactivation_working():
    call_command("seed_demo", "--customers", "600", stdout=io.StringIO(), stderr=io.StringIO())
    today = timezone.localdate()
    trial = AlertRule.objects.get(name="Slipped to at risk")
    assert trial.holdout_percent == HOLDOUT_PERCENT

    past = Alert.objects.filter(fired_on__lte=today - dt.timedelta(days=60))
    assert set(past.values_list("rule__name", flat=True)) == {"Slipped to at risk", "Churned"}
    assert set(past.values_list("arm", "status").distinct()) == {
        ("treatment", "resolved"),
        ("control", "held_out"),
    }
    assert not past.filter(arm="control", action_plan__isnull=False).exists()
    plans = past.filter(arm="treatment").values("action_plan")
    assert not ActionStep.objects.filter(plan__in=plans).exclude(status="done").exists()
    work, _ = my_work(user=default_success_user(), today=today)
    assert not {a.pk for a in work} & set(past.values_list("pk", flat=True))

    reactivation = Playbook.objects.get(name="Reactivation")
    (row,) = [r for r in outcomes_report() if r["playbook"] == reactivation.pk and not r["rule"]]
    assert row["control"]["n"] >= 30
    assert row["treatment"]["n"] > row["control"]["n"]
    assert row["conversion_uplift"]["value"] > 0
    assert row["treatment"]["revenue"] > row["control"]["revenue"]
