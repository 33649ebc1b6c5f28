"""Recording traffic (SPEC 3.3): the gateway's one entry point into usage and billing."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.services import Charge, balance_charge_bulk, balance_lock
from common.money import ZERO, round_cents
from proxies.models import Proxy, UsageDaily
from proxies.services import proxies_refresh_for_account, proxy_refresh_status

BYTES_PER_GB = Decimal(10**9)
MAX_BYTES_PER_RECORD = 10**15
MAX_REQUESTS_PER_RECORD = 10**12
MAX_BACKDATE_DAYS = 400


@dataclass(frozen=True)
class UsageValues:
    """One record's checked values: the UTC day, bytes and requests."""

    day: date
    traffic_bytes: int
    requests: int


@dataclass(frozen=True)
class UsageRecorded:
    """What `usage_record` did: the day's totals after the record, and the USD it charged."""

    usage: UsageDaily
    charged: Decimal


def _day(value: object, today: date) -> tuple[date | None, str | None]:
    if not isinstance(value, date) or isinstance(value, datetime):
        return None, f"date {str(value)!r} is not a date (YYYY-MM-DD)"
    if value > today:
        return None, f"date {value} is in the future (today is {today} UTC)"
    if value < today - timedelta(days=MAX_BACKDATE_DAYS):
        return None, f"date {value} is more than {MAX_BACKDATE_DAYS} days ago"
    return value, None


def _whole(value: object, field: str, maximum: int) -> tuple[int | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        return None, f"{field} {str(value)!r} is not a whole number from 0 to {maximum}"
    return value, None


def usage_values_clean(
    *, proxy: Proxy, day: object, traffic_bytes: object, requests: object, today: date
) -> UsageValues:
    """The one check of a usage record, for the gateway's calls and the CSV import alike.

    Values must be typed (a `date`, ints): text is refused, so a caller that parses a format (the
    CSV import) converts what is well-formed and passes the rest as is to have it reported.  One
    ValidationError naming every problem (keys `date`, `proxy`, `traffic_bytes`, `requests`, in
    that order): a day in the future or more than MAX_BACKDATE_DAYS ago, a day after the proxy was
    deleted, or a number that is not whole or out of range.
    """
    errors: dict[str, str] = {}
    checked_day, problem = _day(day, today)
    if problem:
        errors["date"] = problem
    deleted_on = proxy.deleted_at.astimezone(UTC).date() if proxy.deleted_at else None
    if checked_day and deleted_on and checked_day > deleted_on:
        errors["proxy"] = (
            f"proxy {proxy.public_id!r} was deleted on {deleted_on}, before {checked_day}"
        )
    checked_bytes, problem = _whole(traffic_bytes, "traffic_bytes", MAX_BYTES_PER_RECORD)
    if problem:
        errors["traffic_bytes"] = problem
    checked_requests, problem = _whole(requests, "requests", MAX_REQUESTS_PER_RECORD)
    if problem:
        errors["requests"] = problem
    if errors:
        raise ValidationError(errors)
    assert checked_day is not None and checked_bytes is not None and checked_requests is not None
    return UsageValues(checked_day, checked_bytes, checked_requests)


def usage_cost(traffic_bytes: int, price_per_gb: Decimal) -> Decimal:
    """Exact (unrounded) cost of traffic at a price per GB (10^9 bytes)."""
    return Decimal(traffic_bytes) * price_per_gb / BYTES_PER_GB


def usage_record(
    *,
    proxy: Proxy,
    day: date,
    traffic_bytes: int,
    requests: int,
    now: datetime | None = None,
) -> UsageRecorded:
    """Add traffic to the proxy's daily total, charge the account, apply limits and balance (A10).

    One database transaction.  The account is locked first, then the proxy, so concurrent records
    for the same proxy or account apply one after the other: nothing is counted twice or lost.
    Money is rounded to cents once per proxy and day: each record charges the difference between
    the day's rounded running total and what was already charged, so small records are billed too.
    The day is priced once (A16): its first record stores the plan's price with the day, and every
    later record of that day is charged at the stored price, whatever the plan costs by then.
    A batch of one: the rules are written once, in `usage_record_bulk`.
    """
    return usage_record_bulk(entries=[UsageEntry(proxy, day, traffic_bytes, requests)], now=now)[0]


@dataclass(frozen=True)
class UsageEntry:
    """One record for `usage_record_bulk`: traffic of a proxy on a UTC day, recorded (and so
    charged) at `recorded_at`, by default the batch's `now`."""

    proxy: Proxy
    day: date
    traffic_bytes: int
    requests: int
    recorded_at: datetime | None = None


def usage_record_bulk(
    *, entries: list[UsageEntry], now: datetime | None = None
) -> list[UsageRecorded]:
    """`usage_record` for each entry in turn (with `now=` its `recorded_at`), in a few queries per
    account instead of a few per record: the same day totals, one charge per record rounded the
    same way and dated when it was recorded.  Statuses (A10) are derived once, as of `now`, after
    the batch.  One transaction; a bad entry (as `usage_values_clean` judges it on the day it was
    recorded, or recorded after `now`) raises ValidationError before anything is written.

    Returns one result per entry, in order: its charge, and its day's totals after the batch.
    """
    now = now or timezone.now()
    checked: list[tuple[Proxy, UsageValues, datetime]] = []
    for entry in entries:
        recorded_at = entry.recorded_at or now
        if recorded_at > now:
            raise ValidationError({"recorded_at": f"recorded_at {recorded_at} is after now."})
        values = usage_values_clean(
            proxy=entry.proxy,
            day=entry.day,
            traffic_bytes=entry.traffic_bytes,
            requests=entry.requests,
            today=recorded_at.astimezone(UTC).date(),
        )
        checked.append((entry.proxy, values, recorded_at))
    positions: dict[int, list[int]] = {}
    for position, (proxy, _, _) in enumerate(checked):
        positions.setdefault(proxy.owner_id, []).append(position)
    results: list[UsageRecorded | None] = [None] * len(checked)
    with transaction.atomic():
        # Accounts in one order, so two batches running at once cannot deadlock.
        for owner_id in sorted(positions):
            records = [checked[position] for position in positions[owner_id]]
            recorded = _usage_record_for_account(owner_id, records, now=now)
            for position, result in zip(positions[owner_id], recorded, strict=True):
                results[position] = result
    return [result for result in results if result is not None]


def _usage_record_for_account(
    owner_id: int, records: list[tuple[Proxy, UsageValues, datetime]], *, now: datetime
) -> list[UsageRecorded]:
    balance = balance_lock(owner_id)
    proxy_ids = sorted({proxy.pk for proxy, _, _ in records})
    locked = {
        proxy.pk: proxy
        for proxy in Proxy.objects.select_related("plan")
        .select_for_update(of=("self",))
        .filter(pk__in=proxy_ids)
        .order_by("pk")
    }
    # Read, then written whole: safe, because every writer of a proxy's days holds its lock.
    stored = {
        (usage.proxy_id, usage.date): usage
        for usage in UsageDaily.objects.filter(
            proxy_id__in=proxy_ids, date__in={values.day for _, values, _ in records}
        )
    }
    touched: dict[tuple[int, date], UsageDaily] = {}
    charges: list[Charge] = []
    charged: list[Decimal] = []
    for proxy, values, recorded_at in records:
        key = (proxy.pk, values.day)
        usage = touched.get(key) or stored.get(key)
        if usage is None:
            usage = UsageDaily(
                proxy=locked[proxy.pk],
                owner_id=owner_id,
                date=values.day,
                price_per_gb=locked[proxy.pk].plan.price_per_gb,
            )
        touched[key] = usage
        exact_total = usage_cost(usage.traffic_bytes + values.traffic_bytes, usage.price_per_gb)
        charge = max(round_cents(exact_total) - usage.cost, ZERO)
        usage.traffic_bytes += values.traffic_bytes
        usage.requests += values.requests
        usage.cost += charge
        charged.append(charge)
        if charge:
            description = f"Traffic of {locked[proxy.pk].name} on {values.day:%Y-%m-%d}"
            charges.append(Charge(charge, proxy.pk, description, recorded_at))
    UsageDaily.objects.bulk_create([u for key, u in touched.items() if key not in stored])
    UsageDaily.objects.bulk_update(
        [u for key, u in touched.items() if key in stored], ["traffic_bytes", "requests", "cost"]
    )
    balance_charge_bulk(balance=balance, charges=charges, now=now)
    # As `usage_record` after the batch's last record: every proxy of the account when the
    # balance has run out, else the recorded ones.
    if balance.funds_available <= 0:
        proxies_refresh_for_account(owner_id=owner_id, balance=balance, now=now)
    else:
        for proxy in locked.values():
            proxy_refresh_status(proxy, balance=balance, now=now)
    return [
        UsageRecorded(touched[(proxy.pk, values.day)], charge)
        for (proxy, values, _), charge in zip(records, charged, strict=True)
    ]
