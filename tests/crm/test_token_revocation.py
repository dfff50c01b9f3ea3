"""An API token dies when its user's password changes or the user is deactivated."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.fixtures.api import client_for

pytestmark = pytest.mark.django_db


def _works(api) -> bool:
    return api.get("/api/customers/").status_code == 200


def test_a_password_change_kills_the_users_tokens(rep, other_rep):
    api, other = client_for(rep), client_for(other_rep)
    assert _works(api)
    rep.set_password("a-brand-new-pw-42")
    rep.save()
    assert api.get("/api/customers/").status_code == 401
    assert _works(other)


def test_a_password_changed_in_the_admin_kills_the_token(client, crm_admin, rep):
    api = client_for(rep)
    client.force_login(crm_admin)
    response = client.post(
        f"/admin/auth/user/{rep.pk}/password/",
        {
            "password1": "a-brand-new-pw-42",
            "password2": "a-brand-new-pw-42",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert api.get("/api/customers/").status_code == 401


def test_deactivating_a_user_kills_the_token(rep):
    api = client_for(rep)
    assert _works(api)
    user = get_user_model().objects.get(pk=rep.pk)
    user.is_active = False
    user.save()
    user.is_active = True
    user.save()
    assert api.get("/api/customers/").status_code == 401


def test_other_changes_to_the_user_keep_the_token(rep):
    api = client_for(rep)
    rep.email = "new@example.com"
    rep.first_name = "Rae"
    rep.save()
    rep.save(update_fields=["last_login"])
    assert _works(api)


def test_a_new_sign_in_after_the_change_gets_a_working_token(rep):
    anon_api = APIClient()
    client_for(rep)
    rep.set_password("a-brand-new-pw-42")
    rep.save()
    response = anon_api.post(
        "/api/auth/token/", {"username": "rep", "password": "a-brand-new-pw-42"}, format="json"
    )
    assert response.status_code == 200
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert _works(anon_api)
