"""A11, A12: GCRA per key and per account, failed-authentication limit per address, the IETF
RateLimit headers; on whichever cache the suite runs (local memory, or Redis in CI's PostgreSQL
run, where the one-round-trip Lua scripts are exercised)."""

import threading
from types import SimpleNamespace

import pytest

from apikeys import ratelimit
from apikeys.crypto import digest
from tests.envelope import assert_error

pytestmark = pytest.mark.django_db
URL = "/v1/geo/countries"


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, held still; tests move it."""
    state = SimpleNamespace(now=1_800_000_000.0)
    monkeypatch.setattr(ratelimit, "clock", lambda: state.now)
    return state


@pytest.fixture
def tight(settings):
    settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_BURST = 2, 3
    settings.API_ACCOUNT_RATE_LIMIT, settings.API_ACCOUNT_RATE_BURST = 4, 5
    settings.API_AUTH_FAILURE_LIMIT = 3
    return settings


def get(api_client, key, ip="198.51.100.1"):
    return api_client.get(URL, HTTP_X_API_KEY=key, REMOTE_ADDR=ip)


def test_a_burst_then_one_request_per_interval(api_client, make_key, geo, tight, clock):
    key = make_key().key
    assert [get(api_client, key).status_code for _ in range(4)] == [200, 200, 200, 429]
    clock.now += 0.49  # the bucket refills 2 a second: not yet
    assert get(api_client, key).status_code == 429
    clock.now += 0.02
    assert get(api_client, key).status_code == 200
    assert get(api_client, key).status_code == 429


def test_no_window_edge_lets_twice_the_burst_through(api_client, make_key, geo, tight, clock):
    """A fixed window admits a burst at the end of one window and another at the start of the
    next.  Over any second here at most burst + rate requests get through."""
    key = make_key().key
    start = clock.now
    admitted = []
    for tenth in range(40):  # 4 seconds in steps of 0.1 s, 3 tries each
        clock.now = start + tenth / 10
        for _ in range(3):
            if get(api_client, key).status_code == 200:
                admitted.append(tenth)
    for first in admitted:
        assert len([t for t in admitted if first <= t < first + 10]) <= 3 + 2
    # The burst at once, then one every 0.5 s: at 0.5, 1.0, ... 3.5 s.
    assert admitted == [0, 0, 0, 5, 10, 15, 20, 25, 30, 35]


def test_headers_on_success_and_on_429(api_client, make_key, geo, tight, clock):
    key = make_key().key
    first = get(api_client, key)
    assert first["RateLimit-Policy"].startswith('"key";q=3;w=2')
    assert first["RateLimit"].startswith('"key";r=2;t=1')
    get(api_client, key)
    # From the second request on the account is known: its ceiling shows too.
    second_state = get(api_client, key)["RateLimit"]
    assert '"key";r=0' in second_state and '"account";r=' in second_state
    refused = get(api_client, key)
    assert_error(refused, 429, "rate_limited")
    assert refused["Retry-After"] == "1"
    assert '"key";r=0' in refused["RateLimit"]


def test_the_account_ceiling_spans_all_its_keys(api_client, make_key, user, geo, tight, clock):
    keys = [make_key().key for _ in range(3)]
    statuses = [get(api_client, key).status_code for key in keys for _ in range(2)]
    assert statuses.count(200) == 5  # the account's burst, whichever keys sent them
    refused = next(r for r in (get(api_client, keys[2]) for _ in range(2)) if r.status_code == 429)
    assert "this account" in refused.json()["error"]


def test_another_accounts_keys_are_not_affected(
    api_client, make_key, other_user, geo, tight, clock
):
    mine, theirs = make_key().key, make_key(owner=other_user).key
    for _ in range(4):
        get(api_client, mine)
    assert get(api_client, mine).status_code == 429
    assert get(api_client, theirs).status_code == 200


def test_a_hammered_key_is_refused_before_the_database(
    api_client, make_key, geo, tight, clock, django_assert_num_queries
):
    key = make_key().key
    for _ in range(3):
        get(api_client, key)
    with django_assert_num_queries(0):
        assert get(api_client, key).status_code == 429


@pytest.mark.parametrize(
    "bad_key",
    [
        "2xt_" + "A" * 36,  # malformed: bad checksum
        None,  # well formed, unknown (made below)
    ],
)
def test_failed_authentications_lock_the_address_for_the_minute(
    api_client, make_key, geo, tight, clock, settings, bad_key, django_assert_num_queries
):
    from apikeys import crypto

    bad_key = bad_key or crypto.generate_key(settings.API_KEY_PREFIX)
    good = make_key().key
    assert [get(api_client, bad_key).status_code for _ in range(3)] == [401, 401, 401]
    with django_assert_num_queries(0):  # refused before any key lookup, even a valid key
        refused = get(api_client, good)
    assert refused.status_code == 429
    assert "failed authentications" in refused.json()["error"]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert get(api_client, good, ip="198.51.100.2").status_code == 200  # other addresses are fine
    clock.now += 60
    assert get(api_client, good).status_code == 200


def test_the_failure_limit_can_be_switched_off(api_client, make_key, geo, tight, clock):
    tight.API_AUTH_FAILURE_LIMIT = 0
    for _ in range(10):
        assert get(api_client, "2xt_" + "B" * 36).status_code == 401
    assert get(api_client, make_key().key).status_code == 200


def test_successes_do_not_count_as_failures(api_client, make_key, geo, tight, clock):
    key = make_key().key
    for _ in range(3):
        assert get(api_client, key).status_code == 200
        clock.now += 1
    assert get(api_client, key).status_code == 200


def test_parallel_requests_get_exactly_the_burst(settings, clock):
    """Exact under concurrency: on Redis the Lua script is atomic across processes and servers;
    locally a lock serialises the threads."""
    settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_BURST = 1, 20
    settings.API_ACCOUNT_RATE_LIMIT, settings.API_ACCOUNT_RATE_BURST = 100, 100
    key_digest = digest("2xt_parallel", "secret")
    results: list[bool] = []
    barrier = threading.Barrier(50)

    def hit() -> None:
        barrier.wait(timeout=10)
        results.append(ratelimit.before_lookup(ip="203.0.113.1", digest=key_digest).allowed)

    threads = [threading.Thread(target=hit) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 50
    assert results.count(True) == 20


def test_a_huge_forwarded_address_behind_proxies_is_harmless(api_client, make_key, geo, settings):
    """Behind proxies the address is the client's own text: bounded before it names a counter."""
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"NUM_PROXIES": 1}
    response = api_client.get(
        URL, HTTP_X_API_KEY="2xt_" + "C" * 36, HTTP_X_FORWARDED_FOR="x" * 5000
    )
    assert response.status_code == 401
    assert ratelimit._names("x" * 5000, "d", 0.0)[0] == f"rl:authfail:{'x' * 64}:0"
    assert get(api_client, make_key().key).status_code == 200
