"""Authentication on the Public API (K15, K17, K20-K23), through the URL with real headers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from apikeys.authentication import APIKeyAuthentication, APIKeyOwner, APIKeyPrincipal
from apikeys.models import APIKey
from apikeys.services import api_key_revoke
from tests.concurrency import skip_unless_postgres
from tests.envelope import assert_error, assert_ok
from tests.factories import UserFactory

URL = "/v1/geo/countries?limit=1"

pytestmark = pytest.mark.django_db


def get(api_client, key: str | None = None, **headers):
    if key is not None:
        headers.setdefault("HTTP_X_API_KEY", key)
    return api_client.get(URL, **headers)


def assert_401(response, error_type: str):
    assert_error(response, 401, error_type)
    assert response["WWW-Authenticate"].startswith("ApiKey")


def test_x_api_key_header_authenticates(api_client, make_key, geo):
    assert_ok(get(api_client, make_key().key))


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_authorization_bearer_is_accepted(api_client, make_key, geo, scheme):
    key = make_key().key
    assert api_client.get(URL, HTTP_AUTHORIZATION=f"{scheme} {key}").status_code == 200


def test_x_api_key_wins_over_authorization(api_client, make_key, geo):
    key = make_key().key
    response = api_client.get(URL, HTTP_X_API_KEY=key, HTTP_AUTHORIZATION="Bearer junk")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_API_KEY": ""},
        {"HTTP_X_API_KEY": "   "},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Token abc"},
    ],
)
def test_missing_key_is_401_missing_api_key(api_client, headers):
    assert_401(api_client.get(URL, **headers), "missing_api_key")


@pytest.mark.parametrize(
    "value",
    [
        "2xt_",
        "not-a-key",
        "2xt_" + "a" * 36,  # right shape, wrong checksum
        "sk_live_" + "a" * 36,
        "2xt_" + "a" * 10_000,
        "2xt_ünïcödé" + "a" * 29,
        "2xt_" + "a" * 30 + "'; --",
        "\x00" * 40,
    ],
)
def test_malformed_key_is_401_without_a_query(api_client, value, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get(URL, HTTP_X_API_KEY=value)
    assert_401(response, "invalid_api_key")


def test_typo_in_a_real_key_is_rejected_without_a_query(
    api_client, make_key, django_assert_num_queries
):
    key = make_key().key
    typo = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    with django_assert_num_queries(0):
        assert_401(get(api_client, typo), "invalid_api_key")


def test_unknown_well_formed_key_is_401(api_client, settings):
    from apikeys import crypto

    assert_401(get(api_client, crypto.generate_key(settings.API_KEY_PREFIX)), "invalid_api_key")


def test_revoked_key_gets_401_on_next_request(api_client, make_key, geo):
    api_key = make_key()
    assert get(api_client, api_key.key).status_code == 200
    api_key_revoke(api_key=api_key)
    assert_401(get(api_client, api_key.key), "invalid_api_key")


def test_expired_key_gets_401_with_its_own_error_type(api_client, make_key):
    response = get(api_client, make_key(expired=True).key)
    assert_401(response, "api_key_expired")
    assert "expired" in response.json()["error"]


def test_key_of_deactivated_account_is_rejected(api_client, make_key, user):
    key = make_key().key
    user.is_active = False
    user.save()
    assert_401(get(api_client, key), "invalid_api_key")


def test_success_response_tells_when_the_key_expires(api_client, make_key, geo):
    api_key = make_key()
    response = get(api_client, api_key.key)
    assert response["X-API-Key-Expires-At"] == api_key.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    never = make_key(expires_at=None)
    assert get(api_client, never.key)["X-API-Key-Expires-At"] == "never"


def test_authentication_is_one_query_in_steady_state(make_key, django_assert_num_queries):
    api_key = make_key(last_used_at=datetime.now(UTC))
    request = APIRequestFactory().get(URL, HTTP_X_API_KEY=api_key.key)
    with django_assert_num_queries(1) as captured:
        owner, principal = APIKeyAuthentication().authenticate(request)
    sql = captured.captured_queries[0]["sql"].lower()
    assert "join" in sql and "digest" in sql
    assert isinstance(owner, APIKeyOwner) and owner.id == api_key.owner_id
    assert isinstance(principal, APIKeyPrincipal)
    assert principal.scopes == frozenset({"geo:read"})


def test_first_use_adds_exactly_one_last_used_write(make_key, django_assert_num_queries):
    api_key = make_key()
    request = APIRequestFactory().get(URL, HTTP_X_API_KEY=api_key.key, REMOTE_ADDR="198.51.100.7")
    with django_assert_num_queries(2):
        APIKeyAuthentication().authenticate(request)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert api_key.last_used_ip == "198.51.100.7"


def test_burst_of_requests_writes_last_used_once(api_client, make_key, geo):
    api_key = make_key()
    with CaptureQueriesContext(connection) as captured:
        for _ in range(5):
            assert get(api_client, api_key.key, REMOTE_ADDR="192.0.2.10").status_code == 200
    updates = [q for q in captured.captured_queries if q["sql"].upper().startswith("UPDATE")]
    assert len(updates) == 1
    api_key.refresh_from_db()
    assert api_key.last_used_ip == "192.0.2.10"


def test_last_used_is_written_again_after_a_minute(api_client, make_key, geo, monkeypatch):
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    api_key = make_key(created_at=start - timedelta(days=1), expires_at=None)
    clock = {"now": start}
    monkeypatch.setattr("apikeys.authentication.timezone.now", lambda: clock["now"])
    get(api_client, api_key.key)
    clock["now"] = start + timedelta(seconds=30)
    get(api_client, api_key.key)
    assert APIKey.objects.get(pk=api_key.pk).last_used_at == start
    clock["now"] = start + timedelta(seconds=61)
    get(api_client, api_key.key)
    assert APIKey.objects.get(pk=api_key.pk).last_used_at == start + timedelta(seconds=61)


def test_garbage_client_address_is_not_recorded(make_key):
    api_key = make_key()
    request = APIRequestFactory().get(URL, HTTP_X_API_KEY=api_key.key, REMOTE_ADDR="not-an-ip")
    APIKeyAuthentication().authenticate(request)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert api_key.last_used_ip is None


def test_keys_of_two_accounts_map_to_their_owners(make_key):
    other = UserFactory()
    mine, theirs = make_key(), make_key(owner=other)
    factory = APIRequestFactory()
    owner_a, _ = APIKeyAuthentication().authenticate(factory.get(URL, HTTP_X_API_KEY=mine.key))
    owner_b, _ = APIKeyAuthentication().authenticate(factory.get(URL, HTTP_X_API_KEY=theirs.key))
    assert (owner_a.id, owner_b.id) == (mine.owner_id, other.id)


@pytest.mark.parametrize(("num_proxies", "recorded"), [(0, "198.51.100.7"), (1, "203.0.113.9")])
def test_x_forwarded_for_is_believed_only_behind_configured_proxies(
    make_key, settings, num_proxies, recorded
):
    """A13: with no proxy in front, a client-supplied X-Forwarded-For is never the address."""
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"NUM_PROXIES": num_proxies}
    api_key = make_key()
    request = APIRequestFactory().get(
        URL,
        HTTP_X_API_KEY=api_key.key,
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.9",
    )
    APIKeyAuthentication().authenticate(request)
    api_key.refresh_from_db()
    assert api_key.last_used_ip == recorded


def test_by_default_no_proxy_is_trusted_by_the_api_or_the_sign_in(settings):
    assert settings.NUM_PROXIES == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_on_postgresql_the_key_lookup_is_prepared_once_per_connection(make_key):
    skip_unless_postgres()
    api_key = make_key(last_used_at=datetime.now(UTC))
    for _ in range(3):
        request = APIRequestFactory().get(URL, HTTP_X_API_KEY=api_key.key)
        owner, _ = APIKeyAuthentication().authenticate(request)
        assert owner.id == api_key.owner_id
    # One prepared statement, the lookup: everything else (the ORM) stays bound on the client.
    [statement] = prepared_statements()
    assert "apikeys_apikey" in statement and "digest" in statement


@pytest.mark.django_db(transaction=True)
def test_with_prepared_statements_off_the_lookup_still_works_unprepared(make_key, monkeypatch):
    """DATABASE_PREPARED_STATEMENTS=0, for a pooler that cannot keep prepared statements."""
    skip_unless_postgres()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", None)
    connection.close()  # the next connection is opened with the option
    try:
        api_key = make_key(last_used_at=datetime.now(UTC))
        for _ in range(3):
            request = APIRequestFactory().get(URL, HTTP_X_API_KEY=api_key.key)
            owner, _ = APIKeyAuthentication().authenticate(request)
            assert owner.id == api_key.owner_id
        assert prepared_statements() == []
    finally:
        connection.close()
