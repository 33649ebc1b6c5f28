"""Every write to API keys: creation (with the per-account limit) and revocation.

The dashboard, the management commands and the admin all call these functions.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import crypto
from .models import APIKey, Expiration
from .scopes import normalize_scopes

NAME_MAX_LENGTH = 100


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
    now: datetime | None = None,
) -> CreatedAPIKey:
    """Create a key for `owner` and return it with its full value, shown to the owner exactly once.

    Raises ValidationError for a bad name, unknown or missing scopes, an unknown expiration, or when
    the owner already has the maximum number of active keys (K7).
    """
    now = now or timezone.now()
    name = clean_name(name)
    try:
        scope_names = normalize_scopes(scopes)
    except ValueError as error:
        raise ValidationError({"scopes": str(error)}) from None
    expires_at = expiry_for(expiration, now=now)

    # Lock the owner's row so concurrent creates are counted one after the other (K7).  On SQLite
    # the IMMEDIATE transaction mode serialises writers instead (see settings).
    get_user_model().objects.select_for_update().filter(pk=owner.pk).exists()
    if (
        APIKey.objects.filter(owner=owner).active(now).count()
        >= settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT
    ):
        raise ValidationError(api_key_limit_reached_message(), code="limit_reached")

    prefix = settings.API_KEY_PREFIX
    key = crypto.generate_key(prefix)
    api_key = APIKey.objects.create(
        owner=owner,
        name=name,
        display_prefix=crypto.display_prefix(key, prefix),
        digest=crypto.digest(key, settings.API_KEY_SECRET),
        scopes=" ".join(scope_names),
        expiration=expiration,
        created_at=now,
        expires_at=expires_at,
    )
    return CreatedAPIKey(api_key=api_key, key=key)


def api_key_revoke(*, api_key: APIKey, revoked_by=None, now: datetime | None = None) -> bool:
    """Revoke `api_key` for good (K17).  Returns False if it was already revoked (nothing changes).

    A single conditional UPDATE: concurrent revocations record the first revoker only.
    """
    now = now or timezone.now()
    updated = APIKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=revoked_by
    )
    if updated:
        api_key.revoked_at, api_key.revoked_by = now, revoked_by
    return bool(updated)


def api_key_revoke_by_value(*, key: str, revoked_by=None, now: datetime | None = None) -> APIKey:
    """Revoke the key whose full value is `key`.  Raises APIKey.DoesNotExist if there is none."""
    prefix = settings.API_KEY_PREFIX
    if not crypto.is_well_formed(key, prefix):
        raise APIKey.DoesNotExist("That is not a well-formed API key.")
    api_key = APIKey.objects.get(digest=crypto.digest(key, settings.API_KEY_SECRET))
    api_key_revoke(api_key=api_key, revoked_by=revoked_by, now=now)
    return api_key


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
