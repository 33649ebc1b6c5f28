"""K31: per-key usage per UTC day, by outcome, counted by the limiter and moved into the database
by the flush (apikeys/usage.py); on whichever cache the suite runs (the local store, or Redis in
the PostgreSQL run).  The round trips on Redis are pinned in test_ratelimit_redis.py."""

import io
import multiprocessing
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from apikeys import crypto, ratelimit, usage
from apikeys.models import APIKeyUsageDaily
from apikeys.selectors import api_key_list
from tests.concurrency import skip_unless_postgres
from tests.envelope import assert_error, assert_not_found, assert_validation_error
from tests.factories import APIKeyFactory

pytestmark = pytest.mark.django_db
URL = "/v1/geo/countries"


def today() -> date:
    return datetime.now(UTC).date()


def counts(api_key, day: date | None = None) -> tuple[int, int, int] | None:
    """(success, client_error, rate_limited) stored for the key on `day` (today), or None."""
    row = APIKeyUsageDaily.objects.filter(api_key=api_key, day=day or today()).first()
    return None if row is None else (row.success, row.client_error, row.rate_limited)


def get(api_client, key: str, url: str = URL, **extra):
    return api_client.get(url, HTTP_X_API_KEY=key, **extra)


# --- Outcomes, through real requests ------------------------------------------------------------


def test_successes_and_client_errors_are_counted_after_a_flush(api_client, make_key, geo):
    api_key = make_key(scopes="geo:read proxies:read")
    assert get(api_client, api_key.key).status_code == 200
    assert get(api_client, api_key.key).status_code == 200
    assert_validation_error(get(api_client, api_key.key, "/v1/geo/states"), "country_code")
    assert_not_found(get(api_client, api_key.key, "/v1/proxy/nosuchproxy"))
    assert counts(api_key) is None  # nothing written per request

    result = usage.usage_flush()

    assert counts(api_key) == (2, 2, 0)
    assert result.rows == 1


def test_a_missing_scope_is_a_client_error(api_client, make_key, geo):
    api_key = make_key(scopes="geo:read")
    assert_error(get(api_client, api_key.key, "/v1/proxy"), 403, "insufficient_scope")
    usage.usage_flush()
    assert counts(api_key) == (0, 1, 0)


def test_refusals_by_the_key_bucket_are_rate_limited(api_client, make_key, geo, settings):
    settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_BURST = 0.001, 3
    api_key = make_key()
    statuses = [get(api_client, api_key.key).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    usage.usage_flush()
    assert counts(api_key) == (3, 0, 2)


def test_a_first_request_refused_by_the_account_is_rate_limited(
    api_client, user, make_key, geo, settings
):
    """The account's ceiling is charged after the lookup on a key's first request (its account not
    yet remembered); a refusal there turns the counted success into rate-limited."""
    settings.API_ACCOUNT_RATE_LIMIT, settings.API_ACCOUNT_RATE_BURST = 0.001, 2
    first, second = make_key(), make_key()
    assert [get(api_client, first.key).status_code for _ in range(2)] == [200, 200]
    assert get(api_client, second.key).status_code == 429
    usage.usage_flush()
    assert counts(first) == (2, 0, 0)
    assert counts(second) == (0, 0, 1)


@pytest.mark.parametrize("state", [{"revoked": True}, {"expired": True}])
def test_a_revoked_or_expired_key_is_not_counted(api_client, make_key, geo, state):
    api_key = make_key(**state)
    assert get(api_client, api_key.key).status_code == 401
    result = usage.usage_flush()
    assert counts(api_key) is None
    assert result.rows == 0


def test_a_failed_authentication_is_not_counted_with_the_failure_limit_off(
    api_client, make_key, geo, settings
):
    settings.API_AUTH_FAILURE_LIMIT = 0
    api_key = make_key(revoked=True)
    assert get(api_client, api_key.key).status_code == 401
    usage.usage_flush()
    assert counts(api_key) is None


def test_a_server_error_is_no_outcome(api_client, make_key, geo, monkeypatch):
    """K31 counts successes, client errors and rate-limited requests; a 500 is none of them."""
    from proxies.geo.api import views

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.GeoCountryListAPIView, "get", broken)
    api_client.raise_request_exception = False
    api_key = make_key()
    assert get(api_client, api_key.key).status_code == 500
    usage.usage_flush()
    assert counts(api_key) is None


def test_an_inactive_owner_is_not_counted(api_client, make_key, user, geo):
    api_key = make_key()
    user.is_active = False
    user.save()
    assert get(api_client, api_key.key).status_code == 401
    usage.usage_flush()
    assert not APIKeyUsageDaily.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # keyless
        {"HTTP_X_API_KEY": "2xt_not-a-key"},  # malformed: fails before any digest exists
        {"HTTP_X_API_KEY": "unknown"},  # replaced by a well-formed key of no account below
    ],
)
def test_keyless_malformed_and_unknown_keys_count_against_no_key(
    api_client, make_key, geo, settings, headers
):
    bystander = make_key()
    if headers.get("HTTP_X_API_KEY") == "unknown":
        headers = {"HTTP_X_API_KEY": crypto.generate_key(settings.API_KEY_PREFIX)}
    assert api_client.get(URL, **headers).status_code == 401
    result = usage.usage_flush()
    assert not APIKeyUsageDaily.objects.exists()
    assert counts(bystander) is None
    assert result.rows == 0


def test_a_refused_address_is_not_counted(api_client, make_key, geo):
    api_key = make_key(allowed_ips="203.0.113.0/24")
    refused = get(api_client, api_key.key, REMOTE_ADDR="198.51.100.7")
    assert_error(refused, 403, "ip_not_allowed")
    assert get(api_client, api_key.key, REMOTE_ADDR="203.0.113.9").status_code == 200
    usage.usage_flush()
    assert counts(api_key) == (1, 0, 0)


def test_each_key_has_its_own_counts(api_client, make_key, other_user, geo):
    mine, theirs = make_key(), make_key(owner=other_user)
    for _ in range(3):
        get(api_client, mine.key)
    get(api_client, theirs.key)
    usage.usage_flush()
    assert counts(mine) == (3, 0, 0)
    assert counts(theirs) == (1, 0, 0)


# --- The flush ----------------------------------------------------------------------------------


def test_a_flush_adds_to_the_days_row_and_takes_the_counts_away(api_client, make_key, geo):
    api_key = make_key()
    get(api_client, api_key.key)
    usage.usage_flush()
    get(api_client, api_key.key)
    get(api_client, api_key.key, "/v1/geo/states")
    usage.usage_flush()
    assert usage.usage_flush().rows == 0  # nothing left to add
    assert counts(api_key) == (2, 1, 0)


def test_a_correction_after_its_success_was_flushed_still_lands(api_client, make_key, geo):
    """A 4xx is known after the request's success may already be in the database: the move
    arrives in the next flush as a negative delta on the row."""
    api_key = make_key()
    get(api_client, api_key.key)
    verdict = ratelimit.before_lookup(ip="198.51.100.1", digest=api_key.digest)
    usage.usage_flush()
    assert counts(api_key) == (2, 0, 0)
    ratelimit.usage_move(verdict=verdict, to=ratelimit.CLIENT_ERROR)
    usage.usage_flush()
    assert counts(api_key) == (1, 1, 0)


def test_a_correction_with_no_row_to_correct_waits_for_the_next_flush(make_key, db):
    """Its success may be in a flush that has not committed yet: never below zero, never lost."""
    api_key = make_key()
    verdict = ratelimit.before_lookup(ip="198.51.100.1", digest=api_key.digest)
    usage._take([today()])  # as if another flush had taken the success and not yet committed
    ratelimit.usage_move(verdict=verdict, to=ratelimit.CLIENT_ERROR)
    result = usage.usage_flush()
    assert result.deferred == 1
    assert counts(api_key) is None
    APIKeyUsageDaily.objects.create(api_key=api_key, day=today(), success=1)  # it committed
    usage.usage_flush()
    assert counts(api_key) == (0, 1, 0)


def test_a_failed_database_write_puts_the_counts_back(api_client, make_key, geo, monkeypatch):
    api_key = make_key()
    for _ in range(3):
        get(api_client, api_key.key)
    get(api_client, api_key.key, "/v1/geo/states")
    broken = monkeypatch.setattr  # the upsert fails, as a lost database would make it
    broken(usage, "_upsert_sql", lambda table, rows: "INSERT INTO no_such_table VALUES (%s)")
    with pytest.raises(DatabaseError):
        usage.usage_flush()
    assert counts(api_key) is None
    get(api_client, api_key.key)  # counted meanwhile
    monkeypatch.undo()
    usage.usage_flush()
    assert counts(api_key) == (4, 1, 0)


def test_unknown_digests_are_dropped(db):
    verdict = ratelimit.before_lookup(ip="198.51.100.1", digest="f" * 64)
    assert verdict.allowed
    result = usage.usage_flush()
    assert result.dropped == 1
    assert not APIKeyUsageDaily.objects.exists()
    assert usage.usage_flush().dropped == 0


def test_yesterdays_counts_go_to_yesterday(api_client, make_key, geo, monkeypatch):
    api_key = make_key()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    monkeypatch.setattr(ratelimit, "clock", lambda: yesterday.timestamp())
    get(api_client, api_key.key)
    monkeypatch.undo()
    get(api_client, api_key.key)
    usage.usage_flush()
    assert counts(api_key, yesterday.date()) == (1, 0, 0)
    assert counts(api_key) == (1, 0, 0)


def test_rows_older_than_90_days_are_pruned(make_key, db):
    api_key = make_key()
    now = datetime(2026, 6, 30, 12, tzinfo=UTC)
    for age in (0, 89, 90, 400):
        APIKeyUsageDaily.objects.create(
            api_key=api_key, day=now.date() - timedelta(days=age), success=1
        )
    result = usage.usage_flush(now=now)
    assert result.pruned == 2
    kept = set(APIKeyUsageDaily.objects.values_list("day", flat=True))
    assert kept == {now.date(), now.date() - timedelta(days=89)}


def test_the_command_flushes_and_prunes(api_client, make_key, geo):
    api_key = make_key()
    get(api_client, api_key.key)
    APIKeyUsageDaily.objects.create(api_key=api_key, day=today() - timedelta(days=120), success=5)
    out = io.StringIO()
    call_command("flush_key_usage", stdout=out)
    assert counts(api_key) == (1, 0, 0)
    assert APIKeyUsageDaily.objects.count() == 1
    assert "Added to 1 usage row(s); pruned 1" in out.getvalue()


def test_each_process_flushes_from_the_request_path_once_a_minute(
    api_client, make_key, geo, settings
):
    settings.API_KEY_USAGE_FLUSH_SECONDS = 60
    api_key = make_key()
    get(api_client, api_key.key)
    assert counts(api_key) == (1, 0, 0)  # the first request of the process flushed
    get(api_client, api_key.key)
    assert counts(api_key) == (1, 0, 0)  # not again within the minute
    usage._schedule.next_due = 0.0  # a minute later: due again, and Redis's lock has expired
    cache.delete(usage.FLUSH_LOCK)
    get(api_client, api_key.key)
    assert counts(api_key) == (3, 0, 0)


def test_the_request_path_flush_never_fails_a_request(
    api_client, make_key, geo, settings, monkeypatch
):
    settings.API_KEY_USAGE_FLUSH_SECONDS = 60

    def broken(**kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(usage, "usage_flush", broken)
    assert get(api_client, make_key().key).status_code == 200


# --- The key table: requests over the last 7 days -----------------------------------------------


def test_the_key_list_sums_the_last_7_days(user, make_key):
    busy, quiet = make_key(name="busy"), make_key(name="quiet")
    make_key(name="idle")
    day = timezone.now().astimezone(UTC).date()
    APIKeyUsageDaily.objects.bulk_create(
        [
            APIKeyUsageDaily(api_key=busy, day=day, success=10, client_error=2, rate_limited=1),
            APIKeyUsageDaily(api_key=busy, day=day - timedelta(days=6), success=5),
            APIKeyUsageDaily(api_key=busy, day=day - timedelta(days=7), success=1000),  # too old
            APIKeyUsageDaily(api_key=quiet, day=day - timedelta(days=1), client_error=3),
        ]
    )
    keys = list(api_key_list(owner=user, params={"sort": "-requests"}))
    assert [(key.name, key.requests_7d) for key in keys] == [
        ("busy", 18),
        ("quiet", 3),
        ("idle", 0),
    ]
    ascending = api_key_list(owner=user, params={"sort": "requests"})
    assert [key.name for key in ascending] == ["idle", "quiet", "busy"]


def test_the_key_table_shows_requests_over_7_days(logged_in_client, user, make_key):
    api_key = make_key(name="busy")
    APIKeyUsageDaily.objects.create(api_key=api_key, day=today(), success=1234, rate_limited=1)
    page = logged_in_client.get("/api-keys/?sort=-requests").content.decode()
    assert "Requests (7 days)" in page
    assert '<td data-label="Requests (7 days)">1,235</td>' in page


# --- Exactness across processes (PostgreSQL + Redis) --------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_run_again_after_a_lost_connection_is_counted_once(api_client, make_key, geo):
    """R3 runs a read whose database connection dropped once more (through authentication and
    the limiter again): still one request of the key."""
    from tests.api.test_database_faults import Terminator

    skip_unless_postgres()
    api_key = make_key()
    terminator = Terminator()  # the very first statement: the key lookup
    with connection.execute_wrapper(terminator):
        assert get(api_client, api_key.key).status_code == 200
    assert terminator.terminated, "the fault was injected"
    usage.usage_flush()
    assert counts(api_key) == (1, 0, 0)


WORKERS = 4
REQUESTS_PER_WORKER = 60


def _worker(keys: list[str], index: int, flush: bool) -> None:
    """One app server process: requests through the whole Django stack, flushing every few."""
    from django.test import Client

    connections.close_all()  # the parent's connections are not this process's
    client = Client()
    for number in range(REQUESTS_PER_WORKER):
        key = keys[(index + number) % len(keys)]
        path = "/v1/geo/states" if number % 5 == 0 else URL  # a 400 one time in five
        client.get(path, HTTP_X_API_KEY=key)
        if flush and number % 7 == 0:
            usage.usage_flush()
    connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_every_request_is_counted_once_across_processes(user, geo, private_redis):
    """Several processes, each an app server on the same Redis and PostgreSQL, send requests and
    flush while the others count: the table ends with every request exactly once."""
    skip_unless_postgres()
    api_keys = [APIKeyFactory(owner=user, scopes="geo:read") for _ in range(3)]
    keys = [api_key.key for api_key in api_keys]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_worker, args=(keys, index, index % 2 == 0))
        for index in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0] * WORKERS
    usage.usage_flush()

    expected = [[0, 0] for _ in keys]
    for index in range(WORKERS):
        for number in range(REQUESTS_PER_WORKER):
            expected[(index + number) % len(keys)][number % 5 == 0] += 1
    stored = [counts(api_key) for api_key in api_keys]
    assert stored == [(success, client_error, 0) for success, client_error in expected]
    assert sum(sum(row) for row in stored if row) == WORKERS * REQUESTS_PER_WORKER


def test_a_count_taken_back_to_nothing_leaves_no_entry_in_the_local_store():
    """A failed authentication takes back the success its request was counted as; like Redis's
    HDEL, the local store then forgets the digest, so unknown keys cannot grow it."""
    store = ratelimit._LocalStore()
    with store.lock:
        store.count("20260601", "a" * 64, ratelimit.SUCCESS)
        store.count("20260601", "a" * 64, ratelimit.SUCCESS, -1)
        store.count("20260601", "b" * 64, ratelimit.SUCCESS)
        store.count("20260601", "b" * 64, ratelimit.RATE_LIMITED)
        store.count("20260601", "b" * 64, ratelimit.SUCCESS, -1)
    assert store.take_usage() == {("20260601", "b" * 64): [0, 0, 1]}
