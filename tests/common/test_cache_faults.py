"""R3: when Redis goes away the API and the dashboard keep serving (limits fail open), operators
get one ERROR line a minute, and limits resume by themselves when Redis is back.

Each test runs its own `redis-server` on a free loopback port (the `private_redis` fixture) and
stops it by its pid; the machine's shared Redis is never touched.
"""

import logging
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.urls import reverse

from apikeys.models import APIKey
from common import cache as fail_open
from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def clocks(monkeypatch):
    """The throttle's wall clock and the cache health's monotonic clock, both held still."""
    clock = SimpleNamespace(now=1_800_000_000.0)
    monkeypatch.setattr("apikeys.ratelimit.clock", lambda: clock.now)
    monkeypatch.setattr(fail_open, "time", SimpleNamespace(monotonic=lambda: clock.now))
    monkeypatch.setattr(fail_open, "health", fail_open.CacheHealth())
    return clock


def get(api_client, key):
    return api_client.get("/v1/geo/countries", HTTP_X_API_KEY=key)


def test_the_api_keeps_serving_without_redis_and_limits_resume(
    api_client, make_key, geo, settings, private_redis, clocks, caplog
):
    settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_BURST = 1, 2
    key = make_key(scopes="geo:read").key
    assert [get(api_client, key).status_code for _ in range(3)] == [200, 200, 429]

    private_redis.stop()
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="common.cache"):
        statuses = [get(api_client, key).status_code for _ in range(20)]
        clocks.now += 30  # half a minute of outage later: still no second log line
        statuses += [get(api_client, key).status_code for _ in range(20)]
    assert statuses == [200] * 40  # fail open: no 500, no 429
    errors = [r for r in caplog.records if r.name == "common.cache"]
    assert len(errors) == 1 and "fail open" in errors[0].getMessage()

    private_redis.start()
    clocks.now += 5  # past the retry pause, and into a fresh rate-limit window
    assert [get(api_client, key).status_code for _ in range(3)] == [200, 200, 429]


def test_a_long_outage_logs_once_a_minute(private_redis, clocks, caplog):
    private_redis.stop()
    with caplog.at_level(logging.ERROR, logger="common.cache"):
        for _ in range(5):  # five minutes, a call every 2 seconds
            for _ in range(30):
                cache.get("anything")
                clocks.now += 2
    assert len([r for r in caplog.records if r.name == "common.cache"]) == 5


def test_the_dashboard_keeps_working_without_redis(client, user, private_redis, clocks):
    private_redis.stop()
    # Sign-in rate limits (allauth) and the one-time create token both use the cache.
    response = client.post(
        reverse("account_login"), {"login": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    sign_in(client, user)
    response = client.post(
        reverse("apikeys:create"),
        {"name": "During outage", "scopes": ["geo:read"], "expiration": "30d", "submission": "t1"},
    )
    assert response.status_code == 200
    assert APIKey.objects.filter(owner=user, name="During outage").exists()


def test_an_unreachable_cache_answers_like_an_empty_one(private_redis, clocks):
    cache.set("k", 1)
    assert cache.get("k") == 1
    private_redis.stop()
    assert cache.get("k", "default") == "default"
    assert cache.add("k2", 1) is True
    assert cache.incr("k3", 5) == 5
    assert cache.get_many(["k"]) == {}
    assert cache.has_key("k") is False
