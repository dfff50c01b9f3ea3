"""The admin as each role uses it: what they see, what they may change, and its cost."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, Customer, Interaction, Product
from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")
ADD = reverse("admin:customers_customer_add")
INTERACTION_ADD = reverse("admin:customers_interaction_add")


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def customer_form(customer=None, **overrides):
    """A customer change/add POST with empty inline management forms."""
    data = {
        "name": customer.name if customer else "New Co",
        "kind": customer.kind if customer else "company",
        "owner": (customer.owner_id or "") if customer else "",
        "customer_since": (customer.customer_since if customer else timezone.localdate()),
        "email": customer.email if customer else "",
        "phone": "",
        "country": customer.country if customer else "",
        "industry": customer.industry if customer else "",
        "external_id": customer.external_id if customer else "",
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
    data.update(overrides)
    return data


def interaction_form(customer, **overrides):
    return {
        "customer": customer.pk,
        "contact": "",
        "kind": "call",
        "direction": "",
        "occurred_at_0": "2025-01-02",
        "occurred_at_1": "10:00:00",
        "amount": "",
        "subject": "Check-in",
        "notes": "",
        "external_id": "",
        "_save": "Save",
        **overrides,
    }


def listed_names(response):
    return [customer.name for customer in response.context["cl"].result_list]


def engagement_for(customer, **fields):
    rule_set, _ = RuleSet.objects.get_or_create(version=1)
    return EngagementResult.objects.create(
        customer=customer,
        rule_set=rule_set,
        as_of=timezone.localdate(),
        computed_at=timezone.now(),
        **{"status": "active", "score": 50, **fields},
    )


# Reps: their own accounts


def test_rep_edits_own_customer(client, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    response = client.post(change_url(customer), customer_form(customer, industry="Energy"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.industry == "Energy"


def test_rep_cannot_edit_other_reps_customer(client, rep, other_rep):
    customer = CustomerFactory(owner=other_rep, industry="Retail")
    client.force_login(rep)
    page = client.get(change_url(customer))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert 'name="_save"' not in page.content.decode()
    response = client.post(change_url(customer), customer_form(customer, industry="Energy"))
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.industry == "Retail"


def test_rep_creating_a_customer_becomes_owner(client, rep):
    client.force_login(rep)
    assert client.get(ADD).context["adminform"].form.initial["owner"] == rep.pk
    response = client.post(ADD, customer_form(name="Fresh Co", owner=""))
    assert response.status_code == 302
    assert Customer.objects.get(name="Fresh Co").owner == rep


def test_customer_add_form_errors_name_the_field(client, rep):
    client.force_login(rep)
    response = client.post(ADD, customer_form(name="", email="not-an-email"))
    assert response.status_code == 200
    assert {"name", "email"} <= set(response.context["adminform"].form.errors)
    assert not Customer.objects.exists()


def test_rep_adds_a_contact_inline_on_own_customer(client, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(rep)
    data = customer_form(
        customer,
        **{
            "contacts-TOTAL_FORMS": "1",
            "contacts-0-first_name": "Grace",
            "contacts-0-last_name": "Hopper",
            "contacts-0-email": "grace@example.com",
        },
    )
    assert client.post(change_url(customer), data).status_code == 302
    assert customer.contacts.get().last_name == "Hopper"


def test_rep_cannot_change_contact_of_other_reps_customer(client, rep, other_rep):
    contact = ContactFactory(customer=CustomerFactory(owner=other_rep), title="CEO")
    client.force_login(rep)
    url = reverse("admin:customers_contact_change", args=[contact.pk])
    assert client.get(url).status_code == 200  # read-only view
    data = {"customer": contact.customer_id, "last_name": "X", "title": "Intern", "_save": "Save"}
    assert client.post(url, data).status_code == 403
    contact.refresh_from_db()
    assert contact.title == "CEO"


def test_rep_cannot_add_a_contact_under_other_reps_customer(client, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep)
    client.force_login(rep)
    response = client.post(
        reverse("admin:customers_contact_add"),
        {"customer": theirs.pk, "last_name": "Sneaky", "_save": "Save"},
    )
    assert response.status_code == 200
    assert "customer" in response.context["adminform"].form.errors
    assert not Contact.objects.exists()


def test_rep_cannot_revert_other_reps_customer_from_history(client, rep, other_rep):
    customer = CustomerFactory(owner=other_rep, industry="Retail")
    customer.industry = "Energy"
    customer.save()
    old = customer.history.order_by("history_id").first()
    client.force_login(rep)
    url = reverse("admin:customers_customer_simple_history", args=[customer.pk, old.history_id])
    assert client.post(url, customer_form(customer, industry="Retail")).status_code == 403
    customer.refresh_from_db()
    assert customer.industry == "Energy"


def test_rep_logs_interaction_only_on_own_customers(client, rep, other_rep):
    mine, theirs = CustomerFactory(owner=rep), CustomerFactory(owner=other_rep)
    client.force_login(rep)
    assert client.post(INTERACTION_ADD, interaction_form(mine)).status_code == 302
    refused = client.post(INTERACTION_ADD, interaction_form(theirs))
    assert refused.status_code == 200
    assert "customer" in refused.context["adminform"].form.errors
    assert list(Interaction.objects.values_list("customer_id", flat=True)) == [mine.pk]


def test_rep_customer_picker_offers_only_own_customers(client, rep, other_rep):
    CustomerFactory(owner=rep, name="Mine Ltd")
    CustomerFactory(owner=other_rep, name="Theirs Ltd")
    client.force_login(rep)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "customers", "model_name": "interaction", "field_name": "customer"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Mine Ltd"]


# Customer success: reads everything, logs interactions anywhere


def test_customer_success_cannot_create_a_customer(client, cs):
    client.force_login(cs)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, customer_form(name="Nope")).status_code == 403
    assert not Customer.objects.exists()


def test_customer_success_cannot_edit_a_customer(client, cs, rep):
    customer = CustomerFactory(owner=rep, industry="Retail")
    client.force_login(cs)
    assert client.get(change_url(customer)).status_code == 200
    assert (
        client.post(change_url(customer), customer_form(customer, industry="X")).status_code == 403
    )
    customer.refresh_from_db()
    assert customer.industry == "Retail"


def test_customer_success_logs_interaction_on_any_customer(client, cs, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(cs)
    response = client.post(INTERACTION_ADD, interaction_form(customer, kind="note"))
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.created_by) == (customer, cs)
    assert interaction.direction == "outbound"


def test_customer_success_sees_log_interaction_button_on_any_customer(client, cs, rep):
    customer = CustomerFactory(owner=rep)
    client.force_login(cs)
    html = client.get(change_url(customer)).content.decode()
    assert f"{INTERACTION_ADD}?customer={customer.pk}" in html


def test_interaction_form_errors_name_the_field(client, crm_admin):
    customer = CustomerFactory()
    client.force_login(crm_admin)
    response = client.post(INTERACTION_ADD, interaction_form(customer, kind="purchase"))
    assert "amount" in response.context["adminform"].form.errors
    other_contact = ContactFactory()
    response = client.post(INTERACTION_ADD, interaction_form(customer, contact=other_contact.pk))
    assert "contact" in response.context["adminform"].form.errors
    assert not Interaction.objects.exists()


def test_log_interaction_form_is_prefilled_with_the_customer_and_its_contacts(client, rep):
    customer = CustomerFactory(owner=rep)
    contact = ContactFactory(customer=customer)
    ContactFactory()  # someone else's contact
    client.force_login(rep)
    form = client.get(f"{INTERACTION_ADD}?customer={customer.pk}").context["adminform"].form
    assert str(form.initial["customer"]) == str(customer.pk)
    assert list(form.fields["contact"].queryset) == [contact]


# Only crm_admin archives; nobody hard-deletes customers


def offered_actions(response):
    form = response.context["action_form"]
    return dict(form.fields["action"].choices) if form else {}


def _action(client, name, *customers, **params):
    return client.post(
        CHANGELIST + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""),
        {"action": name, "_selected_action": [c.pk for c in customers]},
    )


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_only_admin_archives(client, role, request):
    user = request.getfixturevalue(role)
    customer = CustomerFactory(owner=user)
    client.force_login(user)
    assert "archive_customers" not in offered_actions(client.get(CHANGELIST))
    _action(client, "archive_customers", customer)
    customer.refresh_from_db()
    assert customer.archived_at is None


def test_admin_archives_hides_and_restores(client, crm_admin):
    kept, gone = CustomerFactory(name="Kept"), CustomerFactory(name="Gone")
    client.force_login(crm_admin)
    assert _action(client, "archive_customers", gone).status_code == 302
    assert listed_names(client.get(CHANGELIST)) == ["Kept"]
    assert listed_names(client.get(CHANGELIST, {"archived": "yes"})) == ["Gone"]
    assert listed_names(client.get(CHANGELIST, {"archived": "all"})) == ["Gone", "Kept"]
    # The archived customer's page still opens, and says so.
    assert "Archived on" in client.get(change_url(gone)).content.decode()
    _action(client, "restore_customers", gone, archived="yes")
    assert listed_names(client.get(CHANGELIST)) == ["Gone", "Kept"]
    assert Customer.objects.filter(pk=kept.pk, archived_at__isnull=True).exists()


def test_no_one_hard_deletes_a_customer(client, crm_admin):
    customer = CustomerFactory()
    client.force_login(crm_admin)
    actions = offered_actions(client.get(CHANGELIST))
    assert "archive_customers" in actions
    assert "delete_selected" not in actions
    url = reverse("admin:customers_customer_delete", args=[customer.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_products_are_crm_admin_only(client, rep, crm_admin):
    url = reverse("admin:customers_product_add")
    data = {"name": "Widget", "sku": "W-1", "kind": "product", "price": "9.50", "currency": "EUR"}
    client.force_login(rep)
    assert client.post(url, {**data, "is_active": "on"}).status_code == 403
    client.force_login(crm_admin)
    assert client.post(url, {**data, "is_active": "on"}).status_code == 302
    assert Product.objects.get().sku == "W-1"


# The list: filters, search, engagement columns


def test_my_accounts_filter(client, rep, other_rep):
    CustomerFactory(owner=rep, name="Mine")
    CustomerFactory(owner=other_rep, name="Theirs")
    client.force_login(rep)
    assert listed_names(client.get(CHANGELIST, {"owner": "me"})) == ["Mine"]
    assert listed_names(client.get(CHANGELIST)) == ["Mine", "Theirs"]


def test_search_ignores_case_and_accents_in_names_and_contacts(client, rep):
    CustomerFactory(name="Żabka Polska")
    lisbon = CustomerFactory(name="Lisbon Foods")
    ContactFactory(customer=lisbon, first_name="João", last_name="Conceição")
    CustomerFactory(name="Müller GmbH")
    client.force_login(rep)
    assert listed_names(client.get(CHANGELIST, {"q": "zabka"})) == ["Żabka Polska"]
    assert listed_names(client.get(CHANGELIST, {"q": "JOAO conceicao"})) == ["Lisbon Foods"]
    assert listed_names(client.get(CHANGELIST, {"q": "MULLER"})) == ["Müller GmbH"]


def test_search_by_contact_name_lists_each_customer_once(client, rep):
    acme = CustomerFactory(name="Acme")
    CustomerFactory(name="Other")
    ContactFactory(customer=acme, first_name="Grace", last_name="Hopper")
    ContactFactory(customer=acme, first_name="Gracie", last_name="Hopperton")
    client.force_login(rep)
    assert listed_names(client.get(CHANGELIST, {"q": "Hopper"})) == ["Acme"]
    assert listed_names(client.get(CHANGELIST, {"q": "Grace Hopper"})) == ["Acme"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "at_risk"}, ["Risky"]),
        ({"status": "none"}, ["Unscored"]),
        ({"type": "loyal"}, ["Loyal"]),
        ({"reactivated": "yes"}, ["Loyal"]),
        ({"kind": "person"}, ["Unscored"]),
        ({"country": "FR"}, ["Risky"]),
    ],
)
def test_engagement_and_field_filters(client, rep, params, expected):
    engagement_for(CustomerFactory(name="Loyal"), type_loyal=True, reactivated=True)
    engagement_for(CustomerFactory(name="Risky", country="FR"), status="at_risk")
    CustomerFactory(name="Unscored", kind="person")
    client.force_login(rep)
    assert listed_names(client.get(CHANGELIST, params)) == expected


def test_engagement_columns_show_badges_and_sort_by_score(client, rep):
    engagement_for(CustomerFactory(name="Alpha"), score=10, status="at_risk")
    engagement_for(CustomerFactory(name="Beta"), score=90, type_loyal=True)
    client.force_login(rep)
    response = client.get(CHANGELIST)
    html = response.content.decode()
    assert "At risk" in html
    assert "Loyal" in html
    score_column = response.context["cl"].list_display.index("engagement_score")
    ordered = client.get(CHANGELIST, {"o": f"-{score_column}"})
    assert listed_names(ordered) == ["Beta", "Alpha"]
    assert listed_names(client.get(CHANGELIST, {"o": str(score_column)})) == ["Alpha", "Beta"]


def _changelist_queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return len(queries), response


def _customers_with_everything(count, owner):
    for customer in CustomerFactory.create_batch(count, owner=owner):
        engagement_for(customer, type_loyal=True)
        ContactFactory(customer=customer)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "Lovelace"},  # every customer's contact
        {"q": "lovelace customer"},  # a word of the contact, a word of the customer
        {"owner": "me", "status": "active"},
        {"type": "loyal", "country": "DE"},
        {"o": "-8"},  # a rep's last activity column: read as one UNION ALL (admin.paging)
        {"o": "9", "status": "active"},  # P(alive), customers without a prediction last
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(
    client, rep, django_assert_max_num_queries, params
):
    client.force_login(rep)
    _customers_with_everything(5, rep)
    small, response = _changelist_queries(client, **params)
    assert len(response.context["cl"].result_list) == 5
    _customers_with_everything(215, rep)
    with django_assert_max_num_queries(15):
        large, response = _changelist_queries(client, **params)
    assert len(response.context["cl"].result_list) == 100
    with django_assert_max_num_queries(15):
        deep, response = _changelist_queries(client, **params, p="3")
    assert len(response.context["cl"].result_list) == 20
    assert large == small == deep


@pytest.mark.parametrize("params", [{}, {"q": "Lovelace"}, {"status": "active"}])
def test_changelist_query_count_is_the_same_for_any_page_size(client, rep, monkeypatch, params):
    from customers.admin.customer import CustomerAdmin

    client.force_login(rep)
    _customers_with_everything(60, rep)
    counts = set()
    for per_page in (10, 25, 100):
        monkeypatch.setattr(CustomerAdmin, "list_per_page", per_page)
        queries, response = _changelist_queries(client, **params)
        assert len(response.context["cl"].result_list) == min(per_page, 60)
        counts.add(queries)
    assert len(counts) == 1


# The customer page


def test_customer_page_shows_latest_twenty_interactions_newest_first(client, rep):
    customer = CustomerFactory(owner=rep)
    start = timezone.now() - dt.timedelta(days=100)
    for day in range(25):
        InteractionFactory(
            customer=customer, occurred_at=start + dt.timedelta(days=day), subject=f"day {day}"
        )
    ContactFactory(customer=customer)
    SubscriptionFactory(customer=customer)
    client.force_login(rep)
    response = client.get(change_url(customer))
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.model is Interaction
    )
    subjects = [form.instance.subject for form in formset.formset.forms]
    assert subjects == [f"day {day}" for day in range(24, 4, -1)]
    html = response.content.decode()
    assert f"?customer__id__exact={customer.pk}" in html
    assert "Show all 25 interactions" in html


def test_all_interactions_link_lists_the_customers_interactions(client, rep):
    customer = CustomerFactory(owner=rep)
    InteractionFactory.create_batch(3, customer=customer)
    InteractionFactory()
    client.force_login(rep)
    url = reverse("admin:customers_interaction_changelist")
    response = client.get(url, {"customer__id__exact": customer.pk})
    assert {i.customer_id for i in response.context["cl"].result_list} == {customer.pk}
    assert len(response.context["cl"].result_list) == 3


def test_customer_page_saves_with_latest_interactions_present(client, rep):
    customer = CustomerFactory(owner=rep)
    interactions = InteractionFactory.create_batch(2, customer=customer)
    client.force_login(rep)
    data = customer_form(
        customer,
        industry="Energy",
        **{
            "interactions-TOTAL_FORMS": "2",
            "interactions-INITIAL_FORMS": "2",
            "interactions-0-id": interactions[1].pk,
            "interactions-0-customer": customer.pk,
            "interactions-1-id": interactions[0].pk,
            "interactions-1-customer": customer.pk,
        },
    )
    assert client.post(change_url(customer), data).status_code == 302
    customer.refresh_from_db()
    assert customer.industry == "Energy"
    assert customer.interactions.count() == 2


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:customers_contact_changelist",
        "admin:customers_subscription_changelist",
        "admin:customers_interaction_changelist",
        "admin:customers_product_changelist",
    ],
)
def test_record_lists_open_for_every_role_with_bounded_queries(
    client, rep, cs, crm_admin, url_name, django_assert_max_num_queries
):
    for _ in range(30):
        customer = CustomerFactory(owner=rep)
        ContactFactory(customer=customer)
        SubscriptionFactory(customer=customer, product=ProductFactory())
        InteractionFactory(customer=customer, contact=customer.contacts.first())
    for user in (rep, cs, crm_admin):
        client.force_login(user)
        with django_assert_max_num_queries(15):
            assert client.get(reverse(url_name)).status_code == 200


def test_log_link_shows_on_rows_the_user_may_log_on(client, rep, other_rep, cs):
    mine, theirs = CustomerFactory(owner=rep), CustomerFactory(owner=other_rep)
    client.force_login(rep)
    html = client.get(CHANGELIST).content.decode()
    assert f"{INTERACTION_ADD}?customer={mine.pk}" in html
    assert f"{INTERACTION_ADD}?customer={theirs.pk}" not in html
    client.force_login(cs)
    html = client.get(CHANGELIST).content.decode()
    assert f"{INTERACTION_ADD}?customer={theirs.pk}" in html


def test_interaction_date_drilldown_offers_years_then_months(client, rep):
    customer = CustomerFactory(owner=rep)
    for when in ("2023-05-02", "2024-02-10", "2024-07-20"):
        InteractionFactory(
            customer=customer,
            occurred_at=dt.datetime.fromisoformat(f"{when}T12:00:00+00:00"),
        )
    client.force_login(rep)
    url = reverse("admin:customers_interaction_changelist")
    html = client.get(url).content.decode()
    assert "?occurred_at__year=2023" in html
    assert "?occurred_at__year=2024" in html
    in_2024 = client.get(url, {"occurred_at__year": "2024"})
    assert len(in_2024.context["cl"].result_list) == 2
    html = in_2024.content.decode()
    assert "occurred_at__month=2" in html
    assert "occurred_at__month=7" in html
    assert "occurred_at__month=8" not in html
    in_july = client.get(url, {"occurred_at__year": "2024", "occurred_at__month": "7"})
    assert "occurred_at__day=20" in in_july.content.decode()


def test_rep_edits_own_interactions_only(client, rep, other_rep):
    mine = InteractionFactory(customer=CustomerFactory(owner=rep), kind="call", subject="old")
    theirs = InteractionFactory(customer=CustomerFactory(owner=other_rep), kind="call")
    client.force_login(rep)

    def url(interaction):
        return reverse("admin:customers_interaction_change", args=[interaction.pk])

    data = interaction_form(mine.customer, subject="new", direction="outbound")
    assert client.post(url(mine), data).status_code == 302
    mine.refresh_from_db()
    assert (mine.subject, mine.direction) == ("new", "outbound")
    assert client.post(url(theirs), interaction_form(theirs.customer)).status_code == 403


def test_rep_cancels_a_subscription_of_own_customer(
    client, rep, other_rep, django_capture_on_commit_callbacks
):
    from customers import events

    sub = SubscriptionFactory(customer=CustomerFactory(owner=rep))
    theirs = SubscriptionFactory(customer=CustomerFactory(owner=other_rep))
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs["cancelled_customer_ids"])

    events.subscriptions_changed.connect(receiver)
    client.force_login(rep)

    def post(subscription, **changes):
        data = {
            "customer": subscription.customer_id,
            "product": subscription.product_id,
            "status": "active",
            "started_at": subscription.started_at,
            "ended_at": "",
            "amount": "49.00",
            "interval": "month",
            "external_id": "",
            "_save": "Save",
            **changes,
        }
        url = reverse("admin:customers_subscription_change", args=[subscription.pk])
        return client.post(url, data)

    try:
        refused = post(sub, status="cancelled")
        assert "ended_at" in refused.context["adminform"].form.errors
        with django_capture_on_commit_callbacks(execute=True):
            assert post(sub, status="cancelled", ended_at=timezone.localdate()).status_code == 302
        assert post(theirs, status="cancelled", ended_at=timezone.localdate()).status_code == 403
    finally:
        events.subscriptions_changed.disconnect(receiver)
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    assert seen == [[sub.customer_id]]


def test_history_pages_show_who_changed_what(client, rep, cs):
    client.force_login(rep)
    client.post(ADD, customer_form(name="Tracked Co"))
    customer = Customer.objects.get(name="Tracked Co")
    client.post(change_url(customer), customer_form(customer, industry="Energy"))
    contact = ContactFactory(customer=customer)
    sub = SubscriptionFactory(customer=customer)
    client.force_login(cs)
    history = client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert history.status_code == 200
    assert [h.history_user for h in customer.history.all()] == [rep, rep]
    for name, obj in (("contact", contact), ("subscription", sub)):
        url = reverse(f"admin:customers_{name}_history", args=[obj.pk])
        assert client.get(url).status_code == 200


def test_country_filter_lists_each_country_once_in_order(client, rep):
    for country in ("FR", "DE", "FR", "", "AT", "DE"):
        CustomerFactory(country=country)
    client.force_login(rep)
    response = client.get(CHANGELIST)
    country_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.title == "country"
    )
    displays = [c["display"] for c in country_filter.choices(response.context["cl"])]
    assert displays == ["All", "AT", "DE", "FR"]


def test_customer_page_query_count_does_not_grow_with_its_records(client, rep):
    customer = CustomerFactory(owner=rep)

    def add(count):
        for _ in range(count):
            contact = ContactFactory(customer=customer)
            SubscriptionFactory(customer=customer, product=ProductFactory())
            InteractionFactory(customer=customer, contact=contact, created_by=rep)

    client.force_login(rep)
    add(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(change_url(customer)).status_code == 200
    add(27)
    with CaptureQueriesContext(connection) as many:
        assert client.get(change_url(customer)).status_code == 200
    assert len(many) == len(few)


def test_rep_adds_a_subscription_inline_and_refused_values_name_the_field(client, rep):
    customer = CustomerFactory(owner=rep)
    product = ProductFactory()
    client.force_login(rep)
    row = {
        "subscriptions-TOTAL_FORMS": "1",
        "subscriptions-0-product": product.pk,
        "subscriptions-0-status": "cancelled",
        "subscriptions-0-started_at": "2025-01-01",
        "subscriptions-0-ended_at": "",
        "subscriptions-0-amount": "20.00",
        "subscriptions-0-interval": "year",
    }
    refused = client.post(change_url(customer), customer_form(customer, **row))
    assert refused.status_code == 200
    inline = next(
        f for f in refused.context["inline_admin_formsets"] if f.formset.prefix == "subscriptions"
    )
    assert "ended_at" in inline.formset.forms[0].errors
    row["subscriptions-0-ended_at"] = "2025-06-30"
    assert client.post(change_url(customer), customer_form(customer, **row)).status_code == 302
    sub = customer.subscriptions.get()
    assert (sub.product, sub.status, sub.ended_at) == (product, "cancelled", dt.date(2025, 6, 30))


def test_customer_page_shows_the_engagement_panel(client, cs):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, kind="login")
    client.force_login(cs)
    response = client.get(change_url(customer))
    panel = response.context["engagement_panel"]
    html = response.content.decode()
    assert 'id="engagement-panel"' in html
    assert panel["status"] in {"new", "active", "passive", "at_risk", "inactive", "churned"}
