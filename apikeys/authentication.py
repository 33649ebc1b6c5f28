"""Public API authentication by API key (K20-K23).

The hot path is one parameterised SELECT through the connection's cursor (key joined to its owner,
looked up by the unique digest index), no model instances: building an ORM query costs several
times more than the query itself, and this runs on every API request.  Last-used is written at
most once a minute per key (K15).
"""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from common.clientip import client_address, client_ip
from common.metrics import AUTH_FAILURES, RATE_LIMITED

from . import allowlist, crypto, ratelimit
from .models import APIKey
from .services import api_key_touch


class InvalidAPIKey(exceptions.AuthenticationFailed):
    error_type = "invalid_api_key"
    default_detail = "Invalid API key."

    def __init__(self, *args, **kwargs) -> None:
        AUTH_FAILURES.labels(self.error_type).inc()
        super().__init__(*args, **kwargs)


class ExpiredAPIKey(InvalidAPIKey):
    error_type = "api_key_expired"
    default_detail = "This API key has expired."


class RateLimited(exceptions.Throttled):
    """429 from the limiter (A11, A12); the verdict's buckets become RateLimit headers."""

    MESSAGES = {
        "ip": "Too many failed authentications from this address. Retry after the time in "
        "Retry-After.",
        "key": "Rate limit exceeded for this API key. Retry after the time in Retry-After.",
        "account": "Rate limit exceeded for this account (all its keys together). Retry after "
        "the time in Retry-After.",
        "leak_report": "Too many leak reports from this address. Retry after the time in "
        "Retry-After.",
    }

    def __init__(self, verdict: "ratelimit.Verdict") -> None:
        RATE_LIMITED.labels(verdict.refused_by).inc()
        super().__init__(wait=max(verdict.retry_after, 0.001))
        self.detail = exceptions.ErrorDetail(self.MESSAGES[verdict.refused_by], "throttled")
        self.verdict = verdict


class IPNotAllowed(exceptions.PermissionDenied):
    """K30: the key is fine, but not from this address."""

    error_type = "ip_not_allowed"

    def __init__(self, address: str) -> None:
        AUTH_FAILURES.labels(self.error_type).inc()
        shown = address if len(address) <= 64 else address[:61] + "..."
        super().__init__(
            f"This API key may not be used from {shown}. Add the address to the key's allowlist "
            "in the dashboard, or call from an allowed address."
        )


class MissingAPIKey(exceptions.NotAuthenticated):
    error_type = "missing_api_key"
    default_detail = "Send your API key in the X-API-Key header."


@dataclass(frozen=True, slots=True)
class APIKeyOwner:
    """The account behind a key, as much of it as views need to scope queries: its id.

    Stands in for `request.user` so that no user row is loaded on the hot path.
    """

    id: int
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True, slots=True)
class APIKeyPrincipal:
    """The authenticated key (`request.auth`): what it may do and when it stops working."""

    key_id: int
    owner_id: int
    scopes: frozenset[str]
    expires_at: datetime | None
    rate_limit_id: str


def _aware(value: datetime | str | None) -> datetime | None:
    # SQLite: the lookup reads its datetimes as text (naive UTC); PostgreSQL hands back aware ones.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Config:
    prefix: str
    secret: str
    last_used_interval: timedelta


@functools.cache
def _config() -> _Config:
    """The settings the hot path reads, read once (each lazy settings access costs about a
    microsecond).  Cleared when a test changes a setting."""
    return _Config(
        prefix=settings.API_KEY_PREFIX,
        secret=settings.API_KEY_SECRET,
        last_used_interval=timedelta(seconds=settings.API_KEY_LAST_USED_INTERVAL),
    )


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("API_KEY_"):
        _config.cache_clear()


@functools.lru_cache(maxsize=256)
def _scope_set(scopes: str) -> frozenset[str]:
    # A handful of distinct scope strings exist (5 scopes): split each once per process.
    return frozenset(scopes.split())


_LOOKUP_SQL: str | None = None


def _lookup_sql() -> str:
    global _LOOKUP_SQL
    if _LOOKUP_SQL is None:
        qn = connection.ops.quote_name
        owner_field = APIKey._meta.get_field("owner")
        user_table = owner_field.related_model._meta.db_table

        def moment(column: str) -> str:
            if connection.vendor == "sqlite":
                # Django's SQLite converters parse every datetime column in Python; as text the
                # two this path reads are parsed by datetime.fromisoformat, several times faster.
                return f"CAST(k.{qn(column)} AS TEXT)"
            return f"k.{qn(column)}"

        # Identifiers come from model metadata, the digest is a bound parameter.  `revoked_at`
        # is only asked whether it is set.
        _LOOKUP_SQL = (
            f"SELECT k.{qn('id')}, k.{qn('owner_id')}, k.{qn('scopes')}, {moment('expires_at')}, "  # noqa: S608
            f"k.{qn('revoked_at')} IS NOT NULL, {moment('last_used_at')}, u.{qn('is_active')}, "
            f"k.{qn('rotated_to_id')}, k.{qn('allowed_ips')} "
            f"FROM {qn(APIKey._meta.db_table)} k "
            f"INNER JOIN {qn(user_table)} u ON u.{qn('id')} = k.{qn('owner_id')} "
            f"WHERE k.{qn('digest')} = %s"
        )
    return _LOOKUP_SQL


def _fetch_key_row(key_digest: str) -> tuple | None:
    fetchone_prepared = getattr(connection, "fetchone_prepared", None)
    if fetchone_prepared is not None:
        # PostgreSQL: prepared once per connection, and the request's connection health check
        # (common/postgresql/base.py).
        return fetchone_prepared(_lookup_sql(), [key_digest])
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [key_digest])
        return cursor.fetchone()


def read_key(request) -> str | None:
    """The key from `X-API-Key`, else from `Authorization: Bearer`; None when neither is sent."""
    # The Django request's META directly: each attribute read through DRF's Request costs a
    # proxy call, and this runs on every API request.
    meta = getattr(request, "_request", request).META
    key = meta.get("HTTP_X_API_KEY")
    if key is None:
        authorization = meta.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = credentials
    key = key.strip()
    return key or None


class APIKeyAuthentication(BaseAuthentication):
    """Authenticates `X-API-Key: <key>` (or `Authorization: Bearer <key>`).

    Returns (APIKeyOwner, APIKeyPrincipal).  No header: None, so the permission answers 401
    `missing_api_key`.  Malformed, unknown, revoked key or inactive owner: 401 `invalid_api_key`.
    Expired key: 401 `api_key_expired`.

    K31: the limiter counts the request for the key's usage; every failure here takes it back.
    """

    def authenticate(self, request):
        key = read_key(request)
        if key is None:
            return None
        ip = client_address(request)
        config = _config()
        # Typos and look-alikes fail the checksum here, before any database work.
        if not crypto.is_well_formed(key, config.prefix):
            if blocked := ratelimit.ip_blocked(ip=ip):
                raise RateLimited(blocked)
            ratelimit.record_failure(ip=ip)
            raise InvalidAPIKey("Malformed API key.")
        key_digest = crypto.digest(key, config.secret)
        # A12 and A11 before the database: the address's failures, the key's bucket (by digest)
        # and, once the key's account is remembered, the account's ceiling: one round trip.
        verdict = ratelimit.before_lookup(ip=ip, digest=key_digest)
        request.rate_limit = verdict
        if not verdict.allowed:
            raise RateLimited(verdict)
        row = _fetch_key_row(key_digest)
        if row is None:
            ratelimit.record_failure(ip=ip, verdict=verdict)
            raise InvalidAPIKey()
        (
            key_id,
            owner_id,
            scopes,
            expires_at,
            revoked,
            last_used_at,
            owner_active,
            rotated,
            allowed_ips,
        ) = row
        if revoked or not owner_active:
            ratelimit.record_failure(ip=ip, verdict=verdict)
            raise InvalidAPIKey()
        now = timezone.now()
        expires_at = _aware(expires_at)
        if expires_at is not None and expires_at <= now:
            ratelimit.record_failure(ip=ip, verdict=verdict)
            if rotated is not None:
                # K25: retired at the end of its rotation's grace period, like a revoked key.
                raise InvalidAPIKey("This API key was rotated and has been retired.")
            raise ExpiredAPIKey(
                f"This API key expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}. "
                "Create a new key in the dashboard."
            )
        if allowed_ips and not allowlist.allows(allowed_ips, ip):
            # K31: refused before any use of the key; the success counted above is taken back.
            ratelimit.usage_move(verdict=verdict, to=None)
            raise IPNotAllowed(ip)
        if not verdict.owner_known:
            verdict = ratelimit.charge_account(
                digest=key_digest, owner_id=owner_id, verdict=verdict
            )
            request.rate_limit = verdict
            if not verdict.allowed:
                raise RateLimited(verdict)
        last_used_at = _aware(last_used_at)
        if last_used_at is None or now - last_used_at >= config.last_used_interval:
            # Due about once a minute per key: only then is the address checked for storage.
            api_key_touch(key_id=key_id, ip=client_ip(request), last_used_at=last_used_at, now=now)
        principal = APIKeyPrincipal(
            key_id=key_id,
            owner_id=owner_id,
            scopes=_scope_set(scopes),
            expires_at=expires_at,
            rate_limit_id=key_digest[:16],
        )
        return APIKeyOwner(owner_id), principal

    def authenticate_header(self, request) -> str:
        return 'ApiKey realm="api", header="X-API-Key"'
