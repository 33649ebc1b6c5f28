"""api_key_create / api_key_revoke / api_key_touch (K5, K7, K10, K15, K17, K18)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from apikeys import crypto
from apikeys.models import APIKey
from apikeys.services import (
    add_months,
    api_key_create,
    api_key_revoke,
    api_key_revoke_by_value,
    api_key_touch,
    expiry_for,
)
from tests.factories import APIKeyFactory

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def test_create_stores_digest_and_prefix_never_the_key(user, settings):
    created = api_key_create(owner=user, name="  CI deploy  ", scopes=["geo:read"], now=NOW)
    row = APIKey.objects.get(pk=created.api_key.pk)
    assert row.name == "CI deploy"
    assert row.digest == crypto.digest(created.key, settings.API_KEY_SECRET)
    assert row.display_prefix == created.key[:8]
    stored = [str(getattr(row, f.attname)) for f in APIKey._meta.concrete_fields]
    assert all(created.key not in value for value in stored)


def test_default_expiration_is_90_days(user):
    created = api_key_create(owner=user, name="k", scopes=["geo:read"], now=NOW)
    assert created.api_key.expires_at == NOW + timedelta(days=90)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("30d", NOW + timedelta(days=30)),
        ("90d", NOW + timedelta(days=90)),
        ("6m", datetime(2026, 7, 31, 12, 0, tzinfo=UTC)),
        ("1y", datetime(2027, 1, 31, 12, 0, tzinfo=UTC)),
        ("never", None),
    ],
)
def test_expiration_options(option, expected):
    assert expiry_for(option, now=NOW) == expected


def test_calendar_months_clamp_to_month_end():
    assert add_months(datetime(2026, 8, 31, tzinfo=UTC), 6) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2029, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": None}, "name"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["geo:read", "root"]}, "scopes"),
        ({"expiration": "2w"}, "expiration"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_written(user, kwargs, field):
    arguments = {"owner": user, "name": "ok", "scopes": ["geo:read"], "expiration": "90d"} | kwargs
    with pytest.raises(ValidationError) as error:
        api_key_create(**arguments)
    assert field in error.value.message_dict
    assert not APIKey.objects.exists()


def test_name_of_exactly_100_characters_is_accepted(user):
    assert api_key_create(owner=user, name="x" * 100, scopes=["geo:read"]).api_key.name == "x" * 100


def test_limit_of_ten_active_keys(user, settings):
    for index in range(10):
        api_key_create(owner=user, name=f"k{index}", scopes=["geo:read"])
    with pytest.raises(ValidationError, match="maximum"):
        api_key_create(owner=user, name="eleventh", scopes=["geo:read"])
    assert APIKey.objects.filter(owner=user).count() == 10


def test_revoked_and_expired_keys_do_not_count_toward_the_limit(user):
    APIKeyFactory.create_batch(3, owner=user, revoked=True)
    APIKeyFactory.create_batch(3, owner=user, expired=True)
    APIKeyFactory.create_batch(9, owner=user)
    api_key_create(owner=user, name="tenth", scopes=["geo:read"])
    with pytest.raises(ValidationError):
        api_key_create(owner=user, name="eleventh", scopes=["geo:read"])


def test_limit_is_per_account(user, other_user):
    APIKeyFactory.create_batch(10, owner=other_user)
    assert api_key_create(owner=user, name="mine", scopes=["geo:read"]).api_key.owner == user


def test_revoke_is_recorded_once_and_irreversible(user, other_user):
    api_key = APIKeyFactory(owner=user)
    assert api_key_revoke(api_key=api_key, revoked_by=user, now=NOW) is True
    assert api_key_revoke(api_key=api_key, revoked_by=other_user) is False
    row = APIKey.objects.get(pk=api_key.pk)
    assert row.revoked_at == NOW
    assert row.revoked_by == user


def test_revoke_by_value(user):
    api_key = APIKeyFactory(owner=user)
    assert api_key_revoke_by_value(key=api_key.key).pk == api_key.pk
    assert APIKey.objects.get(pk=api_key.pk).revoked_at is not None


@pytest.mark.parametrize("value", ["nope", "2xt_" + "a" * 36])
def test_revoke_by_value_rejects_unknown_or_malformed(value):
    with pytest.raises(APIKey.DoesNotExist):
        api_key_revoke_by_value(key=value)


def test_touch_writes_at_most_once_per_minute(user):
    api_key = APIKeyFactory(owner=user)
    assert api_key_touch(key_id=api_key.pk, ip="203.0.113.5", last_used_at=None, now=NOW)
    # A second worker that read the row before the first write still does not write again.
    assert not api_key_touch(key_id=api_key.pk, ip="203.0.113.6", last_used_at=None, now=NOW)
    later = NOW + timedelta(seconds=59)
    assert not api_key_touch(key_id=api_key.pk, ip="203.0.113.7", last_used_at=NOW, now=later)
    row = APIKey.objects.get(pk=api_key.pk)
    assert (row.last_used_at, row.last_used_ip) == (NOW, "203.0.113.5")
    much_later = NOW + timedelta(seconds=60)
    assert api_key_touch(key_id=api_key.pk, ip="2001:db8::1", last_used_at=NOW, now=much_later)
    row.refresh_from_db()
    assert (row.last_used_at, row.last_used_ip) == (much_later, "2001:db8::1")


def test_queryset_states(user):
    active = APIKeyFactory(owner=user)
    never = APIKeyFactory(owner=user, expires_at=None)
    expired = APIKeyFactory(owner=user, expired=True)
    revoked = APIKeyFactory(owner=user, revoked=True)
    assert set(APIKey.objects.active()) == {active, never}
    assert set(APIKey.objects.expired()) == {expired}
    assert set(APIKey.objects.revoked()) == {revoked}


def test_with_scope_matches_whole_scope_names(user):
    both = APIKeyFactory(owner=user, scopes="proxies:read proxies:write")
    write = APIKeyFactory(owner=user, scopes="proxies:write")
    middle = APIKeyFactory(owner=user, scopes="proxies:read proxies:write geo:read")
    assert set(APIKey.objects.with_scope("proxies:write")) == {both, write, middle}
    assert set(APIKey.objects.with_scope("proxies:read")) == {both, middle}
    assert set(APIKey.objects.with_scope("geo:read")) == {middle}
