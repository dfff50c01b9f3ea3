import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_token_login_answers_a_token_that_authenticates(rep, anon_api):
    response = anon_api.post(
        "/api/auth/token/", {"username": "rep", "password": "pw-secret-123"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon_api.get("/api/customers/").status_code == 200


def test_token_login_with_a_wrong_password_is_refused(rep, anon_api):
    response = anon_api.post(
        "/api/auth/token/", {"username": "rep", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_token_login_names_a_missing_field(anon_api):
    response = anon_api.post("/api/auth/token/", {"username": "rep"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/api/customers/",
        "/api/contacts/",
        "/api/products/",
        "/api/subscriptions/",
        "/api/interactions/",
        "/api/segments/",
        "/api/engagement/rules/",
    ],
)
def test_anonymous_requests_are_refused(anon_api, path):
    response = anon_api.get(path)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_bad_token_is_refused(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token nope")
    assert anon_api.get("/api/customers/").status_code == 401


def test_session_login_works_for_the_browsable_api(client, rep):
    CustomerFactory(name="Acme")
    client.force_login(rep)
    response = client.get("/api/customers/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Acme" in response.content


def test_a_user_without_a_crm_role_is_refused(anon_api):
    from tests.factories import UserFactory
    from tests.fixtures.api import client_for

    api = client_for(UserFactory(username="nobody"))
    assert api.get("/api/customers/").status_code == 403
