"""The stored results and status history in the admin: read-only for every role, flat queries."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagement.models import EngagementResult, RuleSet, Status, StatusHistory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

RESULTS = reverse("admin:engagement_engagementresult_changelist")
HISTORY = reverse("admin:engagement_statushistory_changelist")
TYPE_CHANGES = reverse("admin:engagement_typechange_changelist")
CUSTOMERS = reverse("admin:customers_customer_changelist")


@pytest.fixture
def rule_set(db):
    return RuleSet.objects.create(version=1)


def _result(customer, rule_set, status=Status.ACTIVE, **fields):
    return EngagementResult.objects.create(
        customer=customer,
        status=status,
        rule_set=rule_set,
        as_of=timezone.localdate(),
        computed_at=timezone.now(),
        **fields,
    )


def _results(rule_set, count, **fields):
    for customer in CustomerFactory.create_batch(count):
        _result(customer, rule_set, **fields)


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
def test_every_role_reads_results_and_history_but_cannot_change_them(
    client, request, role, rule_set
):
    user = request.getfixturevalue(role)
    customer = CustomerFactory()
    _result(customer, rule_set)
    StatusHistory.objects.create(
        customer=customer,
        from_status="",
        to_status=Status.ACTIVE,
        as_of=timezone.localdate(),
        changed_at=timezone.now(),
        rule_set=rule_set,
    )
    client.force_login(user)
    for url in (RESULTS, HISTORY, TYPE_CHANGES):
        assert client.get(url).status_code == 200
    page = client.get(RESULTS)
    assert customer.name in page.content.decode()
    assert page.context["cl"].model_admin.has_change_permission(page.wsgi_request) is False
    change = reverse("admin:engagement_engagementresult_change", args=[customer.pk])
    assert client.post(change, {"status": Status.CHURNED}).status_code == 403
    assert EngagementResult.objects.get(customer=customer).status == Status.ACTIVE


def test_results_filter_by_status_type_and_reactivated(admin_client, rule_set):
    loyal, at_risk, back = CustomerFactory.create_batch(3)
    _result(loyal, rule_set, type_loyal=True)
    _result(at_risk, rule_set, status=Status.AT_RISK)
    _result(back, rule_set, reactivated=True)

    def names(query):
        return {
            r.customer.name
            for r in admin_client.get(f"{RESULTS}?{query}").context["cl"].result_list
        }

    assert names("status__exact=at_risk") == {at_risk.name}
    assert names("type=loyal") == {loyal.name}
    assert names("type=not_loyal") == {at_risk.name, back.name}
    assert names("reactivated__exact=1") == {back.name}


def test_history_filters_by_customer_from_the_panel_link(admin_client, rule_set):
    mine, other = CustomerFactory.create_batch(2)
    for customer in (mine, other):
        StatusHistory.objects.create(
            customer=customer,
            from_status=Status.ACTIVE,
            to_status=Status.AT_RISK,
            as_of=timezone.localdate(),
            changed_at=timezone.now(),
            rule_set=rule_set,
        )
    page = admin_client.get(f"{HISTORY}?customer__id__exact={mine.pk}")
    assert [row.customer_id for row in page.context["cl"].result_list] == [mine.pk]
    assert admin_client.get(f"{HISTORY}?to_status__exact=at_risk").context["cl"].result_count == 2


def test_results_list_query_count_does_not_grow_with_rows(
    admin_client, rule_set, django_assert_max_num_queries
):
    _results(rule_set, 5)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(RESULTS)
    _results(rule_set, 60, type_loyal=True, reactivated=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(f"{RESULTS}?type=loyal")
    assert len(page.context["cl"].result_list) == 60


def test_history_list_query_count_does_not_grow_with_rows(
    admin_client, rule_set, django_assert_max_num_queries
):
    def add(count):
        for customer in CustomerFactory.create_batch(count):
            StatusHistory.objects.create(
                customer=customer,
                from_status=Status.ACTIVE,
                to_status=Status.INACTIVE,
                as_of=timezone.localdate() - dt.timedelta(days=1),
                changed_at=timezone.now(),
                rule_set=rule_set,
            )

    add(5)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(HISTORY)
    add(60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(f"{HISTORY}?to_status__exact=inactive")
    assert page.context["cl"].result_count == 65
