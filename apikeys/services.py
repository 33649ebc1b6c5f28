"""Every write to API keys: creation (with the per-account limit), rotation, revocation, leak
reports and expiry reminders.

The dashboard, the management commands, the admin and the Public API all call these functions.
Each change and its security log entry (K27) are written in one transaction; `origin` says who
made the change and from where.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.models import SecurityEvent, SecurityEventType
from accounts.services import SYSTEM, Origin, security_event_record

from . import allowlist, crypto
from .models import APIKey, Expiration
from .scopes import normalize_scopes

NAME_MAX_LENGTH = 100

# K25: how long a rotated key keeps working.  `now` retires it at once.
GRACE_PERIODS = {
    "now": timedelta(0),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
DEFAULT_GRACE = "24h"
GRACE_LABELS = {
    "now": "Now (the old key stops at once)",
    "1h": "1 hour",
    "24h": "24 hours",
    "7d": "7 days",
}


@dataclass(frozen=True)
class CreatedAPIKey:
    """A freshly created key: the stored row and the full key, which exists only in this object."""

    api_key: APIKey
    key: str


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months, clamping the day (Jan 31 + 1 month = Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_for(expiration: str, *, now: datetime) -> datetime | None:
    """The expiry instant for an expiration option (K5): days are exact, months/years calendar."""
    match expiration:
        case Expiration.DAYS_30:
            return now + timedelta(days=30)
        case Expiration.DAYS_90:
            return now + timedelta(days=90)
        case Expiration.MONTHS_6:
            return add_months(now, 6)
        case Expiration.YEAR_1:
            return add_months(now, 12)
        case Expiration.NEVER:
            return None
    choices = ", ".join(Expiration.values)
    raise ValidationError({"expiration": f"Choose one of: {choices}."})


def clean_name(name: object) -> str:
    if not isinstance(name, str):
        raise ValidationError({"name": "Name must be text."})
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name is required."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Name must be at most {NAME_MAX_LENGTH} characters."})
    return name


def clean_allowed_ips(value: object) -> str:
    """K30: the allowlist as typed (text or a list of entries) to its stored form; "" for none.
    Raises ValidationError on `allowed_ips` with one message per bad entry."""
    try:
        return allowlist.stored(allowlist.parse(value))  # type: ignore[arg-type]
    except allowlist.AllowlistError as error:
        raise ValidationError({"allowed_ips": error.messages}) from None


def api_key_limit_reached_message() -> str:
    limit = settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT
    return (
        f"You already have {limit} active API keys, the maximum. "
        "Revoke a key you no longer need before creating another."
    )


@transaction.atomic
def api_key_create(
    *,
    owner,
    name: str,
    scopes: list[str] | tuple[str, ...],
    expiration: str = Expiration.DAYS_90,
    allowed_ips: str | list[str] | None = None,
    now: datetime | None = None,
    origin: Origin = SYSTEM,
) -> CreatedAPIKey:
    """Create a key for `owner` and return it with its full value, shown to the owner exactly once.
    `allowed_ips` restricts where it works from (K30; none: anywhere).

    Raises ValidationError for a bad name, unknown or missing scopes, an unknown expiration, or when
    the owner already has the maximum number of active keys (K7; a key retiring after a rotation
    does not count, K25).
    """
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    try:
        name = clean_name(name)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        scope_names = normalize_scopes(scopes)
    except ValueError as error:
        errors["scopes"] = [str(error)]
    try:
        stored_ips = clean_allowed_ips(allowed_ips)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    expires_at = expiry_for(expiration, now=now)

    _owner_lock(owner.pk)
    if (
        APIKey.objects.filter(owner=owner).counted(now).count()
        >= settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT
    ):
        raise ValidationError(api_key_limit_reached_message(), code="limit_reached")
    created = _key_insert(
        owner_id=owner.pk,
        name=name,
        scopes=" ".join(scope_names),
        expiration=expiration,
        expires_at=expires_at,
        allowed_ips=stored_ips,
        now=now,
    )
    _log(created.api_key, SecurityEventType.KEY_CREATED, origin, now, **_key_details(created))
    return created


def _owner_lock(owner_id: int) -> None:
    # Lock the owner's row so concurrent creates and rotations are counted one after the other
    # (K7).  On SQLite the IMMEDIATE transaction mode serialises writers instead (see settings).
    get_user_model().objects.select_for_update().filter(pk=owner_id).exists()


def _key_insert(
    *,
    owner_id: int,
    name: str,
    scopes: str,
    expiration: str,
    expires_at: datetime | None,
    allowed_ips: str,
    now: datetime,
) -> CreatedAPIKey:
    prefix = settings.API_KEY_PREFIX
    key = crypto.generate_key(prefix)
    api_key = APIKey.objects.create(
        owner_id=owner_id,
        name=name,
        display_prefix=crypto.display_prefix(key, prefix),
        digest=crypto.digest(key, settings.API_KEY_SECRET),
        scopes=scopes,
        expiration=expiration,
        created_at=now,
        expires_at=expires_at,
        allowed_ips=allowed_ips,
    )
    return CreatedAPIKey(api_key=api_key, key=key)


def _key_details(created: CreatedAPIKey) -> dict:
    api_key = created.api_key
    return {
        "name": api_key.name,
        "scopes": api_key.scope_list,
        "expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        "allowed_ips": api_key.allowed_ip_list,
    }


def _log(
    api_key: APIKey, event: SecurityEventType, origin: Origin, now: datetime, **details
) -> None:
    security_event_record(
        account_id=api_key.owner_id,
        event=event,
        origin=origin,
        key_id=api_key.pk,
        key_prefix=api_key.display_prefix,
        details=details,
        now=now,
    )


def clean_grace(grace: object) -> str:
    if grace not in GRACE_PERIODS:
        choices = ", ".join(GRACE_PERIODS)
        raise ValidationError({"grace": f"Choose a grace period: one of {choices}."})
    return str(grace)


@transaction.atomic
def api_key_rotate(
    *,
    owner_id: int,
    key_id: int,
    grace: str = DEFAULT_GRACE,
    now: datetime | None = None,
    origin: Origin = SYSTEM,
) -> CreatedAPIKey:
    """Replace `owner_id`'s key `key_id` with a new key of the same name, scopes, allowlist and
    expiration option (expiry counted afresh from now), and retire the old one when `grace` ends (K25).

    The old key's expiry becomes the end of the grace period (or stays, if it comes sooner), so
    no job is needed to retire it: from then on authentication refuses it as retired.  A rotation
    counts against the key limit as one key.  Raises APIKey.DoesNotExist for a key the owner does
    not have, ValidationError for a bad grace period or a key that is revoked, expired or already
    rotated.
    """
    now = now or timezone.now()
    grace = clean_grace(grace)
    _owner_lock(owner_id)
    old = APIKey.objects.select_for_update().get(pk=key_id, owner_id=owner_id)
    if old.is_revoked:
        raise ValidationError("This key is revoked; create a new key instead.", code="revoked")
    if old.is_retiring:
        raise ValidationError(
            "This key was already rotated; rotate its replacement instead.", code="rotated"
        )
    if old.is_expired(now):
        raise ValidationError("This key has expired; create a new key instead.", code="expired")
    created = _key_insert(
        owner_id=owner_id,
        name=old.name,
        scopes=old.scopes,
        expiration=old.expiration,
        expires_at=expiry_for(old.expiration, now=now),
        allowed_ips=old.allowed_ips,
        now=now,
    )
    retires_at = now + GRACE_PERIODS[grace]
    if old.expires_at is None or retires_at < old.expires_at:
        old.expires_at = retires_at
    old.rotated_to = created.api_key
    old.save(update_fields=["expires_at", "rotated_to"])
    _log(
        old,
        SecurityEventType.KEY_ROTATED,
        origin,
        now,
        grace=grace,
        retires_at=old.expires_at.isoformat(),
        replacement=created.api_key.display_prefix,
    )
    if old.expires_at <= now:
        _log(
            old,
            SecurityEventType.KEY_RETIRED,
            origin,
            now,
            replacement=created.api_key.display_prefix,
        )
    _log(
        created.api_key,
        SecurityEventType.KEY_CREATED,
        origin,
        now,
        rotated_from=old.display_prefix,
        **_key_details(created),
    )
    return created


# How far back the minute job looks for retirements it has not logged yet: it normally finds them
# within a minute; this covers a job that did not run for a while (no cron, no API traffic).
RETIREMENT_LOG_DAYS = 90


def api_key_retirements_log(*, now: datetime | None = None) -> int:
    """K25, K27: the security log's "retired" entry for each rotated key whose grace period has
    ended, dated at the moment it retired, by the system; returns how many keys it found to log.
    Run every minute with the usage flush (`apikeys.usage`, `flush_key_usage`).

    A rotation with `--grace now` logs its retirement itself; a key revoked before its grace ended
    was revoked, not retired, and gets no entry.  A partial unique constraint
    (`security_key_retired_once`) keeps overlapping runs from writing an entry twice."""
    now = now or timezone.now()
    logged = SecurityEvent.objects.filter(
        key_id=OuterRef("pk"), event=SecurityEventType.KEY_RETIRED
    )
    retired = (
        APIKey.objects.filter(
            rotated_to__isnull=False,
            expires_at__lte=now,
            expires_at__gt=now - timedelta(days=RETIREMENT_LOG_DAYS),
        )
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=F("expires_at")))
        .filter(~Exists(logged))
        .values_list("pk", "owner_id", "display_prefix", "expires_at", "rotated_to__display_prefix")
    )
    entries = [
        SecurityEvent(
            account_id=owner_id,
            created_at=cast(datetime, expires_at),  # filtered on: never NULL here
            event=SecurityEventType.KEY_RETIRED,
            actor=SYSTEM.actor,
            key_id=key_id,
            key_prefix=prefix,
            details={"replacement": replacement} if replacement else {},
        )
        for key_id, owner_id, prefix, expires_at, replacement in retired
    ]
    return len(SecurityEvent.objects.bulk_create(entries, ignore_conflicts=True))


@transaction.atomic
def api_key_update(
    *,
    owner_id: int,
    key_id: int,
    name: str | None = None,
    allowed_ips: str | list[str] | None = None,
    now: datetime | None = None,
    origin: Origin = SYSTEM,
) -> APIKey:
    """Rename `owner_id`'s working key `key_id` and/or replace its allowlist (K32; scopes never
    change: rotate into a new key instead).  A changed allowlist is logged (K27) and applies to
    the very next request.  Raises APIKey.DoesNotExist for a key the owner does not have (or one
    revoked), ValidationError for a bad name or allowlist."""
    now = now or timezone.now()
    api_key = APIKey.objects.select_for_update().get(
        pk=key_id, owner_id=owner_id, revoked_at__isnull=True
    )
    errors: dict[str, list[str]] = {}
    new_name, new_ips = api_key.name, api_key.allowed_ips
    if name is not None:
        try:
            new_name = clean_name(name)
        except ValidationError as error:
            errors.update(error.message_dict)
    if allowed_ips is not None:
        try:
            new_ips = clean_allowed_ips(allowed_ips)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    old_ips = api_key.allowed_ip_list
    changed = []
    if new_name != api_key.name:
        changed.append("name")
    if new_ips != api_key.allowed_ips:
        changed.append("allowed_ips")
    if not changed:
        return api_key
    api_key.name, api_key.allowed_ips = new_name, new_ips
    api_key.save(update_fields=changed)
    if "allowed_ips" in changed:
        _log(
            api_key,
            SecurityEventType.KEY_ALLOWLIST_CHANGED,
            origin,
            now,
            old=" ".join(old_ips) or "anywhere",
            new=" ".join(api_key.allowed_ip_list) or "anywhere",
        )
    return api_key


@transaction.atomic
def api_key_revoke(
    *, api_key: APIKey, revoked_by=None, now: datetime | None = None, origin: Origin = SYSTEM
) -> bool:
    """Revoke `api_key` for good (K17).  Returns False if it was already revoked (nothing changes,
    nothing is logged).

    A single conditional UPDATE: concurrent revocations record (and log) the first revoker only.
    """
    now = now or timezone.now()
    updated = APIKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=revoked_by
    )
    if updated:
        api_key.revoked_at, api_key.revoked_by = now, revoked_by
        _log(api_key, SecurityEventType.KEY_REVOKED, origin, now, name=api_key.name)
    return bool(updated)


def api_key_revoke_by_value(
    *, key: str, revoked_by=None, now: datetime | None = None, origin: Origin = SYSTEM
) -> APIKey:
    """Revoke the key whose full value is `key`.  Raises APIKey.DoesNotExist if there is none."""
    prefix = settings.API_KEY_PREFIX
    if not crypto.is_well_formed(key, prefix):
        raise APIKey.DoesNotExist("That is not a well-formed API key.")
    api_key = APIKey.objects.get(digest=crypto.digest(key, settings.API_KEY_SECRET))
    api_key_revoke(api_key=api_key, revoked_by=revoked_by, now=now, origin=origin)
    return api_key


def api_key_find_by_value(*, key: str) -> APIKey:
    """The key whose full value is `key` (an operator's command names a key this way).  Raises
    APIKey.DoesNotExist for a malformed or unknown key."""
    prefix = settings.API_KEY_PREFIX
    if not crypto.is_well_formed(key, prefix):
        raise APIKey.DoesNotExist("That is not a well-formed API key.")
    return APIKey.objects.get(digest=crypto.digest(key, settings.API_KEY_SECRET))


@transaction.atomic
def api_keys_revoke_reported(
    *, credentials: list[str], origin: Origin, now: datetime | None = None
) -> list[APIKey]:
    """K28: revoke every live key among `credentials` (a leak report) and return them.

    The same work whatever the credentials are: each one is digested (well-formed or not), then
    one SELECT and one conditional UPDATE cover the whole report.  Only the log entries (one per
    live key) depend on how many were live; the owners' e-mails are the caller's to send after the
    answer has gone (see the endpoint).
    """
    now = now or timezone.now()
    secret = settings.API_KEY_SECRET
    digests = {crypto.digest(credential, secret) for credential in credentials}
    live = list(
        APIKey.objects.select_for_update()
        .filter(digest__in=digests)
        .active(now)
        .select_related("owner")
    )
    APIKey.objects.filter(pk__in=[api_key.pk for api_key in live], revoked_at__isnull=True).update(
        revoked_at=now
    )
    for api_key in live:
        api_key.revoked_at = now
        _log(
            api_key, SecurityEventType.KEY_REVOKED, origin, now, name=api_key.name, reason="leaked"
        )
    return live


def api_key_touch(
    *, key_id: int, ip: str | None, last_used_at: datetime | None, now: datetime
) -> bool:
    """Record a use of the key, at most once per API_KEY_LAST_USED_INTERVAL (K15).

    The condition lives in the UPDATE itself, so a burst spread over many workers still writes once.
    """
    cutoff = now - timedelta(seconds=settings.API_KEY_LAST_USED_INTERVAL)
    if last_used_at is not None and last_used_at > cutoff:
        return False
    queryset = APIKey.objects.filter(pk=key_id)
    if last_used_at is None:
        queryset = queryset.filter(last_used_at__isnull=True)
    else:
        queryset = queryset.filter(last_used_at__lte=cutoff)
    return bool(queryset.update(last_used_at=now, last_used_ip=ip))


def api_key_expiry_reminder_claim(*, api_key: APIKey, now: datetime) -> bool:
    """Mark `api_key`'s expiry reminder as sent (K26), unless a run already did: one conditional
    UPDATE, so overlapping runs of the reminder command send each reminder once."""
    return bool(
        APIKey.objects.filter(pk=api_key.pk, expiry_reminder_sent_at__isnull=True).update(
            expiry_reminder_sent_at=now
        )
    )


def api_key_expiry_reminder_release(*, api_key: APIKey, claimed_at: datetime) -> None:
    """Undo a claim whose mail could not be sent, so the next run tries again."""
    APIKey.objects.filter(pk=api_key.pk, expiry_reminder_sent_at=claimed_at).update(
        expiry_reminder_sent_at=None
    )
