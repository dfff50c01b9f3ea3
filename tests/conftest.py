import pytest

from crm.roles import CRM_ADMIN, CUSTOMER_SUCCESS, SALES_REP
from tests.factories import UserFactory


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
