"""Sign-in lockout (admin and API token) and the token endpoint's throttle."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"
PASSWORD = "pw-secret-123"


def _token(client, username="rep", password="wrong", ip="10.0.0.1"):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def _fail(client, times, **kwargs):
    return [_token(client, **kwargs).status_code for _ in range(times)]


def test_ten_failed_token_logins_lock_the_username_with_a_json_429(rep):
    client = APIClient()
    codes = _fail(client, 9)
    assert codes == [400] * 9
    tenth = _token(client)
    assert tenth.status_code == 429
    assert "locked" in tenth.json()["detail"].lower()
    # Locked: even the right password is refused from this address.
    right = _token(client, password=PASSWORD)
    assert right.status_code == 429
    assert "token" not in right.json()


def test_the_lock_holds_one_username_from_one_address_only(rep, other_rep):
    client = APIClient()
    _fail(client, 10)
    assert _token(client, password=PASSWORD).status_code == 429
    assert _token(client, username="other_rep", password=PASSWORD).status_code == 200
    assert _token(client, password=PASSWORD, ip="10.0.0.2").status_code == 200


def test_the_lock_ends_after_fifteen_minutes(rep):
    from axes.models import AccessAttempt

    client = APIClient()
    _fail(client, 10)
    # Kept in the database, so every process (gunicorn worker) sees the same lock.
    attempt = AccessAttempt.objects.get(username="rep")
    assert attempt.failures_since_start == 10
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=timezone.now() - dt.timedelta(minutes=14)
    )
    assert _token(client, password=PASSWORD).status_code == 429
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=timezone.now() - dt.timedelta(minutes=16)
    )
    assert _token(client, password=PASSWORD).status_code == 200


def test_a_successful_login_forgets_earlier_failures(rep):
    client = APIClient()
    _fail(client, 9)
    assert _token(client, password=PASSWORD).status_code == 200
    assert _fail(client, 9) == [400] * 9


def test_a_deactivated_user_gets_no_token(rep):
    rep.is_active = False
    rep.save()
    assert _token(APIClient(), password=PASSWORD).status_code == 400


def _admin_login(client, password, ip="10.0.0.9"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "boss", "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_ten_failed_admin_logins_lock_the_username_and_the_page_says_so(client):
    UserFactory(username="boss", role="crm_admin")
    for _ in range(9):
        assert _admin_login(client, "wrong").status_code == 200
    assert _admin_login(client, "wrong").status_code == 429
    locked = _admin_login(client, PASSWORD)
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "locked" in text.lower()
    assert "15 minutes" in text
    assert "_auth_user_id" not in client.session
    # Another address may still sign in with the right password.
    assert _admin_login(client, PASSWORD, ip="10.0.0.10").status_code == 302


def test_admin_and_api_count_failures_together(rep):
    client = APIClient()
    _fail(client, 5)
    for _ in range(5):
        client.post(
            "/admin/login/",
            {"username": "rep", "password": "wrong", "next": "/admin/"},
            REMOTE_ADDR="10.0.0.1",
        )
    assert _token(client, password=PASSWORD).status_code == 429


def test_the_token_endpoint_is_throttled_per_address(rep, monkeypatch):
    from django.core.cache import cache

    from crm.api.auth import SignInRateThrottle

    cache.clear()
    monkeypatch.setattr(SignInRateThrottle, "rate", "3/min", raising=False)
    client = APIClient()
    codes = [_token(client, username=f"nobody{n}", ip="10.0.0.7").status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]
    assert "detail" in _token(client, ip="10.0.0.7").json()
    # Another address is not slowed down by this one.
    assert _token(client, password=PASSWORD, ip="10.0.0.8").status_code == 200
    cache.clear()


def test_the_token_endpoint_refuses_an_oversized_form_body(rep, settings):
    settings.API_MAX_BODY_BYTES = 1_000
    response = APIClient().post(
        TOKEN_URL, {"username": "rep", "password": "x" * 5_000}, REMOTE_ADDR="10.0.0.3"
    )
    assert response.status_code == 413
    assert "detail" in response.json()
