"""The Public API plumbing shared by every endpoint (SPEC A2-A7, K21, K23): the envelope on every
error, the key-expiry header, the per-key rate limit, and the OpenAPI schema and Swagger UI.

Errors that no real endpoint produces yet (malformed JSON, wrong Content-Type, an unhandled
exception) are provoked through the tiny test-only views below, routed under /v1/test/ by
tests/api/urls_plumbing.py.
"""

import json
import re
from datetime import UTC
from types import SimpleNamespace

import pytest
from django.test import Client
from rest_framework.test import APIClient

from api.envelope import APIResponse
from api.views import EXPIRY_HEADER, PublicAPIView
from apikeys.models import Expiration
from tests.envelope import ENVELOPE_KEYS, assert_error, envelope

GEO_PATHS = ["/v1/geo/countries", "/v1/geo/states", "/v1/geo/cities", "/v1/geo/zip"]
plumbing_urls = pytest.mark.urls("tests.api.urls_plumbing")


# --- Test-only views ----------------------------------------------------------------------------


class EchoAPIView(PublicAPIView):
    """Reads request.data, so the parsers run: echoes the parsed JSON body."""

    required_scopes = {"POST": "geo:read"}

    def post(self, request):
        return APIResponse({"echo": request.data})


class BoomAPIView(PublicAPIView):
    """Fails the way a bug would: an exception no handler expects."""

    required_scopes = {"GET": "geo:read"}

    def get(self, request):
        raise RuntimeError("kaboom: secret internals")


def plain_boom(request):
    """A plain Django view under /v1/ that fails outside DRF (handler500 must still answer JSON)."""
    raise RuntimeError("kaboom: secret internals")


# --- Helpers ------------------------------------------------------------------------------------


@pytest.fixture
def key(make_key):
    return make_key(scopes="geo:read")


@pytest.fixture
def keyed_client(api_client, key):
    api_client.credentials(HTTP_X_API_KEY=key.key)
    return api_client


# --- 404 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/v1/", "/v1/nothing-here", "/v1/geo/planets", "/v1/geo/countries/840/extra"]
)
@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "key"])
def test_unknown_path_under_v1_is_a_404_envelope(api_client, key, path, with_key):
    if with_key:
        api_client.credentials(HTTP_X_API_KEY=key.key)

    assert_error(api_client.get(path), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_path_is_404_for_every_method(keyed_client, method):
    response = getattr(keyed_client, method)("/v1/nothing-here", {}, format="json")
    assert_error(response, 404, "not_found")


# --- 405 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsupported_method_on_a_geo_list_is_a_405_envelope(keyed_client, method, geo):
    response = getattr(keyed_client, method)("/v1/geo/countries", {"name": "x"}, format="json")

    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
    assert method.upper() not in response["Allow"]


# --- 401 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_API_KEY": ""},
        {"HTTP_X_API_KEY": "   "},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_AUTHORIZATION": "Bearer "},
    ],
    ids=["no-header", "empty", "blank", "basic-auth", "empty-bearer"],
)
def test_missing_key_is_401_with_www_authenticate(api_client, geo, headers):
    response = api_client.get("/v1/geo/countries", **headers)

    body = assert_error(response, 401, "missing_api_key")
    assert "X-API-Key" in body["error"]
    assert "X-API-Key" in response["WWW-Authenticate"]
    assert EXPIRY_HEADER not in response


# --- 400 / 415: the JSON body ------------------------------------------------------------------


@plumbing_urls
def test_test_echo_view_parses_a_json_body(keyed_client):
    response = keyed_client.post("/v1/test/echo", {"a": [1, 2]}, format="json")

    assert response.status_code == 200
    assert response.json()["data"] == {"echo": {"a": [1, 2]}}


@plumbing_urls
@pytest.mark.parametrize("body", ["{bad", '{"a": 1,}', "[1, 2", "{'a': 1}", "\x00"])
def test_malformed_json_body_is_400_malformed_json(keyed_client, body):
    response = keyed_client.generic("POST", "/v1/test/echo", body, content_type="application/json")

    assert_error(response, 400, "malformed_json")


@plumbing_urls
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "hello"),
        ("application/x-www-form-urlencoded", "a=1"),
        ("application/xml", "<a>1</a>"),
        ("multipart/form-data; boundary=xyz", "--xyz--"),
    ],
)
def test_body_that_is_not_json_is_415_unsupported_media_type(keyed_client, content_type, body):
    response = keyed_client.generic("POST", "/v1/test/echo", body, content_type=content_type)

    body = assert_error(response, 415, "unsupported_media_type")
    assert content_type.split(";")[0] in body["error"]


# --- 500 ----------------------------------------------------------------------------------------


@plumbing_urls
def test_unhandled_exception_in_an_api_view_is_a_500_envelope_without_traceback(key, caplog):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=key.key)

    response = client.get("/v1/test/boom")

    body = assert_error(response, 500, "internal_error")
    text = response.content.decode()
    for leak in ("Traceback", "RuntimeError", "kaboom", "secret internals", 'File "'):
        assert leak not in text
    assert body["meta"] == {}
    # Operators still get the traceback, in the log rather than the response.
    assert any(record.exc_info and record.levelname == "ERROR" for record in caplog.records)


@plumbing_urls
def test_exception_outside_drf_under_v1_is_still_a_500_envelope():
    response = Client(raise_request_exception=False).get("/v1/test/plain-boom")

    assert_error(response, 500, "internal_error")
    assert b"kaboom" not in response.content
    assert b"Traceback" not in response.content


def test_bad_host_header_under_v1_is_a_400_envelope(api_client, key):
    """A2: every error the server can produce is an envelope, 400 included (no HTML pages)."""
    response = api_client.get(
        "/v1/geo/countries", HTTP_HOST="attacker.example", HTTP_X_API_KEY=key.key
    )

    body = envelope(response, 400)
    assert body["result"] is False
    assert body["error_type"]


# --- K23: key expiry header ---------------------------------------------------------------------


def test_success_carries_the_key_expiry_as_iso_utc(api_client, make_key, geo):
    api_key = make_key(scopes="geo:read")
    api_client.credentials(HTTP_X_API_KEY=api_key.key)

    response = api_client.get("/v1/geo/countries")

    assert response.status_code == 200
    expected = api_key.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert response[EXPIRY_HEADER] == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", response[EXPIRY_HEADER])


def test_success_with_a_key_that_never_expires_says_never(api_client, make_key, geo):
    api_key = make_key(scopes="geo:read", expiration=Expiration.NEVER, expires_at=None)
    api_client.credentials(HTTP_X_API_KEY=api_key.key)

    response = api_client.get("/v1/geo/states", {"country_code": "DE"})

    assert response.status_code == 200
    assert response[EXPIRY_HEADER] == "never"


# --- A7: rate limit -----------------------------------------------------------------------------


@pytest.fixture
def frozen_throttle_clock(monkeypatch):
    """The limiter's clock, held still so 'quick' requests arrive at one instant (no sleeps)."""
    clock = SimpleNamespace(now=1_000_000.25)
    monkeypatch.setattr("apikeys.ratelimit.clock", lambda: clock.now)
    return clock


def test_third_quick_request_is_rate_limited_and_other_keys_are_not(
    api_client, make_key, settings, geo, frozen_throttle_clock
):
    settings.API_KEY_RATE_LIMIT = 1
    settings.API_KEY_RATE_BURST = 2  # 2 at once, then one a second
    first_key, other_key = make_key(scopes="geo:read"), make_key(scopes="geo:read")
    api_client.credentials(HTTP_X_API_KEY=first_key.key)

    statuses = [api_client.get("/v1/geo/countries").status_code for _ in range(2)]
    limited = api_client.get("/v1/geo/countries")

    assert statuses == [200, 200]
    body = assert_error(limited, 429, "rate_limited")
    # The bucket refills one request a second: the next is admitted 1 s later.
    assert limited["Retry-After"] == "1"
    assert body["meta"]["retry_after"] == 1

    api_client.credentials(HTTP_X_API_KEY=other_key.key)
    assert api_client.get("/v1/geo/countries").status_code == 200

    frozen_throttle_clock.now += 2
    api_client.credentials(HTTP_X_API_KEY=first_key.key)
    assert api_client.get("/v1/geo/countries").status_code == 200


# --- A6: OpenAPI schema and Swagger UI ----------------------------------------------------------


@pytest.fixture
def schema(client, db):
    response = client.get("/v1/schema")
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    return json.loads(response.content)


def test_schema_is_openapi_3_declaring_the_x_api_key_scheme(schema):
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    api_key_schemes = [
        name
        for name, scheme in schemes.items()
        if scheme == scheme | {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    ]
    assert api_key_schemes, schemes


def test_schema_documents_each_geo_path_exactly_as_published(schema):
    assert set(GEO_PATHS) <= set(schema["paths"]), sorted(schema["paths"])


@pytest.mark.parametrize("path", GEO_PATHS)
def test_schema_documents_scope_security_and_errors_of_each_geo_path(schema, path):
    # Tolerate the trailing-slash spelling here so this test checks the operation, not the path.
    operation = (schema["paths"].get(path) or schema["paths"][f"{path}/"])["get"]
    scheme_name = next(
        name
        for name, scheme in schema["components"]["securitySchemes"].items()
        if scheme.get("name") == "X-API-Key"
    )

    assert operation["x-required-scopes"] == ["geo:read"]
    assert "geo:read" in operation["description"]
    assert {scheme_name: []} in operation["security"]
    for status in ("401", "403"):
        response = operation["responses"][status]
        assert response["description"]
        ref = response["content"]["application/json"]["schema"]["$ref"]
        error_schema = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(error_schema["properties"]) == ENVELOPE_KEYS


def test_swagger_ui_is_html_from_local_static_files(client, db):
    response = client.get("/v1/docs")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    # AS8: no inline code; the start-up script is its own same-origin request.
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    script = client.get("/v1/docs?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/v1/schema" in script.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert any(asset.endswith("swagger-ui.css") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/") or asset == "/v1/docs?script=", asset
    for cdn in ("//cdn.", "jsdelivr", "unpkg", "cdnjs", "https://", "http://"):
        assert cdn not in html
