"""Every error is JSON; no stack trace reaches a client; body size and throttling limits."""

import io
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from crm.api.exceptions import PayloadTooLarge
from customers.api import views
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404(rep_api):
    response = rep_api.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_answers_json_without_a_trace(rep_api, monkeypatch, settings, debug):
    settings.DEBUG = debug

    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.selectors, "customer_list", broken)
    rep_api.raise_request_exception = False
    response = rep_api.get("/api/customers/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}
    assert b"secret" not in response.content
    assert b"Traceback" not in response.content


def test_errors_are_json_even_when_csv_is_asked_for(rep_api):
    response = rep_api.get("/api/customers/?format=csv&kind=robot")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "kind" in response.json()


def test_a_body_over_the_limit_is_refused_with_413(cs_api, settings):
    settings.API_MAX_BODY_BYTES = 1_000
    customer = CustomerFactory()
    rows = [{"customer": customer.pk, "kind": "login", "subject": "x" * 100}] * 20
    response = cs_api.post("/api/interactions/bulk/", rows, format="json")
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]


@pytest.mark.parametrize("body_format", ["form", "multipart"])
def test_a_form_or_multipart_body_over_the_limit_is_refused_with_413(
    rep_api, settings, body_format
):
    settings.API_MAX_BODY_BYTES = 1_000
    data = {"name": "Acme", "kind": "company", "industry": "x" * 5_000}
    if body_format == "form":
        response = rep_api.generic(
            "POST",
            "/api/customers/",
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = rep_api.post("/api/customers/", data, format="multipart")
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_a_form_body_under_the_limit_is_accepted(rep_api):
    response = rep_api.generic(
        "POST",
        "/api/customers/",
        urlencode({"name": "Acme", "kind": "company"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201, response.content


def test_an_unsupported_media_type_is_a_json_415(rep_api):
    response = rep_api.generic("POST", "/api/customers/", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert "detail" in response.json()


def test_throttled_clients_get_a_json_429(rep_api, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "2/min"})
    codes = [rep_api.get("/api/products/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "detail" in rep_api.get("/api/products/").json()
    cache.clear()


@pytest.mark.parametrize(
    "parser_class", api_settings.DEFAULT_PARSER_CLASSES, ids=lambda cls: cls.__name__
)
def test_every_api_parser_refuses_a_body_over_the_limit(parser_class, settings):
    settings.API_MAX_BODY_BYTES = 10
    request = RequestFactory().post("/api/x/", data="a=1", content_type=parser_class.media_type)
    request.META["CONTENT_LENGTH"] = "11"
    with pytest.raises(PayloadTooLarge):
        parser_class().parse(
            io.BytesIO(b"a" * 11), parser_class.media_type, {"request": request}
        )
