"""Shared actors and helpers for the test suite."""

import io
import os
import shutil
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from allauth.account.internal.flows import login as allauth_login
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys import ratelimit
from benchmarks.common import PrivateRedis
from billing.services import balance_topup
from common import cache as fail_open
from stats.services import usage_record
from tests.factories import APIKeyFactory, PlanFactory, UserFactory, create_proxy

GEO_TEST_COUNTRIES = "US,DE"


def load_test_geo() -> None:
    """The real geo directory, limited to a few countries to keep setup quick."""
    call_command("load_geo", "--countries", GEO_TEST_COUNTRIES, stdout=io.StringIO())


def pytest_collection_modifyitems(config, items):
    """Browser tests need Chromium: locally they skip with a reason; in CI (CI=true) they must run."""
    chromium = shutil.which("chromium") or (
        os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium"
    )
    if chromium or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(
        reason="Browser tests need Debian's chromium at /usr/bin/chromium (apt install chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _flush_keeps_the_geo_directory():
    """Transactional tests (live server, real concurrency) flush the database after each test;
    leave the geo tables out of that flush so the directory loaded once per session survives.

    Nothing references other tables from geo, so truncating the rest stays consistent.
    """
    from django.db.backends.base.introspection import BaseDatabaseIntrospection

    original = BaseDatabaseIntrospection.django_table_names

    def django_table_names(self, only_existing=False, include_views=True):
        tables = original(self, only_existing=only_existing, include_views=include_views)
        return [table for table in tables if not table.startswith("geo_")]

    BaseDatabaseIntrospection.django_table_names = django_table_names
    yield
    BaseDatabaseIntrospection.django_table_names = original


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load a slice of the real geo directory once per test database."""
    with django_db_blocker.unblock():
        load_test_geo()


@pytest.fixture
def geo(db):
    """Geo data is present (a transactional test may have flushed it; then reload it)."""
    from proxies.geo.models import ZipCode

    if not ZipCode.objects.exists():
        load_test_geo()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def make_key(user):
    """make_key(scopes="geo:read stats:read", owner=..., revoked=..., expired=...) -> APIKey with .key."""

    def make(scopes: str = "geo:read", **kwargs):
        kwargs.setdefault("owner", user)
        return APIKeyFactory(scopes=scopes, **kwargs)

    return make


# --- Plans, funds, proxies and usage, through the domain services -------------------------------


@pytest.fixture
def now():
    """The moment `fund`, `make_proxy` and `record` act at unless told: the real clock, read once
    per test.  A module that runs at a fixed moment overrides it (`def now(): return NOW`)."""
    return timezone.now()


@pytest.fixture
def plan(db):
    """The enabled residential plan, "Residential Standard" at $4.00/GB."""
    return PlanFactory(title="Residential Standard", price_per_gb=Decimal("4.00"))


@pytest.fixture
def fund(now):
    """fund(owner, amount="1000.00", *, now=now, **fields) -> owner, after a top-up of `amount`
    through `billing.services.balance_topup` (`fields`: its description or source)."""
    default_now = now

    def fund(owner, amount: str = "1000.00", *, now: datetime | None = None, **fields):
        balance_topup(owner=owner, amount=amount, now=now or default_now, **fields)
        return owner

    return fund


@pytest.fixture
def funded(user, fund):
    """`user` with $1,000.00 to spend: their proxies start `active` and usage does not run out."""
    return fund(user)


@pytest.fixture
def make_proxy(request, now):
    """make_proxy(owner=funded, name="shop_scraper", *, plan=plan, **fields) -> Proxy.

    How tests create proxies: through `proxies.services.proxy_create` (by way of
    `tests.factories.create_proxy`), as the dashboard and the API do, so the status follows the
    balance and the limit (A10).  `fields` are the other raw values (countries, description,
    ip_whitelist, limits) and `now`, which is the `now` fixture unless told.  The funded `user` and
    `plan` are made only when no owner or plan is given.
    """
    default_now = now

    def make(owner=None, name: str = "shop_scraper", *, plan=None, **fields):
        owner = owner or request.getfixturevalue("funded")
        plan = plan or request.getfixturevalue("plan")
        fields.setdefault("now", default_now)
        return create_proxy(
            owner=owner, name=name, proxy_type=plan.proxy_type, tariff_id=plan.pk, **fields
        )

    return make


@pytest.fixture
def record(now):
    """record(proxy, traffic_bytes, requests=1, *, day=<UTC date of now>, now=now) -> UsageDaily.

    Usage booked through `stats.services.usage_record`: it adds to the day's totals and charges
    the account.  Returns the day's totals after the record (`usage_record(...).usage`)."""
    default_now = now

    def record(proxy, traffic_bytes: int, requests: int = 1, *, day: date | None = None, now=None):
        now = now or default_now
        return usage_record(
            proxy=proxy,
            day=day or now.astimezone(UTC).date(),
            traffic_bytes=traffic_bytes,
            requests=requests,
            now=now,
        ).usage

    return record


def sign_in(client, user, *, authenticated_ago: float = 0.0) -> None:
    """Sign `client` in as `user`, as the sign-in form would have `authenticated_ago` seconds ago:
    with allauth's record of that authentication, which re-authentication (AS5) looks at."""
    client.force_login(user)
    session = client.session
    session[allauth_login.AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time() - authenticated_ago, "username": user.username}
    ]
    session[allauth_login._AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


@pytest.fixture
def logged_in_client(client, user):
    sign_in(client, user)
    return client


@pytest.fixture
def staff_client(client):
    """A signed-in superuser with TOTP enrolled, as the admin requires (AS4); `.staff` is them."""
    staff = UserFactory(is_staff=True, is_superuser=True, totp=True)
    sign_in(client, staff)
    client.staff = staff
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: sign-in rate limits and lockouts (AS3), throttles and
    one-time form tokens never leak from one test into the next.  With Redis, only this worker's
    keys go (workers share the server, each under its own key prefix).  A cache outage another
    test caused (a private redis-server stopped) is forgotten too, or this test's limiter and
    usage counts would fail open for the rest of the retry interval."""
    fail_open.health.down_until = 0.0
    _cache_clear()
    ratelimit.local.clear()
    yield


def _cache_clear() -> None:
    redis_cache = getattr(cache, "_cache", None)
    if redis_cache is not None and hasattr(redis_cache, "get_client"):
        client = redis_cache.get_client(write=True)
        keys = list(client.scan_iter(match=cache.make_key("*"), count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def private_redis(settings):
    """The default cache on a redis-server of this test's own (fail-open, as in production)."""
    server = PrivateRedis()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.FailOpenRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    yield server
    server.stop()
