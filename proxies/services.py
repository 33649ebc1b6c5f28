"""Proxy workflows: create, update, delete, and the limit/balance rules of A10.

Every workflow locks the account (`billing.services.balance_lock`) before the proxy, the same
order `usage_record` uses, so they never deadlock and never act on a stale balance.
"""

import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from billing.models import Balance
from billing.services import balance_lock

from . import selectors
from .inputs import KEEP, ProxyCreateInput, ProxyUpdateInput, proxy_create_input
from .models import (
    IdempotencyRecord,
    LimitPeriod,
    LimitType,
    Proxy,
    ProxyStatus,
    SuspensionReason,
    UsageDaily,
)

PUBLIC_ID_LENGTH = 6
_ALPHABET = string.ascii_letters + string.digits


def generate_public_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


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
    limit = proxy.limit_total if proxy.has_limit else None
    if proxy.enabled and limit is not None and period_usage(proxy, now=now) >= limit:
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


def proxy_list_current(*, owner_id: int, **filters: Any) -> QuerySet[Proxy]:
    """`selectors.proxy_list(owner_id=..., **filters)` after the account's due limit resets are
    applied, so every status read is current (A10).  How the dashboard and the API list proxies."""
    proxy_limit_resets_apply_for_account(owner_id=owner_id)
    return selectors.proxy_list(owner_id=owner_id, **filters)


def proxy_get_current(*, owner_id: int, **lookup: Any) -> Proxy:
    """`selectors.proxy_get(owner_id=..., **lookup)` after the account's due limit resets are
    applied (A10).  How the dashboard and the API read one proxy to show it."""
    proxy_limit_resets_apply_for_account(owner_id=owner_id)
    return selectors.proxy_get(owner_id=owner_id, **lookup)


def proxy_limit_resets_apply_for_account(*, owner_id: int, now: datetime | None = None) -> int:
    """The per-account part of `proxy_limit_resets_apply`; a no-op query when nothing is due."""
    now = now or timezone.now()
    due = Proxy.objects.alive().filter(
        owner_id=owner_id, suspended_reason=SuspensionReason.LIMIT, suspended_until__lte=now
    )
    if not due.exists():
        return 0
    with transaction.atomic():
        balance = balance_lock(owner_id)
        return sum(
            proxy_refresh_status(p, balance=balance, now=now) for p in due.select_for_update()
        )


@transaction.atomic
def proxy_create(*, owner_id: int, data: ProxyCreateInput, now: datetime | None = None) -> Proxy:
    """Create a proxy from checked input (`proxies.inputs.proxy_create_input`).

    Under the account lock it checks what depends on the account's other proxies: the cap per
    account and a unique name.  Raises ValidationError then, and writes nothing.
    """
    now = now or timezone.now()
    balance = balance_lock(owner_id)
    # The cap is counted under the account lock, so concurrent creates cannot pass it together.
    cap = settings.PROXY_MAX_PER_ACCOUNT
    if Proxy.objects.alive().filter(owner_id=owner_id).count() >= cap:
        raise ValidationError(
            f"You already have {cap} proxies, the maximum per account. Delete one you no longer "
            "need before creating another.",
            code="limit_reached",
        )
    name_taken = ValidationError({"name": f"You already have a proxy named {data.name!r}."})
    if Proxy.objects.alive().filter(owner_id=owner_id, name=data.name).exists():
        raise name_taken
    limits = data.limits
    proxy = Proxy(
        public_id=generate_public_id(),
        owner_id=owner_id,
        name=data.name,
        proxy_type=data.proxy_type,
        plan=data.plan,
        description=data.description,
        ip_whitelist=data.ip_whitelist,
        limit_type=limits.limit_type if limits else "",
        limit_period=limits.time_period if limits else "",
        limit_total=limits.total if limits else None,
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
            if Proxy.objects.alive().filter(owner_id=owner_id, name=proxy.name).exists():
                raise name_taken from None
            proxy.public_id = generate_public_id()
    proxy.countries.set(data.country_ids)
    return proxy


@transaction.atomic
def proxy_update(*, proxy: Proxy, changes: ProxyUpdateInput, now: datetime | None = None) -> Proxy:
    """Apply checked changes (`proxies.inputs.proxy_update_input`); never the name or type.

    Raising or removing a limit, or switching the proxy back on, re-evaluates its status at once
    (A10).  Raises ValidationError when the proxy was deleted meanwhile.
    """
    now = now or timezone.now()
    balance = balance_lock(proxy.owner_id)
    locked = Proxy.objects.alive().select_for_update().filter(pk=proxy.pk).first()
    if locked is None:  # deleted meanwhile: switching it back on would revive a deleted proxy
        raise ValidationError({"proxy": "This proxy has been deleted."})
    if changes.description is not KEEP:
        locked.description = changes.description
    if changes.ip_whitelist is not KEEP:
        locked.ip_whitelist = changes.ip_whitelist
    if changes.limits is not KEEP:
        limits = changes.limits
        locked.limit_type = limits.limit_type if limits else ""
        locked.limit_period = limits.time_period if limits else ""
        locked.limit_total = limits.total if limits else None
    if changes.enabled is not KEEP:
        locked.enabled = changes.enabled
    locked.updated_at = now
    locked.save()
    if changes.country_ids is not KEEP:
        locked.countries.set(changes.country_ids)
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
    owner_id: int,
    idempotency_key: str,
    request_hash: str,
    fields: Mapping[str, object],
    render: Callable[[Proxy], str],
    now: datetime | None = None,
) -> IdempotentResult:
    """`proxy_create` at most once per (account, key) within 24 hours (A15).

    The account lock serialises retries that arrive together, so exactly one of them creates and
    the others replay its answer.  `fields` are checked only when nothing is replayed, so a replay
    returns the first answer even if, say, the plan has been disabled since.  A failed create
    stores nothing: a retry is checked afresh.  Raises IdempotencyConflict when the key was used
    for a different body.
    """
    now = now or timezone.now()
    balance_lock(owner_id)
    IdempotencyRecord.objects.filter(
        owner_id=owner_id, created_at__lte=now - IDEMPOTENCY_TTL
    ).delete()
    record = IdempotencyRecord.objects.filter(owner_id=owner_id, key=idempotency_key).first()
    if record is not None:
        if record.request_hash != request_hash:
            raise IdempotencyConflict
        return IdempotentResult(record.status_code, record.response, replayed=True)
    proxy = proxy_create(owner_id=owner_id, data=proxy_create_input(fields), now=now)
    response = render(proxy)
    IdempotencyRecord.objects.create(
        owner_id=owner_id,
        key=idempotency_key,
        request_hash=request_hash,
        status_code=201,
        response=response,
        created_at=now,
    )
    return IdempotentResult(201, response, replayed=False)
