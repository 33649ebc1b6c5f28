"""Shared actors and helpers for the test suite."""

import io
import os
import shutil

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import APIKeyFactory, UserFactory

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


@pytest.fixture
def logged_in_client(client, user):
    client.force_login(user)
    return client
