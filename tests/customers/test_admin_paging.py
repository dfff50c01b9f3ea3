"""The customer list's pages at any depth: counts that stop where the pages around the
current one are numbered, a page's rows read by id in list order, few queries."""

import pytest
from django.core.paginator import EmptyPage
from django.urls import reverse

from customers.admin import paging
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")


def _customers(count):
    Customer.objects.bulk_create(Customer(name=f"Customer {n:05d}") for n in range(count))
    return list(Customer.objects.order_by("name", "id").values_list("name", flat=True))


def _paginator(page, per_page=5):
    return paging.CappedCountPaginator(Customer.objects.order_by("name", "id"), per_page, page=page)


def test_below_the_cap_the_count_is_exact():
    _customers(23)
    paginator = _paginator(1)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (23, False, 5)
    assert list(paginator.get_elided_page_range(1)) == [1, 2, 3, 4, 5]


def test_counting_stops_pages_ahead_of_the_page_shown(monkeypatch):
    monkeypatch.setattr(paging, "PAGES_AHEAD", 2)
    names = _customers(40)
    first = _paginator(1)
    assert (first.count, first.capped, first.cap) == (11, True, 10)
    assert [c.name for c in first.page(1)] == names[:5]
    # No last page is offered when the count stopped early.
    assert list(first.get_elided_page_range(1)) == [1, 2, first.ELLIPSIS]

    deep = _paginator(6)
    assert (deep.count, deep.capped) == (36, True)
    assert [c.name for c in deep.page(6)] == names[25:30]


def test_the_last_pages_count_exactly_again(monkeypatch):
    monkeypatch.setattr(paging, "PAGES_AHEAD", 2)
    names = _customers(40)
    last = _paginator(8)
    assert (last.count, last.capped, last.num_pages) == (40, False, 8)
    assert [c.name for c in last.page(8)] == names[35:]


def test_a_page_past_the_end_does_not_exist():
    _customers(12)
    paginator = _paginator(9)
    assert paginator.count == 12
    with pytest.raises(EmptyPage):
        paginator.page(9)


def test_the_asked_page_costs_two_queries_whatever_its_depth(django_assert_num_queries):
    _customers(60)
    for page in (1, 7):
        paginator = _paginator(page)
        with django_assert_num_queries(2):  # the ids up to the cap, then the page's rows
            assert len(paginator.page(page)) == 5


def test_the_list_says_more_than_when_the_count_stopped(client, crm_admin):
    _customers(1_050)
    client.force_login(crm_admin)
    page = client.get(CHANGELIST).content.decode()
    assert "more than 1,000 customers" in page
    last = client.get(CHANGELIST, {"p": "11"})
    assert "1050 customers" in last.content.decode()
    assert [c.name for c in last.context["cl"].result_list] == [
        f"Customer {n:05d}" for n in range(1_000, 1_050)
    ]


def test_a_search_that_fits_one_page_says_its_count(client, crm_admin):
    CustomerFactory(name="Żabka Polska")
    CustomerFactory(name="Other")
    client.force_login(crm_admin)
    response = client.get(CHANGELIST, {"q": "zabka"})
    assert [c.name for c in response.context["cl"].result_list] == ["Żabka Polska"]
    assert "1 result" in response.content.decode()
