"""Property-based run of the live schema (schemathesis) against the app over WSGI.

Bounded to a few generated cases per operation (a few hundred in all) so that it stays
in `make test`: no 5xx, and every answer matches the documented status codes, content
types and response schemas.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from crm.wsgi import application
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


# Generating the schema reads no database, so it is loaded once, at collection.
# Schema examples and generated cases only, a few per operation (about 860 in all): the
# coverage phase alone would add thousands of boundary cases, too many for `make test`.
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"max-examples": 3},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)

# Fuzzing: hundreds of requests per run.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Calling the WSGI app directly would close the test's database connection at each
    request's end (it sits in the test's transaction); Django's test client avoids it so."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(crm_admin):
    customer = CustomerFactory(owner=crm_admin)
    ContactFactory(customer=customer)
    SubscriptionFactory(customer=customer, product=ProductFactory())
    InteractionFactory(customer=customer)
    return Token.objects.get_or_create(user=crm_admin)[0].key


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"}, checks=CHECKS)
