import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest

from crm.permissions import is_customer_success, is_sales_rep

pytestmark = pytest.mark.django_db


def _fresh(username):
    return get_user_model().objects.get(username=username)


def test_creates_a_staff_user_in_the_role_group(client):
    call_command(
        "create_crm_user",
        "ana",
        "--role",
        "sales_rep",
        "--password",
        "s3cret-pw!",
        "--email",
        "ana@example.com",
    )
    user = _fresh("ana")
    assert user.is_staff
    assert not user.is_superuser
    assert user.email == "ana@example.com"
    assert is_sales_rep(user)
    assert user.check_password("s3cret-pw!")
    # django-axes counts sign-ins per request: the test client's login needs one.
    assert client.login(request=HttpRequest(), username="ana", password="s3cret-pw!")
    assert client.get("/admin/").status_code == 200


def test_rerun_updates_password_and_switches_role():
    call_command("create_crm_user", "bo", "--role", "sales_rep", "--password", "first-pw-1")
    call_command("create_crm_user", "bo", "--role", "customer_success", "--password", "second-pw-2")
    user = _fresh("bo")
    assert user.check_password("second-pw-2")
    assert is_customer_success(user)
    assert not is_sales_rep(user)
    assert get_user_model().objects.filter(username="bo").count() == 1


def test_unknown_role_is_a_clear_error():
    with pytest.raises(CommandError, match="sales_rep, customer_success, crm_admin"):
        call_command("create_crm_user", "cy", "--role", "wizard", "--password", "pw-123456")
    assert not get_user_model().objects.filter(username="cy").exists()
