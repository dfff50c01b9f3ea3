import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_api(db):
    return APIClient()


@pytest.fixture
def rep_api(rep):
    return client_for(rep)


@pytest.fixture
def other_rep_api(other_rep):
    return client_for(other_rep)


@pytest.fixture
def cs_api(cs):
    return client_for(cs)


@pytest.fixture
def admin_api(crm_admin):
    return client_for(crm_admin)


@pytest.fixture
def api_for(rep, cs, crm_admin):
    """api_for("rep" | "cs" | "admin") -> an authenticated client of that role."""
    users = {"rep": rep, "cs": cs, "admin": crm_admin}
    return lambda role: client_for(users[role])
