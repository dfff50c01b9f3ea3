"""GET /api/metrics/outcomes/ and the holdout fields of alert-rules/ and alerts/."""

import datetime as dt

import pytest

from customers.models import Customer
from engagement.models.workflow import Alert, AlertRule
from tests.fixtures.outcomes import AS_OF, FIRED

pytestmark = pytest.mark.django_db
URL = "/api/metrics/outcomes/"


@pytest.mark.parametrize("role", ["rep", "cs", "admin"])
def test_every_crm_role_reads_the_outcomes_in_the_contract_shape(api_for, trial, role):
    response = api_for(role).get(URL, {"as_of": AS_OF, "rule": trial.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == AS_OF
    (row,) = body["results"]
    assert set(row) == {
        "rule",
        "playbook",
        "campaign",
        "window_days",
        "treatment",
        "control",
        "conversion_uplift",
        "purchase_uplift",
        "revenue_uplift",
    }
    assert (row["rule"], row["playbook"], row["campaign"]) == (trial.pk, trial.playbook_id, None)
    assert row["window_days"] == 60
    assert row["treatment"] == {"n": 40, "converted": 0.5, "purchased": 0.0, "revenue": "0.00"}
    assert row["control"] == {"n": 40, "converted": 0.2, "purchased": 0.0, "revenue": "0.00"}
    uplift = row["conversion_uplift"]
    assert set(uplift) == {"value", "low", "high"}
    assert uplift["value"] == pytest.approx(0.3)
    assert uplift["low"] < 0.3 < uplift["high"]
    assert row["revenue_uplift"] == {"value": "0.00", "low": "0.00", "high": "0.00"}


def test_anonymous_callers_are_refused(anon_api):
    assert anon_api.get(URL).status_code in (401, 403)


def test_playbook_filter_answers_its_row_and_its_rules(rep_api, trial):
    body = rep_api.get(URL, {"as_of": AS_OF, "playbook": trial.playbook_id}).json()
    assert {(r["rule"], r["playbook"]) for r in body["results"]} == {
        (trial.pk, trial.playbook_id),
        (None, trial.playbook_id),
    }


def test_too_few_per_arm_is_null_not_a_number(rep_api, trial):
    Alert.objects.filter(rule=trial, arm="control").exclude(
        pk__in=Alert.objects.filter(rule=trial, arm="control").values("pk")[:29]
    ).delete()
    (row,) = rep_api.get(URL, {"as_of": AS_OF, "rule": trial.pk}).json()["results"]
    assert row["control"]["n"] == 29
    assert row["conversion_uplift"] is None
    assert row["revenue_uplift"] is None


def test_an_alert_not_matured_is_not_counted_yet(rep_api, trial):
    early = (FIRED + dt.timedelta(days=59)).isoformat()
    (row,) = rep_api.get(URL, {"as_of": early, "rule": trial.pk}).json()["results"]
    assert row["treatment"]["n"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "2025-13-01"}, "as_of"),
        ({"rule": "abc"}, "rule"),
        ({"rule": 999999}, "rule"),
        ({"playbook": 999999}, "playbook"),
        ({"campaign": 0}, "campaign"),
    ],
)
def test_bad_parameters_answer_400_naming_them(rep_api, params, field):
    response = rep_api.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_queries_do_not_grow_with_rules_or_alerts(rep_api, trial, django_assert_max_num_queries):
    for i in range(5):
        other = AlertRule.objects.create(name=f"Other {i}", trigger="support_spike")
        Alert.objects.bulk_create(
            Alert(
                customer=c,
                rule=other,
                severity="info",
                message="m",
                fired_on=FIRED,
            )
            for c in Customer.objects.all()[:30]
        )
    with django_assert_max_num_queries(8):  # auth, session bits, then three reads
        body = rep_api.get(URL, {"as_of": AS_OF}).json()
    assert len([r for r in body["results"] if r["rule"]]) == 6


def test_csv_flattens_arms_and_uplifts(rep_api, trial):
    response = rep_api.get(URL, {"as_of": AS_OF, "rule": trial.pk, "format": "csv"})
    header = response.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert {"treatment.converted", "control.n", "conversion_uplift.low"} <= set(header)


def test_schema_documents_the_outcomes_parameters(anon_api):
    schema = anon_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/metrics/outcomes/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"as_of", "rule", "playbook", "campaign"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"holdout_percent": 60}, "holdout_percent"),
        ({"outcome_window_days": 0}, "outcome_window_days"),
    ],
)
def test_alert_rule_api_names_a_bad_holdout_or_window(admin_api, fields, field):
    body = {"name": "Held", "trigger": "subscription_cancelled", **fields}
    response = admin_api.post("/api/alert-rules/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_alert_rule_api_stores_the_holdout_and_alerts_show_their_arm(admin_api, trial):
    body = {"name": "Held", "trigger": "subscription_cancelled", "holdout_percent": 20}
    made = admin_api.post("/api/alert-rules/", body, format="json").json()
    assert (made["holdout_percent"], made["outcome_window_days"]) == (20, 60)
    arms = {
        a["arm"] for a in admin_api.get("/api/alerts/", {"status": "held_out"}).json()["results"]
    }
    assert arms == {"control"}


def test_a_held_out_alert_cannot_be_reopened_through_the_api(admin_api, trial):
    alert = Alert.objects.filter(rule=trial, arm="control").first()
    response = admin_api.patch(f"/api/alerts/{alert.pk}/", {"status": "open"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()
