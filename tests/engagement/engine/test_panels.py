"""The engagement panel of the customer page: every reason, the stored result, the history strip."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagement.admin.engine.panel import HISTORY_ROWS, customer_panel_context
from engagement.engine.recompute import engagement_recompute
from engagement.engine.rule_sets import rule_set_ensure
from engagement.models import CustomerType, RuleSet, Status, StatusHistory
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def _ago(days):
    return timezone.now() - dt.timedelta(days=days)


@pytest.fixture
def at_risk(db):
    rule_set_ensure()
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=_ago(41))
    return customer


def _history(customer, count):
    rule_set = rule_set_ensure()
    today = timezone.localdate()
    StatusHistory.objects.bulk_create(
        StatusHistory(
            customer=customer,
            from_status=Status.ACTIVE if i % 2 else Status.AT_RISK,
            to_status=Status.AT_RISK if i % 2 else Status.ACTIVE,
            as_of=today - dt.timedelta(days=count - i),
            changed_at=timezone.now(),
            rule_set=rule_set,
        )
        for i in range(count)
    )


def test_panel_explains_the_status_and_every_type(at_risk):
    panel = customer_panel_context(at_risk)
    assert panel["status"] == Status.AT_RISK
    assert "41" in panel["status_reason"]
    assert [row["code"] for row in panel["type_reasons"]] == CustomerType.values
    assert all(row["reason"] and not row["held"] for row in panel["type_reasons"])
    assert panel["rule_version"] == rule_set_ensure().version
    assert 0 <= panel["score"] <= 100
    assert panel["stored"] is None


def test_showing_the_panel_before_any_rule_version_writes_nothing(db):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=_ago(41))
    panel = customer_panel_context(customer)
    assert panel["status"] == Status.AT_RISK  # the default rules
    assert panel["rule_version"] is None
    assert not RuleSet.objects.exists()


def test_panel_shows_the_stored_result_and_the_latest_history(at_risk):
    engagement_recompute()
    _history(at_risk, HISTORY_ROWS + 5)
    panel = customer_panel_context(at_risk)
    assert panel["stored"].status == Status.AT_RISK
    assert panel["stored_differs"] is False
    history = panel["history"]
    assert len(history) == HISTORY_ROWS
    assert history[0].as_of == max(h.as_of for h in StatusHistory.objects.filter(customer=at_risk))
    assert str(at_risk.pk) in panel["history_url"]


def test_panel_as_of_an_earlier_day(at_risk):
    panel = customer_panel_context(at_risk, as_of=timezone.localdate() - dt.timedelta(days=20))
    assert panel["status"] == Status.ACTIVE


def test_panel_query_count_does_not_grow_with_history(at_risk, django_assert_max_num_queries):
    engagement_recompute()
    _history(at_risk, 2)
    # The live evaluation reads a few indexed aggregates; stored result and history one each.
    with django_assert_max_num_queries(10) as few:
        customer_panel_context(at_risk)
    for days in range(1, 300, 3):
        InteractionFactory(customer=at_risk, occurred_at=_ago(days))
    _history(at_risk, 200)
    with django_assert_max_num_queries(len(few.captured_queries)):
        customer_panel_context(at_risk)


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_customer_page_shows_the_panel_to_every_role(client, request, role, at_risk):
    engagement_recompute()
    _history(at_risk, 3)
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse("admin:customers_customer_change", args=[at_risk.pk]))
    html = page.content.decode()
    assert 'id="engagement-panel"' in html
    assert "At risk" in html
    assert page.context["engagement_panel"]["status_reason"] in html
    for row in page.context["engagement_panel"]["type_reasons"]:
        assert str(row["label"]) in html
    assert html.count('class="engagement-badge"') >= 3
    assert RuleSet.objects.count() == 1
