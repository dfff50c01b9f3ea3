"""The customer list's pages at any depth: counts that stop where the pages around the
current one are numbered, a page's rows read by id in list order, few queries."""

import pytest
from django.core.paginator import EmptyPage
from django.urls import reverse
from django.utils import timezone

from customers.admin import paging
from customers.models import Customer
from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
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
    assert "more than 500 customers" in page
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


def _scored(count, without):
    """`count` customers with engagement scores (ties included), `without` with none."""
    rule_set, _ = RuleSet.objects.get_or_create(version=1)
    customers = [CustomerFactory(name=f"Scored {n:02d}") for n in range(count)]
    for n, customer in enumerate(customers):
        EngagementResult.objects.create(
            customer=customer,
            rule_set=rule_set,
            status="active",
            score=n % 4 * 10,  # four scores, tied in groups
            as_of=timezone.localdate(),
            computed_at=timezone.now(),
        )
    return customers + [CustomerFactory(name=f"Unscored {n}") for n in range(without)]


def _score_order(customers, descending):
    """The list's order sorted by score: the scored ones by score then id in the sort's
    direction, then the unscored ones by id in that direction."""
    scored = [c for c in customers if hasattr(c, "engagement")]
    unscored = [c for c in customers if not hasattr(c, "engagement")]
    by_score = sorted(scored, key=lambda c: (c.engagement.score, c.pk), reverse=descending)
    return [
        *(c.pk for c in by_score),
        *(c.pk for c in sorted(unscored, key=lambda c: c.pk, reverse=descending)),
    ]


@pytest.mark.parametrize("descending", [True, False])
def test_a_sort_by_a_related_column_puts_rows_without_a_value_last(descending):
    customers = _scored(9, without=3)
    for customer in customers:
        customer.refresh_from_db()
    sign = "-" if descending else ""
    queryset = Customer.objects.order_by(f"{sign}engagement__score", "-pk")
    expected = _score_order(customers, descending)
    paginator = paging.CappedCountPaginator(queryset, 5, page=1)
    # The third page crosses into the unscored ones.
    assert [c.pk for n in (1, 2, 3) for c in paginator.page(n)] == expected
    assert paging.ordered_ids(queryset, 7, 11) == expected[7:11]


def test_a_related_sort_costs_the_same_two_queries(django_assert_num_queries):
    _scored(12, without=2)
    queryset = Customer.objects.order_by("-engagement__score", "-pk")
    for page in (1, 3):
        paginator = paging.CappedCountPaginator(queryset, 5, page=page)
        with django_assert_num_queries(2):  # the ids (one UNION ALL), then the page's rows
            assert len(paginator.page(page)) in (5, 4)
