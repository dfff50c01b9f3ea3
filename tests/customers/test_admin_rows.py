"""The customer list's rows come out as Django's own admin would render them."""

import pytest
from django.contrib.admin.templatetags.admin_list import results
from django.urls import reverse

from customers.admin.rows import fast_results
from tests.customers.test_admin import engagement_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")


@pytest.fixture
def varied(rep, other_rep):
    """Rows with and without owner, engagement, types, e-mail and archive date."""
    engagement_for(
        CustomerFactory(name="Ann & Co <Ltd>", owner=rep),
        status="at_risk",
        reactivated=True,
        type_loyal=True,
        type_support=True,
    )
    engagement_for(CustomerFactory(name="Bare", owner=other_rep, country="", industry=""))
    CustomerFactory(name="Not computed", owner=None, kind="person")
    archived = CustomerFactory(name="Zed archived", owner=rep)
    archived.archived_at = "2025-01-02T10:00:00Z"
    archived.save()


def _rows(response):
    cl = response.context["cl"]
    return ["".join(row) for row in fast_results(cl)], ["".join(row) for row in results(cl)]


@pytest.mark.parametrize(
    "params",
    [{}, {"archived": "all"}, {"o": "-8"}, {"q": "co", "archived": "all"}, {"status": "at_risk"}],
)
@pytest.mark.parametrize("role", ["rep", "crm_admin", "cs"])
def test_rows_are_djangos_markup(client, varied, request, role, params):
    client.force_login(request.getfixturevalue(role))
    fast, django = _rows(client.get(CHANGELIST, params))
    assert fast
    assert fast == django


def test_rows_escape_names(client, varied, crm_admin):
    client.force_login(crm_admin)
    html = client.get(CHANGELIST).content.decode()
    assert "Ann &amp; Co &lt;Ltd&gt;" in html
    assert "<Ltd>" not in html
