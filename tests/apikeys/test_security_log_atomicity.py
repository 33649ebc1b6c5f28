"""K27: a key change and its security log entry are written in one transaction.  When the entry
cannot be written, the change is not made either (and the other way round: no entry without it)."""

import pytest

from accounts.models import SecurityEvent
from apikeys import services
from apikeys.models import APIKey
from tests.factories import APIKeyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_fails(monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("the security log is unavailable")

    monkeypatch.setattr(services, "security_event_record", refuse)


def test_no_key_is_created_without_its_entry(user, log_fails):
    with pytest.raises(RuntimeError):
        services.api_key_create(owner=user, name="ci", scopes=["geo:read"])
    assert not APIKey.objects.exists()


def test_no_key_is_revoked_without_its_entry(user, log_fails):
    api_key = APIKeyFactory(owner=user)
    with pytest.raises(RuntimeError):
        services.api_key_revoke(api_key=api_key)
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_no_key_is_rotated_without_its_entries(user, log_fails):
    api_key = APIKeyFactory(owner=user)
    with pytest.raises(RuntimeError):
        services.api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="1h")
    api_key.refresh_from_db()
    assert api_key.rotated_to is None and APIKey.objects.count() == 1


def test_a_reported_key_stays_live_without_its_entry(user, log_fails):
    api_key = APIKeyFactory(owner=user)
    with pytest.raises(RuntimeError):
        services.api_keys_revoke_reported(credentials=[api_key.key], origin=services.SYSTEM)
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_each_change_writes_exactly_its_entries(user):
    created = services.api_key_create(owner=user, name="ci", scopes=["geo:read"])
    services.api_key_revoke(api_key=created.api_key)
    services.api_key_revoke(api_key=created.api_key)  # already revoked: no change, no entry
    events = list(
        SecurityEvent.objects.filter(key_id=created.api_key.pk).values_list("event", flat=True)
    )
    assert sorted(events) == ["key_created", "key_revoked"]
