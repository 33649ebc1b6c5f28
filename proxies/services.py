"""Proxy workflows: create, update, delete, and the limit/balance rules of A10.

Every workflow locks the account (`billing.services.account_lock`) before the proxy, the same
order `usage_record` uses, so they never deadlock and never act on a stale balance.
"""

import ipaddress
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from billing.models import Balance, Plan, ProxyType
from billing.services import account_lock
from proxies.geo.models import Country

from .models import (
    NAME_PATTERN,
    IdempotencyRecord,
    LimitPeriod,
    LimitType,
    Proxy,
    ProxyStatus,
    SuspensionReason,
    UsageDaily,
)

PUBLIC_ID_LENGTH = 6
MAX_WHITELIST_ENTRIES = 100
# Networks that admit every address: allowed, but only on purpose (a dashboard confirmation; a
# warning in the API's `meta.warnings`).
ALLOW_EVERYONE_NETWORKS = ("0.0.0.0/0", "::/0")
ALLOW_EVERYONE_WARNING = (
    "The IP whitelist allows every address (0.0.0.0/0 or ::/0): anyone who has the proxy's "
    "credentials can use it from anywhere."
)


def whitelist_allows_everyone(entries: list[str]) -> bool:
    """Whether a cleaned whitelist contains a network that admits every address."""
    return any(entry in ALLOW_EVERYONE_NETWORKS for entry in entries)


MAX_COUNTRIES = 250
MAX_LIMIT = Decimal("1e15")
_ALPHABET = string.ascii_letters + string.digits
_NAME = re.compile(NAME_PATTERN)
UNSET = object()


@dataclass(frozen=True)
class Limits:
    """A validated usage limit; `total` is USD for money limits, bytes for traffic limits."""

    limit_type: str
    time_period: str
    total: Decimal


def generate_public_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


def clean_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError({"name": "Name is required."})
    if len(name) > 64:
        raise ValidationError({"name": "Name must be at most 64 characters."})
    if not _NAME.match(name):
        raise ValidationError(
            {"name": "Use only lower-case letters, digits and underscores (^[a-z0-9_]+$)."}
        )
    return name


def clean_ip_whitelist(entries: object) -> list[str]:
    """IPv4/IPv6 addresses or CIDR networks, normalised and de-duplicated in their given order.

    A network written with host bits set (10.0.0.7/24) is rejected rather than silently widened.
    """
    if entries is None:
        return []
    if not isinstance(entries, list | tuple):
        raise ValidationError({"ip_whitelist": "Send a list of IP addresses or CIDR networks."})
    if len(entries) > MAX_WHITELIST_ENTRIES:
        raise ValidationError({"ip_whitelist": f"At most {MAX_WHITELIST_ENTRIES} entries."})
    cleaned: list[str] = []
    errors: list[str] = []
    for entry in entries:
        text = entry.strip() if isinstance(entry, str) else None
        try:
            if not text or "%" in text:  # no IPv6 zone ids: meaningless to a gateway
                raise ValueError
            value = str(
                ipaddress.ip_network(text, strict=True)
                if "/" in text
                else ipaddress.ip_address(text)
            )
        except ValueError:
            errors.append(f"{entry!r} is not an IPv4/IPv6 address or CIDR network.")
            continue
        if value not in cleaned:
            cleaned.append(value)
    if errors:
        raise ValidationError({"ip_whitelist": errors})
    return cleaned


def clean_limits(limits: object) -> Limits | None:
    """`{"limit_type", "time_period", "total_limit"}` or None for no limit."""
    if limits is None:
        return None
    if not isinstance(limits, dict):
        raise ValidationError(
            {"limits": "Send an object with limit_type, time_period and total_limit, or null."}
        )
    errors: dict[str, str] = {}
    unknown = set(limits) - {"limit_type", "time_period", "total_limit"}
    if unknown:
        errors["limits"] = f"Unknown field(s): {', '.join(sorted(map(str, unknown)))}."
    limit_type, period, total = (
        limits.get("limit_type"),
        limits.get("time_period"),
        limits.get("total_limit"),
    )
    if limit_type not in LimitType.values:
        errors["limits.limit_type"] = "Choose money or traffic."
    if period not in LimitPeriod.values:
        errors["limits.time_period"] = "Choose daily or monthly."
    amount = None
    if isinstance(total, bool) or not isinstance(total, int | float | str | Decimal):
        errors["limits.total_limit"] = "Send a number."
    else:
        try:
            amount = Decimal(str(total))
        except InvalidOperation:
            errors["limits.total_limit"] = "Send a number."
    if amount is not None and "limits.total_limit" not in errors:
        if not amount.is_finite() or amount < 0 or amount > MAX_LIMIT:
            errors["limits.total_limit"] = "Send a number from 0 up to 10^15."
        elif limit_type == LimitType.TRAFFIC and amount != amount.to_integral_value():
            errors["limits.total_limit"] = "A traffic limit is a whole number of bytes."
        elif limit_type == LimitType.MONEY and amount != amount.quantize(Decimal("0.01")):
            errors["limits.total_limit"] = "A money limit has at most two decimal places."
    if errors:
        raise ValidationError(errors)
    return Limits(limit_type, period, amount.quantize(Decimal("0.01")))


def clean_countries(country_ids: object) -> list[int]:
    if country_ids is None:
        return []
    if not isinstance(country_ids, list | tuple) or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in country_ids
    ):
        raise ValidationError({"countries": "Send a list of country ids (integers)."})
    ids = list(dict.fromkeys(country_ids))
    out_of_range = [c for c in ids if not 0 < c < 1000]  # ISO 3166-1 numeric codes
    if out_of_range:
        raise ValidationError(
            {"countries": f"Unknown country id(s): {', '.join(map(str, out_of_range))}."}
        )
    if len(ids) > MAX_COUNTRIES:
        raise ValidationError({"countries": f"At most {MAX_COUNTRIES} countries."})
    known = set(Country.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [c for c in ids if c not in known]
    if missing:
        raise ValidationError(
            {"countries": f"Unknown country id(s): {', '.join(map(str, missing))}."}
        )
    return ids


def clean_description(description: object) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise ValidationError({"description": "Description must be text."})
    description = description.strip()
    if len(description) > 500:
        raise ValidationError({"description": "Description must be at most 500 characters."})
    return description


def period_start(period: str, now: datetime) -> date:
    today = now.astimezone(UTC).date()
    return today if period == LimitPeriod.DAILY else today.replace(day=1)


def next_period_start(period: str, now: datetime) -> datetime:
    """When the counters of `period` reset: 00:00 UTC tomorrow, or 00:00 UTC on the 1st."""
    start = period_start(period, now)
    if period == LimitPeriod.DAILY:
        nxt = start + timedelta(days=1)
    else:
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(nxt, time.min, tzinfo=UTC)


def period_usage(proxy: Proxy, *, now: datetime) -> Decimal:
    """What counts against the proxy's limit in the current period: bytes or USD."""
    if proxy.pk is None:
        return Decimal(0)

    field = "traffic_bytes" if proxy.limit_type == LimitType.TRAFFIC else "cost"
    total = UsageDaily.objects.filter(
        proxy=proxy,
        date__gte=period_start(proxy.limit_period, now),
        date__lte=now.astimezone(UTC).date(),
    ).aggregate(total=Sum(field))["total"]
    return Decimal(total or 0)


def proxy_refresh_status(proxy: Proxy, *, balance: Balance, now: datetime) -> bool:
    """Re-derive the proxy's status from its switch, its limit and the balance (A10).

    Saves and returns True when anything changed.  The caller holds the account lock.
    """
    reason, until = SuspensionReason.NONE, None
    if proxy.enabled and proxy.has_limit and period_usage(proxy, now=now) >= proxy.limit_total:
        reason, until = SuspensionReason.LIMIT, next_period_start(proxy.limit_period, now)
    elif proxy.enabled and balance.funds_available <= 0:
        reason = SuspensionReason.BALANCE
    if not proxy.enabled:
        status = ProxyStatus.INACTIVE
    elif reason:
        status = ProxyStatus.SUSPENDED
    else:
        status = ProxyStatus.ACTIVE
    if (proxy.status, proxy.suspended_reason, proxy.suspended_until) == (status, reason, until):
        return False
    proxy.status, proxy.suspended_reason, proxy.suspended_until = status, reason, until
    proxy.updated_at = now
    if proxy.pk:
        proxy.save(update_fields=["status", "suspended_reason", "suspended_until", "updated_at"])
    return True


def proxies_refresh_for_account(*, owner_id: int, balance: Balance, now: datetime) -> int:
    """Re-evaluate every live proxy of an account (after a balance change).  Returns changes."""
    proxies = Proxy.objects.alive().filter(owner_id=owner_id).select_for_update()
    return sum(proxy_refresh_status(proxy, balance=balance, now=now) for proxy in proxies)


def proxy_limit_resets_apply(*, now: datetime | None = None) -> int:
    """Resume proxies whose limit period has ended (00:00 UTC daily, the 1st monthly).

    Run from `manage.py apply_limit_resets` (cron, every minute) and before proxy reads.
    """
    now = now or timezone.now()
    owners = set(
        Proxy.objects.alive()
        .filter(suspended_reason=SuspensionReason.LIMIT, suspended_until__lte=now)
        .values_list("owner_id", flat=True)
    )
    changed = 0
    for owner_id in owners:
        changed += proxy_limit_resets_apply_for_account(owner_id=owner_id, now=now)
    return changed


def proxy_limit_resets_apply_for_account(*, owner_id: int, now: datetime | None = None) -> int:
    """The per-account part of `proxy_limit_resets_apply`; a no-op query when nothing is due."""
    now = now or timezone.now()
    due = Proxy.objects.alive().filter(
        owner_id=owner_id, suspended_reason=SuspensionReason.LIMIT, suspended_until__lte=now
    )
    if not due.exists():
        return 0
    with transaction.atomic():
        balance = account_lock(owner_id)
        return sum(
            proxy_refresh_status(p, balance=balance, now=now) for p in due.select_for_update()
        )


def _tariff(tariff_id: object, proxy_type: str) -> Plan:
    if isinstance(tariff_id, bool) or not isinstance(tariff_id, int):
        raise ValidationError({"tariff_id": "Send the id (integer) of a plan."})
    plan = Plan.objects.filter(pk=tariff_id, enabled=True, proxy_type=proxy_type).first()
    if plan is None:
        raise ValidationError({"tariff_id": f"No enabled {proxy_type} plan with id {tariff_id}."})
    return plan


@transaction.atomic
def proxy_create(
    *,
    owner,
    name: object,
    proxy_type: object,
    tariff_id: object,
    countries: object = None,
    description: object = "",
    ip_whitelist: object = None,
    limits: object = None,
    now: datetime | None = None,
) -> Proxy:
    """Create a proxy.  Raises ValidationError with per-field messages; writes nothing then."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for field, clean, raw in (
        ("name", clean_name, name),
        ("description", clean_description, description),
        ("ip_whitelist", clean_ip_whitelist, ip_whitelist),
        ("limits", clean_limits, limits),
        ("countries", clean_countries, countries),
    ):
        try:
            values[field] = clean(raw)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if proxy_type not in ProxyType.values:
        errors.setdefault("proxy_type", []).append("Choose residential or mobile.")
    else:
        try:
            values["tariff"] = _tariff(tariff_id, proxy_type)
        except ValidationError as error:
            errors.setdefault("tariff_id", []).extend(error.message_dict["tariff_id"])
    if errors:
        raise ValidationError(errors)

    balance = account_lock(owner.pk)
    # The cap is counted under the account lock, so concurrent creates cannot pass it together.
    cap = settings.PROXY_MAX_PER_ACCOUNT
    if Proxy.objects.alive().filter(owner=owner).count() >= cap:
        raise ValidationError(
            f"You already have {cap} proxies, the maximum per account. Delete one you no longer "
            "need before creating another.",
            code="limit_reached",
        )
    if Proxy.objects.alive().filter(owner=owner, name=values["name"]).exists():
        raise ValidationError({"name": f"You already have a proxy named {values['name']!r}."})
    limit: Limits | None = values["limits"]
    proxy = Proxy(
        public_id=generate_public_id(),
        owner=owner,
        name=values["name"],
        proxy_type=proxy_type,
        tariff=values["tariff"],
        description=values["description"],
        ip_whitelist=values["ip_whitelist"],
        limit_type=limit.limit_type if limit else "",
        limit_period=limit.time_period if limit else "",
        limit_total=limit.total if limit else None,
        created_at=now,
        updated_at=now,
    )
    proxy_refresh_status(proxy, balance=balance, now=now)
    for _ in range(5):  # a public id collision is astronomically rare; retry rather than fail
        try:
            with transaction.atomic():
                proxy.save()
            break
        except IntegrityError:
            if Proxy.objects.filter(owner=owner, name=proxy.name, deleted_at__isnull=True).exists():
                raise ValidationError(
                    {"name": f"You already have a proxy named {proxy.name!r}."}
                ) from None
            proxy.public_id = generate_public_id()
    proxy.countries.set(values["countries"])
    return proxy


@transaction.atomic
def proxy_update(
    *,
    proxy: Proxy,
    description: object = UNSET,
    countries: object = UNSET,
    ip_whitelist: object = UNSET,
    limits: object = UNSET,
    status: object = UNSET,
    now: datetime | None = None,
) -> Proxy:
    """Change what may change (never the name or type).  Raising or removing a limit, or
    switching the proxy back on, re-evaluates its status at once (A10)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    changes: dict[str, object] = {}
    for field, clean, raw in (
        ("description", clean_description, description),
        ("ip_whitelist", clean_ip_whitelist, ip_whitelist),
        ("limits", clean_limits, limits),
        ("countries", clean_countries, countries),
    ):
        if raw is UNSET:
            continue
        try:
            changes[field] = clean(raw)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if status is not UNSET and status not in (ProxyStatus.ACTIVE, ProxyStatus.INACTIVE):
        errors.setdefault("status", []).append("Choose active or inactive.")
    if errors:
        raise ValidationError(errors)

    balance = account_lock(proxy.owner_id)
    locked = Proxy.objects.alive().select_for_update().filter(pk=proxy.pk).first()
    if locked is None:  # deleted meanwhile: switching it back on would revive a deleted proxy
        raise ValidationError({"proxy": "This proxy has been deleted."})
    if "description" in changes:
        locked.description = changes["description"]
    if "ip_whitelist" in changes:
        locked.ip_whitelist = changes["ip_whitelist"]
    if "limits" in changes:
        limit: Limits | None = changes["limits"]
        locked.limit_type = limit.limit_type if limit else ""
        locked.limit_period = limit.time_period if limit else ""
        locked.limit_total = limit.total if limit else None
    if status is not UNSET:
        locked.enabled = status == ProxyStatus.ACTIVE
    locked.updated_at = now
    locked.save()
    if "countries" in changes:
        locked.countries.set(changes["countries"])
    proxy_refresh_status(locked, balance=balance, now=now)
    return locked


@transaction.atomic
def proxy_delete(*, proxy: Proxy, now: datetime | None = None) -> None:
    """Delete for the owner; the row stays (marked deleted) so usage and charges keep it."""
    now = now or timezone.now()
    Proxy.objects.filter(pk=proxy.pk, deleted_at__isnull=True).update(
        deleted_at=now,
        enabled=False,
        status=ProxyStatus.INACTIVE,
        suspended_reason=SuspensionReason.NONE,
        suspended_until=None,
        updated_at=now,
    )


IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used, within its 24 hours, for a different request."""


@dataclass(frozen=True)
class IdempotentResult:
    status_code: int
    response: str  # JSON text
    replayed: bool


@transaction.atomic
def proxy_create_idempotent(
    *,
    owner,
    idempotency_key: str,
    request_hash: str,
    fields: dict,
    render: Callable[[Proxy], str],
    now: datetime | None = None,
) -> IdempotentResult:
    """`proxy_create` at most once per (account, key) within 24 hours (A15).

    The account lock serialises retries that arrive together, so exactly one of them creates and
    the others replay its answer.  A failed create stores nothing: a retry is validated afresh.
    Raises IdempotencyConflict when the key was used for a different body.
    """
    now = now or timezone.now()
    account_lock(owner.pk)
    IdempotencyRecord.objects.filter(owner=owner, created_at__lte=now - IDEMPOTENCY_TTL).delete()
    record = IdempotencyRecord.objects.filter(owner=owner, key=idempotency_key).first()
    if record is not None:
        if record.request_hash != request_hash:
            raise IdempotencyConflict
        return IdempotentResult(record.status_code, record.response, replayed=True)
    proxy = proxy_create(owner=owner, now=now, **fields)
    response = render(proxy)
    IdempotencyRecord.objects.create(
        owner=owner,
        key=idempotency_key,
        request_hash=request_hash,
        status_code=201,
        response=response,
        created_at=now,
    )
    return IdempotentResult(201, response, replayed=False)
