"""List endpoints run the same number of queries whatever the page size (200 rows)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagement.models.results import EngagementResult
from engagement.models.rules import RuleSet
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROWS = 200
# Token lookup, roles, count, page (+ savepoints the test client adds: none): well under this.
MAX_QUERIES = 6


@pytest.fixture
def many_rows():
    owners = UserFactory.create_batch(3)
    rule_set = RuleSet.objects.create(version=50)
    customers = [CustomerFactory(owner=owners[i % 3]) for i in range(ROWS)]
    EngagementResult.objects.bulk_create(
        EngagementResult(
            customer=c,
            status="active",
            type_loyal=bool(i % 2),
            rule_set=rule_set,
            as_of=timezone.localdate(),
            computed_at=timezone.now(),
        )
        for i, c in enumerate(customers)
    )
    product = ProductFactory()
    for customer in customers:
        ContactFactory(customer=customer)
        SubscriptionFactory(customer=customer, product=product)
        InteractionFactory(customer=customer)
    ProductFactory.create_batch(ROWS - 1)
    return customers


def _count(api, url):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/customers/",
        "/api/customers/?type=loyal&status=active&ordering=-engagement__score",
        "/api/customers/?search=customer",
        "/api/contacts/",
        "/api/products/",
        "/api/subscriptions/",
        "/api/subscriptions/?status=active",
        "/api/interactions/",
        "/api/interactions/?kind=login",
    ],
)
def test_list_queries_do_not_grow_with_page_size(
    cs_api, many_rows, path, django_assert_max_num_queries
):
    sep = "&" if "?" in path else "?"
    small, small_rows = _count(cs_api, f"{path}{sep}page_size=10")
    with django_assert_max_num_queries(MAX_QUERIES):
        large, large_rows = _count(cs_api, f"{path}{sep}page_size={ROWS}")
    assert small_rows == 10
    assert large_rows >= 100
    assert large == small
