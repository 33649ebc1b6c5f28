"""A14: no shared cache may keep or mix up Public API answers."""

import pytest
from django.test import Client

from tests.factories import ProxyFactory

pytestmark = pytest.mark.django_db


def assert_private_to_the_key(response) -> None:
    assert response["Cache-Control"] == "no-store"
    vary = {part.strip().lower() for part in response["Vary"].split(",")}
    assert {"x-api-key", "authorization"} <= vary


@pytest.mark.parametrize(
    ("scopes", "path", "status"),
    [
        ("geo:read", "/v1/geo/countries", 200),
        ("balance:read", "/v1/user/balance", 200),
        ("proxies:read", "/v1/proxy", 200),
        ("geo:read", "/v1/user/balance", 403),
        ("geo:read", "/v1/nowhere", 404),
        (None, "/v1/geo/countries", 401),
        ("geo:read", "/v1/schema", 200),
    ],
)
def test_every_api_answer_is_no_store_and_varies_on_the_key(
    api_client, make_key, geo, scopes, path, status
):
    headers = {"HTTP_X_API_KEY": make_key(scopes=scopes).key} if scopes else {}
    response = api_client.get(path, **headers)
    assert response.status_code == status
    assert_private_to_the_key(response)


def test_the_csv_export_is_no_store_too(api_client, make_key, user):
    proxy = ProxyFactory(owner=user)
    response = api_client.get(
        f"/v1/proxy/{proxy.public_id}/usage/export",
        {"date_from": "2026-11-01", "date_to": "2026-11-02"},
        HTTP_X_API_KEY=make_key(scopes="stats:read").key,
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert_private_to_the_key(response)


def test_a_post_and_a_bearer_key_get_the_same_headers(api_client, make_key):
    response = api_client.post(
        "/v1/proxy", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {make_key('proxies:write').key}"
    )
    assert response.status_code == 400
    assert_private_to_the_key(response)


def test_a_server_error_under_v1_is_no_store(settings):
    settings.ROOT_URLCONF = "tests.api.urls_plumbing"
    response = Client(raise_request_exception=False).get("/v1/test/plain-boom")
    assert response.status_code == 500
    assert_private_to_the_key(response)


def test_dashboard_pages_keep_their_own_never_cache_headers(logged_in_client):
    response = logged_in_client.get("/api-keys/")
    assert "private" in response["Cache-Control"]
    assert "X-API-Key" not in response.get("Vary", "")
