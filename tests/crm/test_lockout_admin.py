"""Sign-in lockouts in the admin (crm/lockouts.py): crm_admin sees them and lifts one; the
locked user signs in again at once. Sales reps and customer success never reach them."""

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-secret-123"
IP = "10.0.0.1"
CHANGELIST = reverse("admin:axes_accessattempt_changelist")


def _token(username, password="wrong", ip=IP, agent="agent-a"):
    return APIClient().post(
        "/api/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT=agent,
    )


def _admin_login(client, username, password=PASSWORD, ip=IP):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def locked():
    """`maria`, locked out from IP: 10 failures, from two browsers (one attempt record each)."""
    user = UserFactory(username="maria")
    for agent in ("agent-a", "agent-b"):
        for _ in range(5):
            _token("maria", agent=agent)
    assert AccessAttempt.objects.filter(username="maria").count() == 2
    assert _token("maria", password=PASSWORD).status_code == 429
    return user


def _change_url(attempt):
    return reverse("admin:axes_accessattempt_change", args=[attempt.pk])


def _delete_url(attempt):
    return reverse("admin:axes_accessattempt_delete", args=[attempt.pk])


def _lift(client, *attempts):
    data = {"action": "lift_lock", "_selected_action": [a.pk for a in attempts]}
    return client.post(CHANGELIST, data)


def _signs_in_again(client, username):
    assert _token(username, password=PASSWORD).status_code == 200
    assert _admin_login(client, username).status_code == 302


def test_crm_admin_sees_the_lockouts(client, crm_admin, locked):
    client.force_login(crm_admin)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "maria" in text
    assert "10.0.0.1" in text
    assert '<option value="lift_lock">Lift the lock</option>' in text
    attempt = AccessAttempt.objects.filter(username="maria").first()
    assert client.get(_change_url(attempt)).status_code == 200


def test_crm_admin_lifts_the_lock_and_the_user_signs_in_again(client, crm_admin, locked):
    client.force_login(crm_admin)
    # One record of the two selected: the lock (username and address) goes whole.
    response = _lift(client, AccessAttempt.objects.filter(username="maria").first())
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="maria").exists()
    message = str(next(iter(client.get(CHANGELIST).context["messages"])))
    assert "maria from 10.0.0.1" in message
    assert LogEntry.objects.filter(user=crm_admin, action_flag=DELETION).exists()
    client.logout()
    _signs_in_again(client, "maria")


def test_lifting_leaves_other_locks_alone(client, crm_admin, locked):
    UserFactory(username="other")
    for _ in range(10):
        _token("other")
        _token("maria", ip="10.0.0.2")
    client.force_login(crm_admin)
    _lift(client, AccessAttempt.objects.filter(username="maria", ip_address=IP).first())
    assert _token("other", password=PASSWORD).status_code == 429
    assert _token("maria", password=PASSWORD, ip="10.0.0.2").status_code == 429
    assert _token("maria", password=PASSWORD).status_code == 200


def test_crm_admin_deletes_an_attempt(client, crm_admin):
    UserFactory(username="maria")
    for _ in range(10):
        _token("maria")
    attempt = AccessAttempt.objects.get(username="maria")
    client.force_login(crm_admin)
    assert client.get(_delete_url(attempt)).status_code == 200
    assert client.post(_delete_url(attempt), {"post": "yes"}).status_code == 302
    client.logout()
    _signs_in_again(client, "maria")


@pytest.mark.parametrize("role", ["rep", "cs"])
def test_other_roles_never_reach_the_lockouts(client, request, role, locked):
    client.force_login(request.getfixturevalue(role))
    attempt = AccessAttempt.objects.filter(username="maria").first()
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(_change_url(attempt)).status_code == 403
    assert client.get(_delete_url(attempt)).status_code == 403
    assert client.post(_delete_url(attempt), {"post": "yes"}).status_code == 403
    assert _lift(client, attempt).status_code == 403
    assert AccessAttempt.objects.filter(username="maria").count() == 2
    assert "axes" not in client.get(reverse("admin:index")).content.decode().lower()
