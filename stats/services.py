"""Recording traffic (SPEC 3.3): the gateway's one entry point into usage and billing."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.services import Charge, balance_charge_bulk, balance_lock
from common.bulk import bulk_insert
from common.money import ZERO, round_cents
from proxies.models import Proxy, UsageDaily
from proxies.services import proxies_refresh_for_account, proxy_refresh_status

from .rollup import account_usage_add

BYTES_PER_GB = Decimal(10**9)
MAX_BYTES_PER_RECORD = 10**15
MAX_REQUESTS_PER_RECORD = 10**12
MAX_BACKDATE_DAYS = 400
# A gateway batch is applied this many entries per transaction (`usage_record_batch`): large
# enough that per-chunk costs (locks, status refresh) stay small against the rows, small enough
# that each account's lock is held for a fraction of a second.
DEFAULT_CHUNK_SIZE = 10_000

logger = logging.getLogger(__name__)


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
    """One record for `usage_record_bulk` and `usage_record_batch`: traffic of a proxy on a UTC
    day, recorded (and so charged) at `recorded_at`, by default the batch's `now`."""

    proxy: Proxy
    day: date
    traffic_bytes: int
    requests: int
    recorded_at: datetime | None = None


# A record once checked: the proxy, its values, and when it was recorded.
Checked = tuple[Proxy, UsageValues, datetime]


def usage_record_bulk(
    *, entries: Sequence[UsageEntry], now: datetime | None = None
) -> list[UsageRecorded]:
    """`usage_record` for each entry in turn (with `now=` its `recorded_at`), in a few queries per
    account instead of a few per record: the same day totals, one charge per record rounded the
    same way and dated when it was recorded.  Statuses (A10) are derived once, as of `now`, after
    the batch.  One transaction; a bad entry (as `usage_values_clean` judges it on the day it was
    recorded, or recorded after `now`) raises ValidationError before anything is written.

    Returns one result per entry, in order: its charge, and its day's totals after the batch.
    """
    now = now or timezone.now()
    checked = _entries_check(entries, now=now)
    with transaction.atomic():
        charged = _usage_apply(checked, now=now)
        usage = _usage_days_read(checked)
    return [
        UsageRecorded(usage[(proxy.pk, values.day)], charge)
        for (proxy, values, _), charge in zip(checked, charged, strict=True)
    ]


class ChunkStatus(StrEnum):
    """What became of one chunk of a `usage_record_batch`."""

    APPLIED = "applied"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"  # an earlier chunk failed


@dataclass(frozen=True)
class UsageChunkReport:
    """One chunk of a batch, `entries[start:stop]`: applied in one transaction, or not at all."""

    number: int  # from 1
    start: int
    stop: int
    status: ChunkStatus
    charged: Decimal = ZERO  # what the chunk's records charged, when it applied
    error: str = ""  # why it failed: the exception's type and message

    @property
    def rows(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class UsageBatchReport:
    """What `usage_record_batch` did, chunk by chunk.  The applied chunks are always the first
    ones: entries `[0, applied_rows)` are recorded, the rest are not."""

    chunks: tuple[UsageChunkReport, ...]

    @property
    def ok(self) -> bool:
        return all(chunk.status == ChunkStatus.APPLIED for chunk in self.chunks)

    @property
    def applied(self) -> list[UsageChunkReport]:
        return [chunk for chunk in self.chunks if chunk.status == ChunkStatus.APPLIED]

    @property
    def failed(self) -> UsageChunkReport | None:
        return next((c for c in self.chunks if c.status == ChunkStatus.FAILED), None)

    @property
    def applied_rows(self) -> int:
        return sum(chunk.rows for chunk in self.applied)

    @property
    def charged(self) -> Decimal:
        return sum((chunk.charged for chunk in self.applied), ZERO)

    def summary(self) -> str:
        """One sentence: how many entries and chunks applied, and why a chunk failed."""
        total = sum(chunk.rows for chunk in self.chunks)
        text = (
            f"Recorded {self.applied_rows:,} of {total:,} entries in {len(self.applied)} of "
            f"{len(self.chunks)} chunks, charged {self.charged} USD."
        )
        if (failed := self.failed) is not None:
            text += (
                f" Chunk {failed.number} (entries {failed.start:,}-{failed.stop - 1:,}) failed "
                f"and was rolled back: {failed.error}; entries from {failed.start:,} on were not "
                "recorded."
            )
        return text


def usage_record_batch(
    *,
    entries: Sequence[UsageEntry],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    now: datetime | None = None,
) -> UsageBatchReport:
    """Record a gateway's batch: `usage_record` for each entry in turn, `chunk_size` entries per
    transaction; thousands of entries a second where single calls manage hundreds.

    Every entry is checked first, as `usage_record_bulk` checks them: the first bad entry raises
    ValidationError (each message starting with `entry N:`, N counted from 0) and nothing at all
    is written.  Then the chunks (`entries[0:chunk_size]`, the next `chunk_size`, ...) are applied
    in order, each in its own transaction by the rules of `usage_record_bulk`: each account is
    locked once per chunk and its proxy-days read and written once, while every record that costs
    a cent more still books its own charge.  Day totals, prices (A16), ledger entries (amounts,
    descriptions, dates: `recorded_at`, by default `now`) and balances are exactly what
    `usage_record` called for each entry in turn books.  Statuses (A10) are derived after each
    chunk, as of `now`: after the last one they are what those calls, made with that `now`,
    leave.  The statuses they pass through between records are not reproduced; no amount
    depends on them (a suspended proxy's traffic is recorded and charged all the same).

    A chunk that fails (a database error, a lost connection: anything raised while it is applied)
    is rolled back whole and the chunks after it are not attempted, so what is recorded is always
    the first `applied_rows` entries: sending the rest again completes the batch exactly.  The
    report says which chunks applied, which failed and why.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    now = now or timezone.now()
    checked = _entries_check(entries, now=now, name_positions=True)
    chunks: list[UsageChunkReport] = []
    failed = False
    for number, start in enumerate(range(0, len(checked), chunk_size), start=1):
        stop = min(start + chunk_size, len(checked))
        if failed:
            chunks.append(UsageChunkReport(number, start, stop, ChunkStatus.NOT_ATTEMPTED))
            continue
        try:
            with transaction.atomic():
                charged = _usage_apply(checked[start:stop], now=now)
        # Any failure, not only DatabaseError: the caller must learn what was recorded before it.
        except Exception as error:
            logger.exception(
                "Usage batch: chunk %s (entries %s-%s) failed", number, start, stop - 1
            )
            failed = True
            chunks.append(
                UsageChunkReport(
                    number,
                    start,
                    stop,
                    ChunkStatus.FAILED,
                    error=f"{type(error).__name__}: {error}",
                )
            )
            continue
        chunks.append(
            UsageChunkReport(number, start, stop, ChunkStatus.APPLIED, sum(charged, ZERO))
        )
    return UsageBatchReport(tuple(chunks))


def _entries_check(
    entries: Sequence[UsageEntry], *, now: datetime, name_positions: bool = False
) -> list[Checked]:
    """Every entry checked as `usage_values_clean` judges it on the day it was recorded, and not
    recorded after `now`.  The first bad one raises its ValidationError; with `name_positions`
    each message starts with `entry N:` (its position, from 0)."""
    checked: list[Checked] = []
    for position, entry in enumerate(entries):
        recorded_at = entry.recorded_at or now
        try:
            if recorded_at > now:
                raise ValidationError({"recorded_at": f"recorded_at {recorded_at} is after now."})
            values = usage_values_clean(
                proxy=entry.proxy,
                day=entry.day,
                traffic_bytes=entry.traffic_bytes,
                requests=entry.requests,
                today=recorded_at.astimezone(UTC).date(),
            )
        except ValidationError as error:
            if not name_positions:
                raise
            raise ValidationError(
                {
                    field: [f"entry {position}: {message}" for message in messages]
                    for field, messages in error.message_dict.items()
                }
            ) from None
        checked.append((entry.proxy, values, recorded_at))
    return checked


def _usage_apply(records: Sequence[Checked], *, now: datetime) -> list[Decimal]:
    """Checked records applied in the caller's transaction, account by account (each account's
    records in their order); returns each record's charge, in order."""
    positions: dict[int, list[int]] = {}
    for position, (proxy, _, _) in enumerate(records):
        positions.setdefault(proxy.owner_id, []).append(position)
    charged: list[Decimal] = [ZERO] * len(records)
    # Accounts in one order, so two batches running at once cannot deadlock.
    for owner_id in sorted(positions):
        account = [records[position] for position in positions[owner_id]]
        account_charged = _usage_record_for_account(owner_id, account, now=now)
        for position, charge in zip(positions[owner_id], account_charged, strict=True):
            charged[position] = charge
    return charged


def _usage_days_read(records: Sequence[Checked]) -> dict[tuple[int, date], UsageDaily]:
    """The stored days of the records' proxies, by (proxy id, day): one query per account.

    Read back after writing because new days are inserted without returning their keys."""
    wanted: dict[int, tuple[set[int], set[date]]] = {}
    for proxy, values, _ in records:
        proxy_ids, days = wanted.setdefault(proxy.owner_id, (set(), set()))
        proxy_ids.add(proxy.pk)
        days.add(values.day)
    return {
        (usage.proxy_id, usage.date): usage
        for owner_id, (proxy_ids, days) in sorted(wanted.items())
        for usage in UsageDaily.objects.filter(
            owner_id=owner_id, proxy_id__in=proxy_ids, date__in=days
        )
    }


def _usage_record_for_account(
    owner_id: int, records: list[Checked], *, now: datetime
) -> list[Decimal]:
    """One account's records, in order, under its balance lock: the proxy-day totals, one
    charge per record that costs a cent more, the account's rollup, the ledger and the balance,
    then the statuses (A10).  Returns each record's charge.

    Rows are plain values here, not model instances: a batch of 100,000 records spent most of
    its time building and compiling instances (see common/bulk.py).
    """
    balance = balance_lock(owner_id)
    proxy_ids = sorted({proxy.pk for proxy, _, _ in records})
    locked = {
        proxy.pk: proxy
        for proxy in Proxy.objects.select_related("plan")
        .select_for_update(of=("self",))
        .filter(pk__in=proxy_ids)
        .order_by("pk")
    }
    # [traffic_bytes, requests, cost, price_per_gb] per (proxy id, day).  Read, then written
    # whole: safe, because every writer of a proxy's days holds its lock.
    stored: dict[tuple[int, date], list] = {
        (proxy_id, day): [traffic_bytes, requests, cost, price_per_gb]
        for proxy_id, day, traffic_bytes, requests, cost, price_per_gb in UsageDaily.objects.filter(
            proxy_id__in=proxy_ids, date__in={values.day for _, values, _ in records}
        ).values_list("proxy_id", "date", "traffic_bytes", "requests", "cost", "price_per_gb")
    }
    touched: dict[tuple[int, date], list] = {}
    descriptions: dict[tuple[int, date], str] = {}
    charges: list[Charge] = []
    charged: list[Decimal] = []
    for proxy, values, recorded_at in records:
        key = (proxy.pk, values.day)
        totals = touched.get(key)
        if totals is None:
            # A day's first record prices it (A16): later records keep the stored price.
            totals = stored.get(key) or [0, 0, ZERO, locked[proxy.pk].plan.price_per_gb]
            touched[key] = totals
        traffic_bytes = totals[0] + values.traffic_bytes
        charge = max(round_cents(usage_cost(traffic_bytes, totals[3])) - totals[2], ZERO)
        totals[0] = traffic_bytes
        totals[1] += values.requests
        totals[2] += charge
        charged.append(charge)
        if charge:
            description = descriptions.get(key)
            if description is None:
                description = descriptions[key] = (
                    f"Traffic of {locked[proxy.pk].name} on {values.day:%Y-%m-%d}"
                )
            charges.append(Charge(charge, proxy.pk, description, recorded_at))
    bulk_insert(
        UsageDaily,
        ["proxy", "owner", "date", "traffic_bytes", "requests", "cost", "price_per_gb"],
        [(proxy_id, owner_id, day, *totals) for (proxy_id, day), totals in sorted(touched.items())],
        unique=["proxy", "date"],
        update=["traffic_bytes", "requests", "cost"],
    )
    # The account's daily rollup, in this transaction and under the balance lock taken above,
    # which serializes every writer of the account: it moves with the proxy rows it sums.
    account_usage_add(
        owner_id=owner_id,
        deltas=(
            (values.day, values.traffic_bytes, values.requests, charge)
            for (_, values, _), charge in zip(records, charged, strict=True)
        ),
    )
    balance_charge_bulk(balance=balance, charges=charges, now=now)
    # As `usage_record` after the batch's last record: every proxy of the account when the
    # balance has run out, else the recorded ones.
    if balance.funds_available <= 0:
        proxies_refresh_for_account(owner_id=owner_id, balance=balance, now=now)
    else:
        for proxy in locked.values():
            proxy_refresh_status(proxy, balance=balance, now=now)
    return charged
