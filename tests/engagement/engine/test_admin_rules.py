"""Engagement rules in the admin: every role reads the versions; crm_admin changes them
through a preview."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagement.engine.recompute import engagement_recompute
from engagement.engine.rule_sets import rule_set_ensure
from engagement.models import EngagementResult, RuleSet, Status, StatusHistory
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:engagement_ruleset_changelist")
CHANGE_RULES = reverse("admin:engagement_ruleset_change_rules")
CONFIRM = reverse("admin:engagement_ruleset_confirm_rules")


def _form(rule_set, **changes):
    """The POST of the change form: every threshold of `rule_set`, with `changes`."""
    data = {"base_version": rule_set.version}
    for name in RuleSet.THRESHOLD_FIELDS:
        value = changes.get(name, getattr(rule_set, name))
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    return data


@pytest.fixture
def rules(db):
    return rule_set_ensure()


@pytest.fixture
def at_40_days(rules):
    """Three customers last active 40 days ago: at risk under the defaults, stored."""
    customers = CustomerFactory.create_batch(3)
    for customer in customers:
        InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=40))
    engagement_recompute()
    assert set(EngagementResult.objects.values_list("status", flat=True)) == {Status.AT_RISK}
    return customers


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_every_role_reads_every_rule_version(client, request, role, rules):
    client.force_login(request.getfixturevalue(role))
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert f"v{rules.version}" in page.content.decode()
    assert "active" in page.content.decode()
    view = client.get(reverse("admin:engagement_ruleset_change", args=[rules.pk]))
    assert view.status_code == 200
    assert view.context["adminform"].form.fields == {}  # every field read-only


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_only_crm_admin_may_change_rules(client, request, role, rules):
    client.force_login(request.getfixturevalue(role))
    assert CHANGE_RULES not in client.get(CHANGELIST).content.decode()
    assert client.get(CHANGE_RULES).status_code == 403
    assert client.post(CHANGE_RULES, _form(rules, active_days=45)).status_code == 403
    assert client.post(CONFIRM, _form(rules, active_days=45)).status_code == 403
    assert RuleSet.objects.count() == 1


def test_crm_admin_finds_the_change_form_filled_with_the_active_rules(client, crm_admin, rules):
    client.force_login(crm_admin)
    assert CHANGE_RULES in client.get(CHANGELIST).content.decode()
    form = client.get(CHANGE_RULES).context["form"]
    assert form.initial["active_days"] == rules.active_days
    assert form.initial["base_version"] == rules.version


def test_nonsense_rules_are_refused_with_a_message_per_field(client, crm_admin, rules):
    client.force_login(crm_admin)
    page = client.post(CHANGE_RULES, _form(rules, active_days=70, at_risk_days=60))
    form = page.context["form"]
    assert {"active_days", "at_risk_days"} <= set(form.errors)
    html = page.content.decode()
    assert "Please correct the errors below." in html
    assert form.errors["active_days"][0] in html  # shown beside its field

    negative = client.post(CHANGE_RULES, _form(rules, recent_buyer_days=-5)).context["form"]
    assert "recent_buyer_days" in negative.errors
    assert RuleSet.objects.count() == 1


def test_preview_shows_who_would_move_and_writes_nothing(client, crm_admin, rules, at_40_days):
    client.force_login(crm_admin)
    history_before = StatusHistory.objects.count()

    page = client.post(CHANGE_RULES, _form(rules, active_days=45))

    assert page.status_code == 200
    assert page.templates[0].name == "admin/engagement/ruleset/preview.html"
    moves = page.context["status_moves"]
    assert [(m["from_status"], m["to_status"], m["count"]) for m in moves] == [
        (Status.AT_RISK, Status.ACTIVE, 3)
    ]
    sample = moves[0]["samples"][0]
    assert sample["name"] in {c.name for c in at_40_days}
    html = page.content.decode()
    assert reverse("admin:customers_customer_change", args=[sample["id"]]) in html
    assert ("active_days", "active days", 30, 45) in [
        (n, str(label), old, new) for n, label, old, new in page.context["changed"]
    ]
    # Nothing changed: no version, no result, no history.
    assert RuleSet.objects.count() == 1
    assert set(EngagementResult.objects.values_list("status", flat=True)) == {Status.AT_RISK}
    assert StatusHistory.objects.count() == history_before


def test_confirm_saves_a_new_version_and_recomputes_everyone(
    client, crm_admin, rules, at_40_days, django_capture_on_commit_callbacks
):
    client.force_login(crm_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONFIRM, _form(rules, active_days=45))

    assert response.status_code == 302
    assert response.url == CHANGELIST
    new = rule_set_ensure()
    assert (new.version, new.active_days, new.created_by) == (rules.version + 1, 45, crm_admin)
    # The old version is kept, unchanged and readable.
    assert RuleSet.objects.get(pk=rules.pk).active_days == 30
    results = EngagementResult.objects.filter(customer__in=at_40_days)
    assert {(r.status, r.rule_set_id) for r in results} == {(Status.ACTIVE, new.pk)}
    page = client.get(CHANGELIST)
    assert f"Rules v{new.version} saved" in page.content.decode()


def test_confirm_after_someone_else_changed_the_rules_shows_the_preview_again(
    client, crm_admin, rules
):
    client.force_login(crm_admin)
    stale = _form(rules, active_days=45)
    assert client.post(CONFIRM, _form(rules, inactive_days=120)).status_code == 302
    page = client.post(CONFIRM, stale)
    assert page.status_code == 200
    assert page.templates[0].name == "admin/engagement/ruleset/preview.html"
    assert "changed meanwhile" in page.content.decode()
    assert rule_set_ensure().version == rules.version + 1


def test_an_unchanged_form_offers_no_confirm(client, crm_admin, rules):
    client.force_login(crm_admin)
    page = client.post(CHANGE_RULES, _form(rules))
    assert page.context["changed"] == []
    assert "nothing to change" in page.content.decode()


def test_back_to_the_form_keeps_the_typed_values(client, crm_admin, rules):
    client.force_login(crm_admin)
    page = client.post(CHANGE_RULES, {**_form(rules, active_days=45), "_edit": "1"})
    assert page.templates[0].name == "admin/engagement/ruleset/change_rules.html"
    assert page.context["form"]["active_days"].value() == "45"
