"""Garbage in every query parameter of every admin list, the dashboard, the timeline and the
exports: never a server error (the admin ignores it, or says what is wrong).

The parameters come from each changelist itself: its list filters' own parameters, its date
hierarchy, search, ordering and page, so a new filter is covered the day it is added."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from customers.models import Customer
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Fewer than the API's list (every admin page is a full render), one of each kind.
GARBAGE = [
    "abc",
    "99999999999999999999999999",
    "9999",
    "9999-12-31",
    "0000-01-01",
    "²",
    "",
    "x" * 2000,
    "\x00",
]

MODEL_ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def superuser(db):
    user = UserFactory(username="root", is_superuser=True)
    customer = CustomerFactory(owner=user)
    ContactFactory(customer=customer)
    SubscriptionFactory(customer=customer)
    InteractionFactory(customer=customer)
    return user


def _changelist_parameters(model_admin, user) -> list[str]:
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    names = [name for spec in changelist.filter_specs for name in spec.expected_parameters()]
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return [*names, "q", "o", "p", "all", "e"]


def _failures(client, url, names, consume=False):
    failures = []
    for name in names:
        for value in GARBAGE:
            response = client.get(url, {name: value})
            status = response.status_code
            if consume and status == 200 and response.streaming:
                try:
                    b"".join(response.streaming_content)
                except Exception as exc:  # a download that breaks half way
                    status = f"broken stream: {exc!r}"
            if status == 500 or isinstance(status, str):
                failures.append((name, value[:20], status))
    return failures


@pytest.mark.parametrize(
    ("model", "model_admin"), MODEL_ADMINS, ids=[m._meta.label for m, _ in MODEL_ADMINS]
)
def test_garbage_in_any_changelist_parameter_is_never_a_server_error(
    client, superuser, model, model_admin
):
    client.force_login(superuser)
    client.raise_request_exception = False
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    names = _changelist_parameters(model_admin, superuser)
    assert _failures(client, url, names) == []


EXPORTS = ["customer", "contact", "subscription", "interaction", "product"]


@pytest.mark.parametrize("model_name", EXPORTS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_garbage_in_export_parameters_never_breaks_the_download(
    client, superuser, model_name, fmt
):
    client.force_login(superuser)
    client.raise_request_exception = False
    model = next(m for m, _ in MODEL_ADMINS if m._meta.model_name == model_name)
    names = _changelist_parameters(admin.site._registry[model], superuser)
    url = reverse("admin:crm_export", args=[model_name, fmt])
    assert _failures(client, url, names, consume=True) == []


DASHBOARD_PARAMETERS = ["period", "start", "end", "owner", "kind", "country", "industry", "csv"]


def test_garbage_on_the_dashboard_is_never_a_server_error(client, superuser):
    client.force_login(superuser)
    client.raise_request_exception = False
    url = reverse("admin:crm_dashboard")
    assert _failures(client, url, DASHBOARD_PARAMETERS) == []


def test_the_dashboard_names_a_date_it_cannot_use(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:crm_dashboard"), {"end": "9999-12-31"})
    assert response.status_code == 200
    assert any("end" in str(m) for m in response.context["messages"])


def test_the_customer_list_ignores_an_owner_that_is_no_id(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:customers_customer_changelist")
    for value in ("²", "١٢٣", "99999999999999999999999"):
        assert client.get(url, {"owner": value}).status_code == 200


def test_garbage_on_the_timeline_and_the_interaction_form(client, superuser):
    client.force_login(superuser)
    client.raise_request_exception = False
    customer = Customer.objects.get()
    timeline = reverse("admin:crm_customer_timeline", args=[customer.pk])
    failures = _failures(client, timeline, ["kind"])
    failures += _failures(client, reverse("admin:customers_interaction_add"), ["customer"])
    failures += _failures(
        client, reverse("admin:customers_interaction_changelist"), ["customer__id__exact"]
    )
    assert failures == []
