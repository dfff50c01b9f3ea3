"""The 'Recompute engagement' action of the customer list: crm_admin only."""

import datetime as dt

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from engagement.models import EngagementResult, Status
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("admin:customers_customer_changelist")
RESULTS = reverse("admin:engagement_engagementresult_changelist")


def _action(customers, name="recompute_engagement_action"):
    return {"action": name, helpers.ACTION_CHECKBOX_NAME: [c.pk for c in customers]}


def _active_customers(count, owner=None):
    customers = CustomerFactory.create_batch(count, owner=owner)
    for customer in customers:
        InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=2))
    return customers


def test_crm_admin_recomputes_the_selected_customers(
    client, crm_admin, django_capture_on_commit_callbacks
):
    chosen, left = _active_customers(2), _active_customers(1)
    client.force_login(crm_admin)
    choices = dict(client.get(CUSTOMERS).context["action_form"].fields["action"].choices)
    assert choices["recompute_engagement_action"] == "Recompute engagement"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CUSTOMERS, _action(chosen), follow=True)

    assert "Recomputing the engagement of 2 customers." in response.content.decode()
    stored = dict(EngagementResult.objects.values_list("customer_id", "status"))
    assert stored == {c.pk: Status.ACTIVE for c in chosen}
    assert left[0].pk not in stored


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_other_roles_neither_see_nor_run_the_action(
    client, request, role, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(role)
    customers = _active_customers(2, owner=user if role == "rep" else None)
    client.force_login(user)
    action_form = client.get(CUSTOMERS).context["action_form"]
    if action_form is not None:  # customer success has no action at all on this list
        assert "recompute_engagement_action" not in dict(action_form.fields["action"].choices)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(CUSTOMERS, _action(customers))
        client.post(RESULTS, _action(customers, "recompute_results_action"))

    assert not EngagementResult.objects.exists()
