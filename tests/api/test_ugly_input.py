"""Ugly input on every Public API route: NUL bytes, huge values, wrong JSON shapes, odd content
types.  Each gets a clear 4xx envelope, never a 500, and writes nothing."""

import json

import pytest

from proxies.models import Proxy
from tests.envelope import assert_error, assert_not_found, assert_ok
from tests.factories import PlanFactory, ProxyFactory

pytestmark = pytest.mark.django_db

ALL_SCOPES = "proxies:read proxies:write geo:read stats:read balance:read"


@pytest.fixture
def key(make_key):
    return make_key(scopes=ALL_SCOPES).key


@pytest.fixture
def proxy(user):
    return ProxyFactory(owner=user, name="ugly_target")


GET_ROUTES = [
    "/v1/geo/countries",
    "/v1/geo/states?country_code=US",
    "/v1/geo/cities?country_code=US",
    "/v1/geo/zip?country_code=US",
    "/v1/proxy",
    "/v1/user/traffic?date_from=2026-01-01&date_to=2026-01-31",
    "/v1/user/balance-history?date_from=2026-01-01&date_to=2026-01-31",
    "/v1/plans?proxy_type=residential",
]


@pytest.mark.parametrize("route", GET_ROUTES)
@pytest.mark.parametrize(
    "extra",
    [
        "search=%00",
        "search=" + "x" * 100_000,
        "limit=1e3",
        "page=99999999999999999999",
        "order=%00",
    ],
)
def test_query_strings_never_cause_a_500(api_client, key, geo, route, extra):
    separator = "&" if "?" in route else "?"
    response = api_client.get(f"{route}{separator}{extra}", HTTP_X_API_KEY=key)
    if response.status_code == 400:
        assert_error(response, 400, "validation_error")
    else:
        assert_ok(response)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error_type"),
    [
        ("[]", "application/json", 400, "validation_error"),
        ('"name"', "application/json", 400, "validation_error"),
        ("null", "application/json", 400, "validation_error"),
        ("{", "application/json", 400, "malformed_json"),
        ("name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ('{"name": "a\\u0000b"}', "application/json", 400, "validation_error"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "malformed_json"),
        (json.dumps({"name": "x" * 1_000_000}), "application/json", 400, "validation_error"),
    ],
)
def test_bad_bodies_on_create_write_nothing(
    api_client, key, geo, body, content_type, status, error_type
):
    PlanFactory()
    response = api_client.generic(
        "POST", "/v1/proxy", body, content_type=content_type, HTTP_X_API_KEY=key
    )
    assert_error(response, status, error_type)
    assert not Proxy.objects.exists()


@pytest.mark.parametrize("proxy_id", ["%00", "x" * 5000, "..", "1 OR 1=1", "ünï"])
def test_odd_proxy_ids_are_404(api_client, key, proxy, proxy_id):
    # The route itself works: the proxy's real id is found there.
    control = api_client.get(f"/v1/proxy/{proxy.public_id}", HTTP_X_API_KEY=key)
    assert control.status_code == 200
    for method in ("get", "delete"):
        response = getattr(api_client, method)(f"/v1/proxy/{proxy_id}", HTTP_X_API_KEY=key)
        assert_not_found(response)
    assert Proxy.objects.alive().filter(pk=proxy.pk).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api-keys/?search=%00&sort=%00",
        "/proxies/?search=%00&status=%00&sort=%00",
        "/proxies/%00/edit/",
        "/proxies/%00/delete/",
        "/statistics/?date_from=%00&date_to=2026-01-01",
        "/statistics/export/%00.csv",
        "/billing/?page=%00&date_from=%00",
    ],
)
def test_dashboard_pages_refuse_nul_bytes_without_a_500(logged_in_client, path):
    response = logged_in_client.get(path)
    assert response.status_code in (200, 400, 404)
