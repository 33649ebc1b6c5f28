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


# --- K31: usage counting rides in the same round trip --------------------------------------------


def usage_hash(digest: str) -> dict[str, int]:
    """Today's usage counters of one key in Redis: {"s": .., "c": .., "r": ..}, fields present."""
    from django.core.cache import cache

    from apikeys import ratelimit

    client = ratelimit.redis_client()
    name = cache.make_key(ratelimit.usage_hash_name(ratelimit.usage_day(ratelimit.clock())))
    fields = client.hgetall(name)
    return {
        field.decode().rpartition(":")[2]: int(value)
        for field, value in fields.items()
        if field.decode().startswith(digest)
    }


def test_each_request_is_counted_in_the_limiters_round_trip(
    api_client, make_key, geo, private_redis, commands
):
    warm_up = make_key(scopes="geo:read").key
    api_client.get("/v1/geo/countries", HTTP_X_API_KEY=warm_up)
    api_key = make_key(scopes="geo:read")
    for _ in range(4):
        api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key)
    commands.clear()
    assert api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key).status_code == 200
    assert commands == ["EVALSHA"]
    assert usage_hash(api_key.digest) == {"s": 5}


def test_a_client_error_costs_one_more_round_trip(
    api_client, make_key, geo, private_redis, commands
):
    api_key = make_key(scopes="geo:read")
    api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key)  # scripts loaded, owner known
    api_client.get("/v1/geo/states", HTTP_X_API_KEY=api_key.key)
    commands.clear()
    assert api_client.get("/v1/geo/states", HTTP_X_API_KEY=api_key.key).status_code == 400
    assert commands == ["EVALSHA", "EVALSHA"]  # the limiter, then success -> client error
    assert usage_hash(api_key.digest) == {"s": 1, "c": 2}


def test_a_failed_authentication_is_taken_back_in_its_failure_count(
    api_client, make_key, geo, private_redis, commands
):
    api_key = make_key(scopes="geo:read", revoked=True)
    api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key)  # scripts loaded
    commands.clear()
    assert api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key).status_code == 401
    assert commands == ["EVALSHA", "EVALSHA"]  # as before K31
    assert usage_hash(api_key.digest) == {}


def test_a_refused_address_is_taken_back(api_client, make_key, geo, private_redis, commands):
    api_key = make_key(scopes="geo:read", allowed_ips="203.0.113.0/24")
    response = api_client.get(
        "/v1/geo/countries", HTTP_X_API_KEY=api_key.key, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 403
    assert usage_hash(api_key.digest) == {}


def test_the_flush_renames_the_days_hash_and_writes_it(
    api_client, make_key, geo, private_redis, commands
):
    from apikeys import usage
    from apikeys.models import APIKeyUsageDaily

    api_key = make_key(scopes="geo:read")
    for _ in range(3):
        api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key)
    commands.clear()
    usage.usage_flush()
    # Today's hash and the two days before (none here); HGETALL and DEL go as one MULTI.
    assert commands == ["RENAME", "RENAME", "RENAME"]
    assert usage_hash(api_key.digest) == {}
    row = APIKeyUsageDaily.objects.get(api_key=api_key)
    assert (row.success, row.client_error, row.rate_limited) == (3, 0, 0)


def test_a_failed_database_write_puts_the_counts_back_into_redis(
    api_client, make_key, geo, private_redis, monkeypatch
):
    from django.db import DatabaseError

    from apikeys import usage
    from apikeys.models import APIKeyUsageDaily

    api_key = make_key(scopes="geo:read")
    for _ in range(3):
        api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key)
    api_client.get("/v1/geo/states", HTTP_X_API_KEY=api_key.key)
    with monkeypatch.context() as patch:
        patch.setattr(usage, "_upsert_sql", lambda table, rows: "INSERT INTO no_such_table")
        with pytest.raises(DatabaseError):
            usage.usage_flush()
    assert usage_hash(api_key.digest) == {"s": 3, "c": 1}
    usage.usage_flush()
    row = APIKeyUsageDaily.objects.get(api_key=api_key)
    assert (row.success, row.client_error) == (3, 1)


def test_one_process_of_the_cluster_flushes_per_minute(
    api_client, make_key, geo, private_redis, settings, monkeypatch
):
    """Each process tries once a minute; the lock in Redis lets the first of them flush."""
    from apikeys import usage

    settings.API_KEY_USAGE_FLUSH_SECONDS = 60
    flushes = []
    monkeypatch.setattr(usage, "usage_flush", lambda: flushes.append(1))
    assert usage.usage_flush_when_due() is True
    usage._schedule.next_due = 0.0  # another process, whose minute is up too
    assert usage.usage_flush_when_due() is False
    assert flushes == [1]


def test_counting_fails_open_without_redis(api_client, make_key, geo, private_redis):
    from apikeys import usage

    api_key = make_key(scopes="geo:read")
    private_redis.stop()
    assert api_client.get("/v1/geo/countries", HTTP_X_API_KEY=api_key.key).status_code == 200
    assert api_client.get("/v1/geo/states", HTTP_X_API_KEY=api_key.key).status_code == 400
    assert usage.usage_flush().rows == 0  # nothing could be taken; nothing fails
    private_redis.start()
