import pytest
from django.db import connection
from django.urls import reverse

from crm import admin as crm_admin
from customers.models import Interaction
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def test_filtered_lists_count_exactly():
    customer = CustomerFactory()
    InteractionFactory.create_batch(3, customer=customer)
    InteractionFactory()
    paginator = crm_admin.EstimatedCountPaginator(
        Interaction.objects.filter(customer=customer).order_by("id"), 100
    )
    assert paginator.count == 3


def test_unfiltered_big_table_count(monkeypatch):
    """PostgreSQL answers the planner's estimate for a whole big table; SQLite counts."""
    InteractionFactory.create_batch(4)
    monkeypatch.setattr(crm_admin, "_ESTIMATE_ABOVE", 0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_interaction")
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = 'customers_interaction'"
            )
            expected = cursor.fetchone()[0]
        assert expected > 0  # ANALYZE counts the rows this transaction inserted
    else:
        expected = 4
    paginator = crm_admin.EstimatedCountPaginator(Interaction.objects.order_by("id"), 100)
    assert paginator.count == expected


def test_login_page_names_the_product(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert "<title>Log in | Engagement CRM</title>" in page
    assert '<a href="/admin/">Engagement CRM</a>' in page
    assert "Django administration" not in page
    assert "Django site admin" not in page


def test_every_admin_page_names_the_product(client, rep):
    client.force_login(rep)
    for url in (reverse("admin:index"), reverse("admin:customers_customer_changelist")):
        page = client.get(url).content.decode()
        assert "| Engagement CRM</title>" in page
        assert ">Engagement CRM</a>" in page
        assert "Django administration" not in page
        assert "Django site admin" not in page


LISTS = {
    "customers_customer": "Customers",
    "customers_interaction": "Interactions",
    "engagement_alert": "Alerts",
    "engagement_statushistory": "Status history",
}


@pytest.mark.parametrize("role", ["rep", "cs", "crm_admin"])
@pytest.mark.parametrize(("list_name", "title"), LISTS.items())
def test_lists_are_titled_by_what_they_hold(client, request, role, list_name, title):
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse(f"admin:{list_name}_changelist")).content.decode()
    assert f"<h1>{title}</h1>" in page
    assert f"<title>{title} | Engagement CRM</title>" in page
    assert "to change" not in page
    assert "to view" not in page


def test_a_picker_popup_keeps_saying_select(client, rep):
    client.force_login(rep)
    page = client.get(reverse("admin:customers_customer_changelist"), {"_popup": "1"})
    assert "<h1>Select customer</h1>" in page.content.decode()


def test_a_list_that_titles_itself_keeps_its_title(client, rep):
    customer = CustomerFactory(name="ACME")
    client.force_login(rep)
    url = reverse("admin:customers_interaction_changelist")
    page = client.get(url, {"customer__id__exact": customer.pk}).content.decode()
    assert "<h1>Interactions of ACME</h1>" in page
