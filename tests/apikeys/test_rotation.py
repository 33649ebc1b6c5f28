"""Key rotation with a grace period (K25): the service, the dashboard page and rotate_api_key."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityActor, SecurityEvent
from apikeys import crypto, usage
from apikeys.models import APIKey, Expiration
from apikeys.services import (
    GRACE_PERIODS,
    RETIREMENT_LOG_DAYS,
    api_key_create,
    api_key_retirements_log,
    api_key_revoke,
    api_key_rotate,
)
from tests.conftest import sign_in
from tests.envelope import assert_error, assert_ok
from tests.factories import APIKeyFactory

pytestmark = pytest.mark.django_db

BALANCE = "/v1/user/balance"
LIST = reverse("apikeys:list")


def rotate_url(api_key) -> str:
    return reverse("apikeys:rotate", args=[api_key.pk])


def balance(api_client, key: str):
    return api_client.get(BALANCE, HTTP_X_API_KEY=key)


def stored(key: str) -> APIKey:
    return APIKey.objects.get(digest=crypto.digest(key, settings.API_KEY_SECRET))


def events(api_key_or_user) -> list[str]:
    """The event types of a key's (or an account's) log, oldest first."""
    if isinstance(api_key_or_user, APIKey):
        rows = SecurityEvent.objects.filter(key_id=api_key_or_user.pk)
    else:
        rows = SecurityEvent.objects.filter(account=api_key_or_user)
    return list(rows.order_by("created_at", "id").values_list("event", flat=True))


# --- The service ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expiration", "expected"),
    [
        (Expiration.DAYS_30, datetime(2026, 4, 30, 12, tzinfo=UTC)),
        (Expiration.DAYS_90, datetime(2026, 6, 29, 12, tzinfo=UTC)),
        (Expiration.MONTHS_6, datetime(2026, 9, 30, 12, tzinfo=UTC)),
        (Expiration.YEAR_1, datetime(2027, 3, 31, 12, tzinfo=UTC)),
        (Expiration.NEVER, None),
    ],
)
def test_replacement_keeps_name_scopes_and_option_with_expiry_counted_from_now(
    user, expiration, expected
):
    created_at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    old = APIKeyFactory(
        owner=user,
        name="Nightly export",
        scopes="balance:read stats:read",
        expiration=expiration,
        created_at=created_at,
        expires_at=None if expiration == Expiration.NEVER else now + timedelta(days=400),
    )

    created = api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="24h", now=now)

    new = created.api_key
    assert new.pk != old.pk
    assert (new.owner_id, new.name, new.scopes, new.expiration) == (
        user.pk,
        "Nightly export",
        "balance:read stats:read",
        expiration,
    )
    assert new.created_at == now
    assert new.expires_at == expected
    assert stored(created.key) == new
    assert created.key != old.key and new.display_prefix != old.display_prefix
    old.refresh_from_db()
    assert old.rotated_to == new
    assert old.revoked_at is None
    assert old.expires_at == now + timedelta(hours=24)


@pytest.mark.parametrize("grace", list(GRACE_PERIODS))
def test_old_key_expires_when_the_grace_period_ends(user, grace):
    now = datetime(2026, 3, 1, tzinfo=UTC)
    old = APIKeyFactory(owner=user, created_at=now, expires_at=None, expiration=Expiration.NEVER)
    api_key_rotate(owner_id=user.pk, key_id=old.pk, grace=grace, now=now)
    old.refresh_from_db()
    assert old.expires_at == now + GRACE_PERIODS[grace]


def test_old_key_keeps_an_earlier_expiry_than_the_grace_period(user):
    now = datetime(2026, 3, 1, tzinfo=UTC)
    soon = now + timedelta(hours=3)
    old = APIKeyFactory(owner=user, created_at=now - timedelta(days=29), expires_at=soon)
    api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="7d", now=now)
    old.refresh_from_db()
    assert old.expires_at == soon
    assert old.rotated_to is not None


def test_grace_now_refuses_the_old_key_at_once_as_invalid(user, api_client):
    old = APIKeyFactory(owner=user, scopes="balance:read")
    assert_ok(balance(api_client, old.key))

    created = api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="now")

    body = assert_error(balance(api_client, old.key), 401, "invalid_api_key")
    assert "expired" not in body["error"].lower()
    assert_ok(balance(api_client, created.key))


def test_during_the_grace_period_both_keys_work(user, api_client):
    old = APIKeyFactory(owner=user, scopes="balance:read")
    created = api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="1h")
    assert_ok(balance(api_client, old.key))
    assert_ok(balance(api_client, created.key))


def test_after_the_grace_period_the_old_key_is_retired_not_expired(user, api_client):
    old = APIKeyFactory(
        owner=user, scopes="balance:read", created_at=timezone.now() - timedelta(days=3)
    )
    # Rotated two hours ago with one hour of grace: the grace period is over.
    created = api_key_rotate(
        owner_id=user.pk, key_id=old.pk, grace="1h", now=timezone.now() - timedelta(hours=2)
    )
    body = assert_error(balance(api_client, old.key), 401, "invalid_api_key")
    assert "rotated" in body["error"]
    assert_ok(balance(api_client, created.key))


def test_a_plainly_expired_key_still_reports_api_key_expired(user, api_client):
    """The contrast to the retired key above: only a rotation turns expiry into invalid_api_key."""
    expired = APIKeyFactory(owner=user, scopes="balance:read", expired=True)
    assert_error(balance(api_client, expired.key), 401, "api_key_expired")


def test_rotating_at_the_key_limit_works_and_counts_as_one_key(user):
    keys = APIKeyFactory.create_batch(settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT, owner=user)

    created = api_key_rotate(owner_id=user.pk, key_id=keys[0].pk, grace="7d")

    assert APIKey.objects.filter(owner=user).active().count() == 11  # both work for now
    assert APIKey.objects.filter(owner=user).counted().count() == 10
    with pytest.raises(ValidationError) as error:
        api_key_create(owner=user, name="one more", scopes=["geo:read"])
    assert error.value.code == "limit_reached"
    # The retiring key counts as nothing: one revoked key frees exactly one place.
    api_key_revoke(api_key=keys[1])
    api_key_create(owner=user, name="one more", scopes=["geo:read"])
    with pytest.raises(ValidationError):
        api_key_create(owner=user, name="and another", scopes=["geo:read"])
    # Revoking the new key frees its place, the retiring key still taking none.
    api_key_revoke(api_key=created.api_key)
    api_key_create(owner=user, name="and another", scopes=["geo:read"])


@pytest.mark.parametrize(
    ("state", "message"),
    [("revoked", "revoked"), ("expired", "expired"), ("rotated", "already rotated")],
)
def test_only_a_working_unrotated_key_can_be_rotated(user, state, message):
    if state == "rotated":
        api_key = APIKeyFactory(owner=user)
        api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="7d")
    else:
        api_key = APIKeyFactory(owner=user, **{state: True})
    before = APIKey.objects.count()
    logged = SecurityEvent.objects.count()

    with pytest.raises(ValidationError, match=message):
        api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="1h")

    assert APIKey.objects.count() == before
    assert SecurityEvent.objects.count() == logged


def test_a_key_retired_after_its_grace_cannot_be_rotated_again(user):
    api_key = APIKeyFactory(owner=user)
    api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="now")
    with pytest.raises(ValidationError):
        api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="1h")


def test_another_accounts_key_does_not_exist_for_the_caller(user, other_user):
    theirs = APIKeyFactory(owner=other_user)
    with pytest.raises(APIKey.DoesNotExist):
        api_key_rotate(owner_id=user.pk, key_id=theirs.pk, grace="1h")
    theirs.refresh_from_db()
    assert theirs.rotated_to is None
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize("grace", ["2h", "", None, "NOW", "24", 1, "7d "])
def test_an_unknown_grace_period_is_refused(user, grace):
    api_key = APIKeyFactory(owner=user)
    with pytest.raises(ValidationError) as error:
        api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace=grace)
    assert "grace" in error.value.message_dict
    api_key.refresh_from_db()
    assert api_key.rotated_to is None
    assert APIKey.objects.count() == 1


def test_rotation_is_logged_on_both_keys(user):
    now = datetime(2026, 3, 1, 8, tzinfo=UTC)
    old = APIKeyFactory(owner=user, created_at=now - timedelta(days=1))
    created = api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="24h", now=now)

    assert events(old) == ["key_rotated"]
    rotated = SecurityEvent.objects.get(key_id=old.pk)
    assert rotated.account == user
    assert rotated.key_prefix == old.display_prefix
    assert rotated.created_at == now
    assert rotated.actor == SecurityActor.SYSTEM
    assert rotated.details["grace"] == "24h"
    assert rotated.details["replacement"] == created.api_key.display_prefix
    assert rotated.details["retires_at"] == (now + timedelta(hours=24)).isoformat()

    assert events(created.api_key) == ["key_created"]
    new_entry = SecurityEvent.objects.get(key_id=created.api_key.pk)
    assert new_entry.key_prefix == created.api_key.display_prefix
    assert new_entry.details["rotated_from"] == old.display_prefix
    assert new_entry.details["name"] == old.name
    # The full keys are in no entry.
    for entry in SecurityEvent.objects.all():
        assert old.key not in str(entry.details) and created.key not in str(entry.details)


def test_rotation_with_grace_now_also_logs_the_retirement(user):
    old = APIKeyFactory(owner=user)
    created = api_key_rotate(owner_id=user.pk, key_id=old.pk, grace="now")
    assert events(old) == ["key_rotated", "key_retired"]
    assert events(created.api_key) == ["key_created"]
    retired = SecurityEvent.objects.get(key_id=old.pk, event="key_retired")
    assert retired.details["replacement"] == created.api_key.display_prefix


# --- The retirement's log entry (K27) ----------------------------------------------------------


def rotated(user, *, hours_ago: float, grace: str = "1h") -> tuple[APIKey, APIKey]:
    """A key of `user` rotated `hours_ago` with `grace`: (old, replacement), old refreshed."""
    old = APIKeyFactory(owner=user, created_at=timezone.now() - timedelta(days=3))
    created = api_key_rotate(
        owner_id=user.pk,
        key_id=old.pk,
        grace=grace,
        now=timezone.now() - timedelta(hours=hours_ago),
    )
    old.refresh_from_db()
    return old, created.api_key


def test_a_later_retirement_is_logged_once_dated_when_the_grace_ended(user):
    old, replacement = rotated(user, hours_ago=0.5)

    assert api_key_retirements_log() == 0  # half an hour into its hour of grace
    assert events(old) == ["key_rotated"]

    retired_at = old.expires_at
    later = retired_at + timedelta(minutes=1)
    assert api_key_retirements_log(now=later) == 1
    entry = SecurityEvent.objects.get(key_id=old.pk, event="key_retired")
    assert (entry.account_id, entry.created_at, entry.actor) == (user.pk, retired_at, "system")
    assert entry.key_prefix == old.display_prefix
    assert entry.details == {"replacement": replacement.display_prefix}
    assert events(old) == ["key_rotated", "key_retired"]

    assert api_key_retirements_log(now=later + timedelta(minutes=1)) == 0  # not again
    assert events(old) == ["key_rotated", "key_retired"]


def test_keys_that_did_not_retire_by_rotation_get_no_retirement_entry(user, other_user):
    revoked_in_grace, _ = rotated(user, hours_ago=2, grace="24h")
    api_key_revoke(api_key=revoked_in_grace)
    retired_now, _ = rotated(user, hours_ago=2, grace="now")  # logged by the rotation itself
    APIKeyFactory(owner=other_user, expired=True)  # expired, never rotated
    still_in_grace, _ = rotated(user, hours_ago=2, grace="7d")

    assert api_key_retirements_log(now=timezone.now() + timedelta(hours=30)) == 0

    assert events(revoked_in_grace) == ["key_rotated", "key_revoked"]
    assert events(retired_now) == ["key_rotated", "key_retired"]
    assert events(still_in_grace) == ["key_rotated"]


def test_a_key_revoked_after_it_retired_still_gets_its_entry(user):
    old, _ = rotated(user, hours_ago=2)
    api_key_revoke(api_key=old)  # staff sweeping up retired keys, say

    assert api_key_retirements_log() == 1
    assert SecurityEvent.objects.get(key_id=old.pk, event="key_retired").created_at == (
        old.expires_at
    )


def test_retirements_older_than_the_window_are_left_alone(user):
    old, _ = rotated(user, hours_ago=24 * RETIREMENT_LOG_DAYS + 2)
    assert api_key_retirements_log() == 0
    assert events(old) == ["key_rotated"]


def test_overlapping_runs_write_the_entry_once(user, monkeypatch):
    """Two runs that both found the key unlogged: the database's partial unique constraint lets
    the second insert add nothing, without an error."""
    old, _ = rotated(user, hours_ago=2)
    bulk_create = SecurityEvent.objects.bulk_create

    def other_run_first(entries, **kwargs):
        SecurityEvent.objects.create(
            account=user,
            created_at=old.expires_at,
            event="key_retired",
            actor="system",
            key_id=old.pk,
            key_prefix=old.display_prefix,
        )
        return bulk_create(entries, **kwargs)

    monkeypatch.setattr(SecurityEvent.objects, "bulk_create", other_run_first)
    api_key_retirements_log()

    assert events(old) == ["key_rotated", "key_retired"]


def test_the_database_refuses_a_second_retirement_entry_for_a_key(user):
    old, _ = rotated(user, hours_ago=0, grace="now")
    with pytest.raises(IntegrityError), transaction.atomic():
        SecurityEvent.objects.create(
            account=user,
            created_at=timezone.now(),
            event="key_retired",
            actor="system",
            key_id=old.pk,
        )


def test_the_minute_job_logs_retirements(user, settings):
    old, _ = rotated(user, hours_ago=2)

    out = io.StringIO()
    call_command("flush_key_usage", stdout=out)
    assert "1 key retirement(s) logged" in out.getvalue()

    other, _ = rotated(user, hours_ago=3)
    settings.API_KEY_USAGE_FLUSH_SECONDS = 60
    usage._schedule.next_due = 0.0
    assert usage.usage_flush_when_due() is True
    assert events(old) == events(other) == ["key_rotated", "key_retired"]


def test_a_failing_retirement_log_does_not_undo_the_usage_flush(user, settings, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(usage, "api_key_retirements_log", broken)
    settings.API_KEY_USAGE_FLUSH_SECONDS = 60
    usage._schedule.next_due = 0.0
    assert usage.usage_flush_when_due() is True


# --- The dashboard -------------------------------------------------------------------------------


def test_rotate_page_asks_for_the_grace_period(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="billing sync")
    response = logged_in_client.get(rotate_url(api_key))
    assert response.status_code == 200
    html = response.content.decode()
    assert "billing sync" in html and f"{api_key.display_prefix}..." in html
    for value in GRACE_PERIODS:
        assert f'name="grace" value="{value}"' in html
    assert 'value="24h" checked' in html  # the default
    assert "csrfmiddlewaretoken" in html
    # Looking changes nothing.
    assert APIKey.objects.count() == 1
    api_key.refresh_from_db()
    assert api_key.rotated_to is None


def test_rotate_shows_the_new_key_once_and_the_old_one_as_retiring(
    logged_in_client, user, mailoutbox
):
    api_key = APIKeyFactory(owner=user, name="billing sync", scopes="balance:read")

    response = logged_in_client.post(rotate_url(api_key), {"grace": "1h"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["created_key"]
    html = response.content.decode()
    assert key in html
    new = stored(key)
    assert new.name == "billing sync" and new.scopes == "balance:read"
    api_key.refresh_from_db()
    assert api_key.rotated_to == new
    assert 'data-testid="retiring"' in html and "Retiring at" in html
    assert "keeps working until" in html
    # Both rows are listed; the replacement's full key only in this one answer.
    assert {k.pk for k in response.context["keys"]} == {api_key.pk, new.pk}
    again = logged_in_client.get(LIST).content.decode()
    assert key not in again and "Retiring at" in again
    # Logged as the owner's doing, with the address.
    entry = SecurityEvent.objects.get(key_id=api_key.pk, event="key_rotated")
    assert entry.actor == SecurityActor.OWNER and entry.actor_user == user
    assert entry.ip == "127.0.0.1"
    # The owner is told a key was made (K29), never with the key in it.
    assert len(mailoutbox) == 1
    assert new.display_prefix in mailoutbox[0].body and key not in mailoutbox[0].body


def test_rotate_with_grace_now_says_the_old_key_stopped(logged_in_client, user, api_client):
    api_key = APIKeyFactory(owner=user, scopes="balance:read")
    response = logged_in_client.post(rotate_url(api_key), {"grace": "now"})
    assert response.status_code == 200
    assert "has stopped working" in response.content.decode()
    # A retired key leaves the table like a revoked one.
    assert [k.pk for k in response.context["keys"]] == [stored(response.context["created_key"]).pk]
    assert_error(balance(api_client, api_key.key), 401, "invalid_api_key")


def test_another_accounts_key_is_404_on_the_rotate_page(logged_in_client, user, other_user):
    assert logged_in_client.get(rotate_url(APIKeyFactory(owner=user))).status_code == 200
    theirs = APIKeyFactory(owner=other_user)
    assert logged_in_client.get(rotate_url(theirs)).status_code == 404
    assert logged_in_client.post(rotate_url(theirs), {"grace": "1h"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.rotated_to is None
    assert APIKey.objects.filter(owner=user).count() == 1
    assert not SecurityEvent.objects.filter(account=other_user).exists()


def test_a_revoked_key_is_404_on_the_rotate_page(logged_in_client, user):
    gone = APIKeyFactory(owner=user, revoked=True)
    assert logged_in_client.get(rotate_url(gone)).status_code == 404
    assert logged_in_client.post(rotate_url(gone), {"grace": "1h"}).status_code == 404
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize("data", [{"grace": "2h"}, {"grace": ""}, {}, {"grace": "x" * 5000}])
def test_an_invalid_grace_is_400_and_changes_nothing(logged_in_client, user, data, mailoutbox):
    api_key = APIKeyFactory(owner=user)
    response = logged_in_client.post(rotate_url(api_key), data)
    assert response.status_code == 400
    assert "created_key" not in response.context
    html = response.content.decode()
    assert "Choose a grace period from the list" in html or "required" in html
    assert APIKey.objects.count() == 1
    api_key.refresh_from_db()
    assert api_key.rotated_to is None
    assert not SecurityEvent.objects.filter(event__startswith="key_").exists()
    assert not mailoutbox


def test_rotating_an_expired_key_redirects_with_the_reason(logged_in_client, user):
    expired = APIKeyFactory(owner=user, expired=True)
    response = logged_in_client.post(rotate_url(expired), {"grace": "1h"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "has expired" in response.content.decode()
    assert APIKey.objects.count() == 1


def test_the_rotate_form_requires_csrf(user):
    csrf_client = Client(enforce_csrf_checks=True)
    sign_in(csrf_client, user)
    api_key = APIKeyFactory(owner=user)
    response = csrf_client.post(rotate_url(api_key), {"grace": "1h"})
    assert response.status_code == 403
    assert APIKey.objects.count() == 1
    api_key.refresh_from_db()
    assert api_key.rotated_to is None


def test_rotate_needs_a_signed_in_user(client, user):
    api_key = APIKeyFactory(owner=user)
    response = client.post(rotate_url(api_key), {"grace": "1h"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert APIKey.objects.count() == 1


def test_rotate_after_a_stale_sign_in_asks_for_the_password_first(client, user):
    sign_in(client, user, authenticated_ago=16 * 60)
    api_key = APIKeyFactory(owner=user)
    response = client.post(rotate_url(api_key), {"grace": "1h"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert APIKey.objects.count() == 1


def test_the_list_offers_rotate_only_for_working_unrotated_keys(logged_in_client, user):
    live = APIKeyFactory(owner=user, name="live")
    expired = APIKeyFactory(owner=user, name="expired", expired=True)
    retiring = APIKeyFactory(owner=user, name="retiring")
    api_key_rotate(owner_id=user.pk, key_id=retiring.pk, grace="7d")
    html = logged_in_client.get(LIST).content.decode()
    assert f'href="{rotate_url(live)}"' in html
    assert f'href="{rotate_url(expired)}"' not in html
    assert f'href="{rotate_url(retiring)}"' not in html


# --- rotate_api_key ------------------------------------------------------------------------------


def rotate_command(*args) -> str:
    out = io.StringIO()
    call_command("rotate_api_key", *args, stdout=out)
    return out.getvalue()


def test_command_prints_the_replacement_as_the_last_line(user, api_client):
    old = APIKeyFactory(owner=user, name="CI", scopes="balance:read")

    output = rotate_command(old.key, "--grace", "1h")

    key = output.strip().splitlines()[-1]
    assert crypto.is_well_formed(key, settings.API_KEY_PREFIX)
    new = stored(key)
    assert (new.owner, new.name, new.scopes) == (user, "CI", "balance:read")
    old.refresh_from_db()
    assert old.rotated_to == new
    assert abs(old.expires_at - (timezone.now() + timedelta(hours=1))) < timedelta(minutes=1)
    assert old.key not in output
    assert old.display_prefix in output
    assert_ok(balance(api_client, key))
    assert_ok(balance(api_client, old.key))  # within its hour of grace


def test_command_emails_the_owner_about_the_replacement(user):
    # K29: the replacement is a new key on the account; the mail names the key it replaces.
    old = APIKeyFactory(owner=user, name="CI", scopes="balance:read")

    key = rotate_command(old.key, "--grace", "1h").strip().splitlines()[-1]

    old.refresh_from_db()
    [message] = mail.outbox
    assert message.to == [user.email]
    for body in (message.body, message.alternatives[0][0]):
        assert stored(key).display_prefix in body
        assert f"{old.display_prefix}..." in body
        assert f"until {old.expires_at:%Y-%m-%d %H:%M} UTC" in body
        assert key.removeprefix(settings.API_KEY_PREFIX) not in body
        assert old.key.removeprefix(settings.API_KEY_PREFIX) not in body


def test_command_defaults_to_24_hours_of_grace(user):
    old = APIKeyFactory(owner=user)
    rotate_command(old.key)
    old.refresh_from_db()
    assert abs(old.expires_at - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)


def test_command_with_grace_now_retires_the_old_key(user, api_client):
    old = APIKeyFactory(owner=user, scopes="balance:read")
    key = rotate_command(old.key, "--grace", "now").strip().splitlines()[-1]
    assert_error(balance(api_client, old.key), 401, "invalid_api_key")
    assert_ok(balance(api_client, key))
    assert events(old) == ["key_rotated", "key_retired"]
    assert SecurityEvent.objects.get(key_id=old.pk, event="key_rotated").actor == "system"


def test_command_reads_the_key_from_stdin(user, monkeypatch):
    old = APIKeyFactory(owner=user)
    monkeypatch.setattr("sys.stdin", io.StringIO(old.key + "\n"))
    output = rotate_command("-", "--grace", "7d")
    new = stored(output.strip().splitlines()[-1])
    old.refresh_from_db()
    assert old.rotated_to == new
    assert old.key not in output


@pytest.mark.parametrize(
    "value", ["garbage", "2xt_" + "a" * 36, "", "2xt_" + "A" * 5000, "-"], ids=repr
)
def test_command_refuses_unknown_or_malformed_keys(user, value, monkeypatch):
    APIKeyFactory(owner=user)
    if value == "-":
        monkeypatch.setattr("sys.stdin", io.StringIO("not a key\n"))
    with pytest.raises(CommandError, match="No such API key"):
        rotate_command(value, "--grace", "1h")
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize("grace", ["2h", "", "forever", "NOW"])
def test_command_refuses_an_unknown_grace(user, grace):
    old = APIKeyFactory(owner=user)
    with pytest.raises(CommandError, match="--grace must be one of now, 1h, 24h, 7d"):
        rotate_command(old.key, "--grace", grace)
    old.refresh_from_db()
    assert old.rotated_to is None
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize(
    ("state", "message"),
    [("revoked", "revoked"), ("expired", "expired"), ("rotated", "already rotated")],
)
def test_command_refuses_a_key_that_cannot_be_rotated(user, state, message):
    if state == "rotated":
        api_key = APIKeyFactory(owner=user)
        rotate_command(api_key.key, "--grace", "7d")
    else:
        api_key = APIKeyFactory(owner=user, **{state: True})
    before = APIKey.objects.count()
    with pytest.raises(CommandError, match=message) as error:
        rotate_command(api_key.key)
    assert "\n" not in str(error.value)
    assert APIKey.objects.count() == before


def test_rotating_at_the_limit_on_the_dashboard_keeps_the_count_at_the_limit(
    logged_in_client, user
):
    keys = APIKeyFactory.create_batch(settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT, owner=user)
    response = logged_in_client.post(rotate_url(keys[0]), {"grace": "24h"})
    assert response.status_code == 200
    assert response.context["created_key"]
    assert response.context["active_count"] == settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT
    assert response.context["limit_reached"]
    assert len(response.context["keys"]) == settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT + 1


def test_a_retiring_key_cannot_be_rotated_from_the_dashboard(logged_in_client, user):
    api_key = APIKeyFactory(owner=user)
    api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="7d")
    before = APIKey.objects.count()
    response = logged_in_client.post(rotate_url(api_key), {"grace": "1h"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "already rotated" in response.content.decode()
    assert APIKey.objects.count() == before


def test_the_admin_shows_rotated_keys_as_retiring_then_retired(staff_client, user):
    retiring = APIKeyFactory(owner=user, name="retiring-key")
    api_key_rotate(owner_id=user.pk, key_id=retiring.pk, grace="7d")
    retired = APIKeyFactory(owner=user, name="retired-key")
    api_key_rotate(owner_id=user.pk, key_id=retired.pk, grace="now")
    response = staff_client.get(reverse("admin:apikeys_apikey_changelist"))
    model_admin = response.context["cl"].model_admin
    states = {k.name: model_admin.state(k) for k in response.context["cl"].result_list}
    assert states["retiring-key"] == "retiring"
    assert states["retired-key"] == "retired"
