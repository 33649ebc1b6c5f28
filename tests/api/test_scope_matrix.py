"""The scope matrix (K1, K3, K4, K21): every /v1/ route and method against each of the five scopes.

A key succeeds only with a scope the SPEC 3.2 table documents for the route, gets 403
`insufficient_scope` naming the needed scope(s) otherwise (and nothing changes), and 401 without a
key.  The table below must cover every route of the URLconf: a new route without a row fails here.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from api.views import EndpointNotFoundView
from apikeys.api.views import CredentialsRevokeAPIView
from apikeys.permissions import served_methods
from apikeys.scopes import SCOPE_NAMES
from proxies.models import Proxy
from tests.envelope import assert_error

pytestmark = pytest.mark.usefixtures("geo")

PROXIES_READ, PROXIES_WRITE = "proxies:read", "proxies:write"
GEO_READ, STATS_READ, BALANCE_READ = "geo:read", "stats:read", "balance:read"
ALL_SCOPES = [PROXIES_READ, PROXIES_WRITE, GEO_READ, STATS_READ, BALANCE_READ]
RANGE = {"date_from": "2026-01-01", "date_to": "2026-01-31"}
# Routes of the URLconf that are not API operations guarded by a scope.  The leak report (K28)
# needs no key at all: tests/apikeys/test_leak_reports.py.
NOT_OPERATIONS = {"api-schema", "api-docs"}
PUBLIC_VIEWS = (EndpointNotFoundView, CredentialsRevokeAPIView)


@dataclass(frozen=True)
class Row:
    route: str  # exactly as in the URLconf
    method: str
    scopes: tuple[str, ...]  # the documented scope(s); any one suffices
    params: dict = field(default_factory=dict)
    body: dict | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


MATRIX = [
    Row("v1/proxy", "GET", (PROXIES_READ,)),
    Row("v1/proxy", "POST", (PROXIES_WRITE,), body={"name": "new_proxy"}),
    Row("v1/proxy/<str:id>", "GET", (PROXIES_READ,)),
    Row("v1/proxy/<str:id>", "PUT", (PROXIES_WRITE,), body={"description": "changed"}),
    Row("v1/proxy/<str:id>", "DELETE", (PROXIES_WRITE,)),
    Row("v1/proxy/<str:id>/usage/export", "GET", (STATS_READ,), params=RANGE),
    Row("v1/user/traffic", "GET", (STATS_READ,), params=RANGE),
    Row("v1/user/balance", "GET", (BALANCE_READ,)),
    Row("v1/user/balance-history", "GET", (BALANCE_READ,), params=RANGE),
    Row(
        "v1/plans",
        "GET",
        (PROXIES_READ, PROXIES_WRITE, BALANCE_READ),
        params={"proxy_type": "residential"},
    ),
    Row("v1/geo/countries", "GET", (GEO_READ,)),
    Row("v1/geo/states", "GET", (GEO_READ,), params={"country_code": "US"}),
    Row("v1/geo/cities", "GET", (GEO_READ,), params={"country_code": "US"}),
    Row("v1/geo/zip", "GET", (GEO_READ,), params={"country_code": "US"}),
]


@pytest.fixture
def proxy(user, fund, make_proxy):
    return make_proxy(fund(user, "10.00"), "existing", description="as is")


def call(api_client, row: Row, proxy: Proxy, key: str | None):
    path = "/" + row.route.replace("<str:id>", proxy.public_id)
    headers = {"HTTP_X_API_KEY": key} if key else {}
    if row.method == "GET":
        return api_client.get(path, row.params, **headers)
    body = row.body
    if row.method == "POST":
        body = {**body, "proxy_type": "residential", "tariff_id": proxy.plan_id}
    method = getattr(api_client, row.method.lower())
    return method(path, body, format="json", **headers)


def state(proxy: Proxy) -> tuple:
    return (
        Proxy.objects.count(),
        Proxy.objects.alive().count(),
        Proxy.objects.get(pk=proxy.pk).description,
    )


@pytest.mark.parametrize("scope", ALL_SCOPES)
@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_each_scope_succeeds_only_where_documented(api_client, make_key, proxy, row, scope):
    key = make_key(scopes=scope).key
    before = state(proxy)

    response = call(api_client, row, proxy, key)

    body = response.json() if response["Content-Type"].startswith("application/json") else None
    if scope in row.scopes:
        assert 200 <= response.status_code < 300, response.content
        assert body is None or body["result"] is True
    else:
        body = assert_error(response, 403, "insufficient_scope")
        assert all(needed in body["error"] for needed in row.scopes)
        assert body["meta"]["required_scopes"] == list(row.scopes)
        assert state(proxy) == before


@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_a_key_with_every_other_scope_is_still_refused(api_client, make_key, proxy, row):
    others = " ".join(scope for scope in ALL_SCOPES if scope not in row.scopes)
    if not others:
        pytest.fail(f"{row} is open to every scope; the matrix expects a guarded route")
    response = call(api_client, row, proxy, make_key(scopes=others).key)
    assert_error(response, 403, "insufficient_scope")


@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_without_a_key_every_route_is_401(api_client, proxy, row):
    before = state(proxy)

    response = call(api_client, row, proxy, key=None)

    assert_error(response, 401, "missing_api_key")
    assert response["WWW-Authenticate"]
    assert state(proxy) == before


# --- The matrix covers the URLconf --------------------------------------------------------------


def _patterns(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def v1_operations() -> dict[str, set[str]]:
    """Published /v1/ routes of the URLconf and the methods each view serves."""
    routes: dict[str, set[str]] = {}
    for route, pattern in _patterns(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None)
        if not route.lstrip("^").startswith("v1/") or pattern.name in NOT_OPERATIONS:
            continue
        if view_class in PUBLIC_VIEWS:
            continue
        routes[route] = set(served_methods(view_class))
    # Drop the tolerated trailing-slash twin of each published path (same view, same methods).
    return {
        route: methods
        for route, methods in routes.items()
        if not (route.endswith("/") and routes.get(route[:-1]) == methods)
    }


def test_the_matrix_covers_every_v1_route_and_method():
    documented: dict[str, set[str]] = {}
    for row in MATRIX:
        documented.setdefault(row.route, set()).add(row.method)

    assert v1_operations() == documented


def test_the_matrix_names_only_real_scopes():
    assert set(ALL_SCOPES) == SCOPE_NAMES
    assert all(set(row.scopes) <= SCOPE_NAMES for row in MATRIX)
