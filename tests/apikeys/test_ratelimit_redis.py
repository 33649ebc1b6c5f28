"""A11: with Redis, an authenticated request costs one cache round trip in steady state.

A private redis-server on a free port (the `private_redis` fixture), so this runs in every CI
phase; round trips are counted at the Redis client, where each command is one.
"""

import pytest
import redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def commands(monkeypatch):
    sent: list[str] = []
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(str(args[0]))
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return sent


def test_one_round_trip_per_authenticated_request(
    api_client,
    make_key,
    geo,
    private_redis,
    commands,
):
    warm_up = make_key(scopes="geo:read").key  # the server learns the scripts (SCRIPT LOAD) once
    api_client.get("/v1/geo/countries", HTTP_X_API_KEY=warm_up)
    key = make_key(scopes="geo:read").key
    commands.clear()
    assert api_client.get("/v1/geo/countries", HTTP_X_API_KEY=key).status_code == 200
    assert commands == ["EVALSHA", "EVALSHA"]  # a key's first request: its account remembered
    for _ in range(5):
        commands.clear()
        response = api_client.get("/v1/geo/countries", HTTP_X_API_KEY=key)
        assert response.status_code == 200
        assert commands == ["EVALSHA"]
        assert '"account"' in response["RateLimit"]


def test_a_failed_authentication_costs_two(api_client, make_key, private_redis, commands):
    from django.conf import settings

    from apikeys import crypto

    unknown = crypto.generate_key(settings.API_KEY_PREFIX)
    api_client.get("/v1/geo/countries", HTTP_X_API_KEY=unknown)  # scripts loaded
    commands.clear()
    assert api_client.get("/v1/geo/countries", HTTP_X_API_KEY=unknown).status_code == 401
    assert commands == ["EVALSHA", "EVALSHA"]  # the checks, then the failure count
