"""Audit history: rows for admin edits and imports alike, visible in the admin, revertible
by whoever may change the record, and archived customers restorable."""

import pytest
from django.urls import reverse
from simple_history.models import registered_models

from customers import services
from customers.importing import records_import
from customers.models import Contact, Customer, Subscription
from engagement.models.rules import RuleSet
from engagement.models.workflow import ActionPlan, AlertRule, Playbook
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def customer_form(customer, **overrides):
    """The customer page's POST (as the change form and the revert form both send it)."""
    data = {
        "name": customer.name,
        "kind": customer.kind,
        "owner": customer.owner_id or "",
        "customer_since": customer.customer_since,
        "email": customer.email,
        "phone": customer.phone,
        "country": customer.country,
        "industry": customer.industry,
        "external_id": customer.external_id,
        "_save": "Save",
    }
    for prefix in ("contacts", "subscriptions", "interactions"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return {**data, **overrides}


def revert_url(obj, version):
    opts = obj._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history",
        args=[obj.pk, version.history_id],
    )


def test_the_audited_models_keep_history():
    audited = {Customer, Contact, Subscription, RuleSet, Playbook, AlertRule, ActionPlan}
    assert audited <= set(registered_models.values())


def test_admin_edit_and_import_both_write_history_naming_the_user(client, rep, crm_admin):
    customer = CustomerFactory(owner=rep, external_id="C1", industry="Retail")
    client.force_login(rep)
    client.post(change_url(customer), customer_form(customer, industry="Energy"))
    records_import(
        model_name="customers",
        data=b"external_id,industry\nC1,Mining\n",
        filename="fix.csv",
        user=crm_admin,
    )
    versions = list(customer.history.order_by("history_id"))
    assert [(v.history_type, v.industry) for v in versions] == [
        ("+", "Retail"),
        ("~", "Energy"),
        ("~", "Mining"),
    ]
    assert [v.history_user for v in versions[1:]] == [rep, crm_admin]
    assert versions[2].history_change_reason == "Imported from fix.csv"
    # The admin's history page shows who changed what.
    client.force_login(crm_admin)
    page = client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert rep.username in content
    assert crm_admin.username in content


def test_import_history_for_contacts_and_subscriptions(crm_admin):
    CustomerFactory(external_id="C1")
    records_import(
        model_name="contacts",
        data=b"external_id,customer,last_name\nP1,C1,Lovelace\n",
        filename="contacts.csv",
        user=crm_admin,
    )
    contact = Contact.objects.get()
    assert [(h.history_type, h.history_user) for h in contact.history.all()] == [("+", crm_admin)]


def test_rep_reverts_own_customer_to_a_previous_version(client, rep):
    customer = CustomerFactory(owner=rep, industry="Retail")
    client.force_login(rep)
    client.post(change_url(customer), customer_form(customer, industry="Energy"))
    first = customer.history.order_by("history_id").first()
    page = client.get(revert_url(customer, first))
    assert page.status_code == 200
    assert 'value="Retail"' in page.content.decode()  # the form holds the old version
    customer.refresh_from_db()
    response = client.post(revert_url(customer, first), customer_form(customer, industry="Retail"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.industry == "Retail"
    latest = customer.history.latest()
    assert (latest.history_type, latest.history_user, latest.industry) == ("~", rep, "Retail")


@pytest.mark.parametrize("role", ["other_rep", "cs"])
def test_only_who_may_change_the_customer_reverts_it(client, rep, role, request):
    customer = CustomerFactory(owner=rep, industry="Retail")
    customer.industry = "Energy"
    customer.save()
    first = customer.history.order_by("history_id").first()
    client.force_login(request.getfixturevalue(role))
    response = client.post(revert_url(customer, first), customer_form(customer, industry="Retail"))
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.industry == "Energy"


def test_rep_reverts_a_contact_of_own_customer_but_not_of_others(client, rep, other_rep):
    mine = ContactFactory(customer=CustomerFactory(owner=rep), title="CEO")
    theirs = ContactFactory(customer=CustomerFactory(owner=other_rep), title="CEO")
    for contact in (mine, theirs):
        contact.title = "CTO"
        contact.save()
    client.force_login(rep)

    def form(contact):
        return {
            "customer": contact.customer_id,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "title": "CEO",
            "email": contact.email,
            "phone": "",
            "external_id": "",
            "_save": "Save",
        }

    first = mine.history.order_by("history_id").first()
    assert client.post(revert_url(mine, first), form(mine)).status_code == 302
    mine.refresh_from_db()
    assert mine.title == "CEO"
    first = theirs.history.order_by("history_id").first()
    assert client.post(revert_url(theirs, first), form(theirs)).status_code == 403
    theirs.refresh_from_db()
    assert theirs.title == "CTO"


def test_archived_customer_is_restored_with_its_history(client, crm_admin):
    customer = CustomerFactory(name="Sleeping Co")
    client.force_login(crm_admin)
    changelist = reverse("admin:customers_customer_changelist")
    client.post(
        changelist,
        {"action": "archive_customers", "_selected_action": [customer.pk]},
    )
    customer.refresh_from_db()
    assert customer.archived_at is not None
    # Still reachable: its page and its history.
    assert client.get(change_url(customer)).status_code == 200
    assert (
        client.get(reverse("admin:customers_customer_history", args=[customer.pk])).status_code
        == 200
    )
    client.post(
        f"{changelist}?archived=yes",
        {"action": "restore_customers", "_selected_action": [customer.pk]},
    )
    customer.refresh_from_db()
    assert customer.archived_at is None
    archived, restored = customer.history.order_by("history_id")[1:]
    assert archived.archived_at is not None
    assert restored.archived_at is None
    assert {archived.history_user, restored.history_user} == {crm_admin}


def _archived_after_an_edit(rep, crm_admin):
    """A customer of `rep`: edited once, then archived by crm_admin. Answers the customer
    and its version from before the archive."""
    customer = CustomerFactory(owner=rep, industry="Retail")
    customer.industry = "Energy"
    customer.save()
    before_archive = customer.history.latest()
    services.customer_archive(customer=customer, user=crm_admin)
    customer.refresh_from_db()
    return customer, before_archive


def test_an_owner_rep_cannot_undo_an_archive_by_reverting(client, rep, crm_admin):
    customer, before_archive = _archived_after_an_edit(rep, crm_admin)
    archived_at = customer.archived_at
    client.force_login(rep)
    client.post(
        revert_url(customer, before_archive), customer_form(customer, industry="Energy")
    )
    customer.refresh_from_db()
    assert customer.archived_at == archived_at


def test_reverting_restores_the_editable_fields_and_keeps_the_read_only_ones(
    client, rep, crm_admin
):
    customer, _ = _archived_after_an_edit(rep, crm_admin)
    first = customer.history.earliest()
    created_at, archived_at = customer.created_at, customer.archived_at
    client.force_login(crm_admin)
    response = client.post(revert_url(customer, first), customer_form(customer, industry="Retail"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.industry == "Retail"
    # Archiving is not an edit: only the restore action undoes it.
    assert (customer.created_at, customer.archived_at) == (created_at, archived_at)


def test_a_field_read_only_for_the_user_is_not_reverted(client, rep, monkeypatch):
    from customers.admin.customer import CustomerAdmin

    customer = CustomerFactory(owner=rep, industry="Retail", country="DE")
    customer.industry, customer.country = "Energy", "FR"
    customer.save()
    first = customer.history.earliest()
    original = CustomerAdmin.get_readonly_fields

    def industry_read_only(self, request, obj=None):
        return [*original(self, request, obj), "industry"]

    monkeypatch.setattr(CustomerAdmin, "get_readonly_fields", industry_read_only)
    client.force_login(rep)
    form = customer_form(customer, industry="Retail", country="DE")
    assert client.post(revert_url(customer, first), form).status_code == 302
    customer.refresh_from_db()
    assert (customer.industry, customer.country) == ("Energy", "DE")
