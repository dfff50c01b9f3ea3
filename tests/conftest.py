import pytest

from crm.roles import CRM_ADMIN, CUSTOMER_SUCCESS, SALES_REP
from tests.factories import UserFactory

# Fixtures every test folder shares: API clients per role, the Chromium page.
pytest_plugins = ["tests.fixtures.api", "tests.fixtures.browser", "tests.fixtures.outcomes"]


def pytest_collection_modifyitems(items):
    # A browser test is a slow test: `make test-fast` leaves them out.
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", role=SALES_REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="other_rep", role=SALES_REP)


@pytest.fixture
def cs(db):
    return UserFactory(username="cs", role=CUSTOMER_SUCCESS)


@pytest.fixture
def crm_admin(db):
    return UserFactory(username="admin", role=CRM_ADMIN)
