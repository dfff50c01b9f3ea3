"""Holdouts and outcomes in the admin: the rule form, the rule's and playbook's outcome panel,
held-out alerts read-only, and the dashboard's "Does it work?" panel with its CSV."""

import csv
import io

import pytest
from django.urls import reverse

from engagement.models.workflow import Alert, AlertRule
from tests.fixtures.outcomes import AS_OF

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/engagement/dashboard/"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"holdout_percent": 51}, "holdout_percent"),
        ({"outcome_window_days": 0}, "outcome_window_days"),
    ],
)
def test_rule_form_names_a_bad_holdout_or_window(client, crm_admin, fields, field):
    client.force_login(crm_admin)
    body = {
        "name": "Held",
        "trigger": "subscription_cancelled",
        "severity": "warning",
        "cooldown_days": 30,
        "holdout_percent": 10,
        "outcome_window_days": 60,
        **fields,
    }
    response = client.post(reverse("admin:engagement_alertrule_add"), body)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not AlertRule.objects.filter(name="Held").exists()


def test_rule_form_saves_a_holdout(client, crm_admin):
    client.force_login(crm_admin)
    body = {
        "name": "Held",
        "trigger": "subscription_cancelled",
        "severity": "warning",
        "cooldown_days": 30,
        "holdout_percent": 25,
        "outcome_window_days": 45,
    }
    assert client.post(reverse("admin:engagement_alertrule_add"), body).status_code == 302
    rule = AlertRule.objects.get(name="Held")
    assert (rule.holdout_percent, rule.outcome_window_days) == (25, 45)


def test_rule_page_shows_its_outcome(client, cs, trial, django_assert_max_num_queries):
    client.force_login(cs)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("admin:engagement_alertrule_change", args=[trial.pk]))
    html = page.content.decode()
    assert "Does it work?" in html
    assert "Converts more than the control group" in html
    assert "50.0%" in html  # treatment conversion
    assert "20.0%" in html  # control conversion
    assert "Conversion uplift: +30.0 points (95% interval" in html


def test_playbook_page_shows_the_outcome_of_its_rules(client, cs, trial):
    client.force_login(cs)
    page = client.get(reverse("admin:engagement_playbook_change", args=[trial.playbook_id]))
    html = page.content.decode()
    assert 'id="outcome"' in html
    assert "Conversion uplift: +30.0 points" in html


def test_a_rule_without_matured_alerts_says_not_enough_data(client, cs):
    rule = AlertRule.objects.get(name="Churned")
    client.force_login(cs)
    html = client.get(reverse("admin:engagement_alertrule_change", args=[rule.pk])).content
    assert b"Not enough data yet." in html


def test_held_out_alert_page_is_read_only(client, cs, trial):
    held_out = Alert.objects.filter(rule=trial, arm="control").first()
    client.force_login(cs)
    page = client.get(reverse("admin:engagement_alert_change", args=[held_out.pk]))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert "Held out" in page.content.decode()


def test_dashboard_shows_does_it_work_with_bars_intervals_and_csv(client, rep, trial):
    client.force_login(rep)
    html = client.get(DASHBOARD, {"end": AS_OF, "period": "month"}).content.decode()
    assert 'id="panel-outcomes"' in html
    assert "Does it work?" in html
    assert "Rule: Trial: +30 (95% interval" in html  # the bar tooltip
    assert "Playbook: Reactivation" in html

    response = client.get(DASHBOARD, {"end": AS_OF, "period": "month", "csv": "outcomes"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == [
        "Rule, playbook or campaign",
        "Window (days)",
        "Treatment n",
        "Control n",
    ]
    rule_row = next(r for r in rows if r[0] == "Rule: Trial")
    assert rule_row[1:6] == ["60", "40", "40", "0.5", "0.2"]
    assert float(rule_row[7]) < 0.3 < float(rule_row[8])
