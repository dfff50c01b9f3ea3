"""Live engagement, rules, recompute and segments through the API."""

import datetime as dt

import pytest
from django.utils import timezone

from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

LIVE_KEYS = {"customer", "as_of", "status", "types", "reactivated", "score", "reasons", "metrics"}


def _active_customer():
    customer = CustomerFactory(customer_since=dt.date(2020, 1, 1))
    InteractionFactory(customer=customer, kind="login", occurred_at=timezone.now())
    return customer


# Live engagement --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "cs", "admin"])
def test_live_engagement_has_the_contract_keys(api_for, role):
    customer = _active_customer()
    response = api_for(role).get(f"/api/customers/{customer.pk}/engagement/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == LIVE_KEYS
    assert body["customer"] == customer.pk
    assert body["as_of"] == timezone.localdate().isoformat()
    assert body["status"] == "active"
    assert body["reasons"]


def test_live_engagement_as_of_a_past_day(cs_api):
    customer = _active_customer()
    as_of = timezone.localdate() + dt.timedelta(days=200)
    body = cs_api.get(f"/api/customers/{customer.pk}/engagement/?as_of={as_of}").json()
    assert body["as_of"] == as_of.isoformat()
    assert body["status"] == "churned"


def test_live_engagement_stores_nothing(cs_api):
    customer = _active_customer()
    cs_api.get(f"/api/customers/{customer.pk}/engagement/")
    assert not EngagementResult.objects.exists()


@pytest.mark.parametrize("as_of", ["2024-13-01", "yesterday", "01/02/2024"])
def test_malformed_as_of_is_a_400_naming_it(cs_api, as_of):
    customer = CustomerFactory()
    response = cs_api.get(f"/api/customers/{customer.pk}/engagement/?as_of={as_of}")
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_live_engagement_of_an_unknown_customer_is_a_404(cs_api):
    response = cs_api.get("/api/customers/999999/engagement/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_live_engagement_needs_authentication(anon_api):
    customer = CustomerFactory()
    assert anon_api.get(f"/api/customers/{customer.pk}/engagement/").status_code == 401


# Rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "cs", "admin"])
def test_every_role_reads_the_rules(api_for, role):
    body = api_for(role).get("/api/engagement/rules/").json()
    assert body["active_days"] == 30
    assert body["count_trials_as_subscribers"] is False
    assert "version" in body


def test_admin_patch_makes_a_new_version(admin_api, crm_admin):
    before = admin_api.get("/api/engagement/rules/").json()
    response = admin_api.patch("/api/engagement/rules/", {"active_days": 21}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == before["version"] + 1
    assert body["active_days"] == 21
    assert body["at_risk_days"] == before["at_risk_days"]
    assert admin_api.get("/api/engagement/rules/").json()["active_days"] == 21
    assert RuleSet.objects.filter(version=before["version"]).exists()


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_only_admins_change_rules(api_for, role):
    before = RuleSet.objects.count()
    response = api_for(role).patch("/api/engagement/rules/", {"active_days": 5}, format="json")
    assert response.status_code == 403
    assert RuleSet.objects.count() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"active_days": -1}, "active_days"),
        ({"active_days": "soon"}, "active_days"),
        ({"count_trials_as_subscribers": "maybe"}, "count_trials_as_subscribers"),
        ({"vip_days": 3}, "vip_days"),
    ],
)
def test_invalid_rule_changes_are_400_per_field(admin_api, body, field):
    admin_api.get("/api/engagement/rules/")
    before = RuleSet.objects.count()
    response = admin_api.patch("/api/engagement/rules/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert RuleSet.objects.count() == before


def test_inconsistent_rules_are_refused(admin_api):
    admin_api.get("/api/engagement/rules/")
    before = RuleSet.objects.count()
    response = admin_api.patch(
        "/api/engagement/rules/", {"active_days": 80, "at_risk_days": 60}, format="json"
    )
    assert response.status_code == 400
    assert RuleSet.objects.count() == before


# Recompute --------------------------------------------------------------------------------


def test_admin_recompute_runs_and_answers_its_summary(admin_api):
    customer = _active_customer()
    response = admin_api.post("/api/engagement/recompute/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "done"
    assert body["task_id"]
    assert isinstance(body["summary"], dict)
    assert EngagementResult.objects.get(customer=customer).status == "active"


def test_recompute_as_of_a_day(admin_api):
    customer = _active_customer()
    as_of = timezone.localdate() + dt.timedelta(days=200)
    response = admin_api.post(
        "/api/engagement/recompute/", {"as_of": as_of.isoformat()}, format="json"
    )
    assert response.status_code == 200
    result = EngagementResult.objects.get(customer=customer)
    assert (result.as_of, result.status) == (as_of, "churned")


def test_recompute_with_a_malformed_day_is_a_400(admin_api):
    response = admin_api.post("/api/engagement/recompute/", {"as_of": "soon"}, format="json")
    assert response.status_code == 400
    assert "as_of" in response.json()


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_only_admins_trigger_a_recompute(api_for, role):
    _active_customer()
    assert api_for(role).post("/api/engagement/recompute/", {}, format="json").status_code == 403
    assert not EngagementResult.objects.exists()


# Segments ---------------------------------------------------------------------------------


def test_segments_count_by_type_and_status(cs_api):
    rule_set = RuleSet.objects.create(version=99)
    today = timezone.localdate()

    def result(customer, status, **types):
        EngagementResult.objects.create(
            customer=customer,
            status=status,
            rule_set=rule_set,
            as_of=today,
            computed_at=timezone.now(),
            **{f"type_{t}": True for t in types},
        )

    result(CustomerFactory(kind="person"), "active", loyal=True, recent_buyer=True)
    result(CustomerFactory(), "active", loyal=True)
    result(CustomerFactory(), "churned")
    result(CustomerFactory(archived_at=timezone.now()), "active", loyal=True)
    CustomerFactory()
    body = cs_api.get("/api/segments/").json()
    assert body["total"] == 4
    assert body["unclassified"] == 1
    assert body["by_status"]["active"] == 2
    assert body["by_status"]["churned"] == 1
    assert body["by_status"]["new"] == 0
    assert body["by_type"]["loyal"] == 2
    assert body["by_type"]["recent_buyer"] == 1
    assert body["by_type"]["support"] == 0
    assert cs_api.get("/api/segments/?kind=person").json()["total"] == 1


@pytest.mark.parametrize("role", ["rep", "cs", "admin"])
def test_every_role_reads_segments(api_for, role):
    assert api_for(role).get("/api/segments/").status_code == 200


def test_a_bad_segment_filter_is_a_400(cs_api):
    response = cs_api.get("/api/segments/?status=asleep")
    assert response.status_code == 400
    assert "status" in response.json()


def test_with_a_broker_the_recompute_is_queued_and_answers_its_task_id(
    admin_api, settings, monkeypatch
):
    from engagement import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []

    class _Result:
        id = "task-123"

    def fake_delay(as_of):
        queued.append(as_of)
        return _Result()

    monkeypatch.setattr(tasks.recompute_all, "delay", fake_delay)
    response = admin_api.post("/api/engagement/recompute/", {"as_of": "2025-01-31"}, format="json")
    assert response.status_code == 202
    assert response.json() == {"task_id": "task-123", "status": "queued", "summary": None}
    assert queued == ["2025-01-31"]
    assert not EngagementResult.objects.exists()
