"""K31: per-key usage, from the rate limiter's counters into `APIKeyUsageDaily`.

The limiter counts every request of a key in the same cache round trip that rate-limits it
(apikeys/ratelimit.py): per UTC day, per key digest, by outcome.  No request writes to the
database; `usage_flush` moves the counts there in a few statements, adding to the day's rows.

Exact across processes and app servers: each flush takes the counters away atomically before it
writes them (Redis: RENAME of the day's hash, then HGETALL and DEL of the renamed copy; the local
store: a swap of its dict under its lock), so no count is written twice, and a count taken by a
flush whose database write fails is added back to the counters, so none is lost.  A correction
that arrives after its request's success was flushed (a failed authentication, a 4xx answer)
reaches the database as a negative delta on a row that exists; should the row not be there yet,
the delta goes back to the counters for the next flush.  Digests of no key (unknown keys refused
by their bucket) are dropped.

Runs every minute from cron (`manage.py flush_key_usage`), and from the request path of every
process at most once a minute (`usage_flush_when_due`): with Redis one process of the cluster
flushes per minute; with the local-memory store (development) that is how a process's counts
reach the database at all.  The same minute job logs the retirement of rotated keys whose grace
period ended (`services.api_key_retirements_log`).
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone
from redis.exceptions import ResponseError

from common import cache as fail_open
from common.cache import FAILURES

from . import ratelimit
from .models import APIKey, APIKeyUsageDaily
from .selectors import USAGE_DAYS_KEPT
from .services import api_key_retirements_log

logger = logging.getLogger(__name__)

# Today and the two days before: a flush that missed a day boundary (cron down for a while) still
# picks that day's counts up; the day hashes expire a day later (ratelimit.USAGE_HASH_SECONDS).
FLUSH_DAYS = 3
# Keys per statement: well inside SQLite's limit of bound parameters (5 per row).
CHUNK_SIZE = 1000
FLUSH_LOCK = "ku:flush-lock"
OUTCOMES = (ratelimit.SUCCESS, ratelimit.CLIENT_ERROR, ratelimit.RATE_LIMITED)

# (UTC day "YYYYMMDD", key digest) -> [success, client_error, rate_limited]
Counts = dict[tuple[str, str], list[int]]


@dataclass(frozen=True, slots=True)
class FlushResult:
    """What one flush did: rows added to, counts of unknown digests dropped, corrections put back
    for a later flush, and old rows pruned."""

    rows: int
    dropped: int
    deferred: int
    pruned: int


def usage_flush(*, now: datetime | None = None) -> FlushResult:
    """Take every usage count gathered so far and add it to `APIKeyUsageDaily`, one upsert per
    chunk of keys in one transaction; prune rows older than 90 days.  On a database error the
    counts are put back and the error raised."""
    today = (now or timezone.now()).astimezone(UTC).date()
    taken = _take([today - timedelta(days=offset) for offset in range(FLUSH_DAYS)])
    try:
        with transaction.atomic():
            rows, dropped, deferred = _write(taken)
            pruned = usage_prune(today=today)
    except BaseException:
        _put_back(taken)
        raise
    if deferred:
        _put_back(deferred)
    return FlushResult(rows=rows, dropped=dropped, deferred=len(deferred), pruned=pruned)


def usage_prune(*, today: date) -> int:
    """Delete usage rows older than the 90 days kept (today included); returns how many."""
    first_kept = today - timedelta(days=USAGE_DAYS_KEPT - 1)
    deleted, _ = APIKeyUsageDaily.objects.filter(day__lt=first_kept).delete()
    return deleted


class _Schedule:
    """When this process next flushes from the request path (monotonic seconds)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_due = 0.0


_schedule = _Schedule()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting in ("API_KEY_USAGE_FLUSH_SECONDS", "CACHES"):
        _schedule.next_due = 0.0


def usage_flush_when_due() -> bool:
    """From the request path: flush when this process has not tried for a minute
    (API_KEY_USAGE_FLUSH_SECONDS; 0 turns it off).  With Redis a short lock in the cache lets
    one process of the cluster flush per interval.  Never raises: an error is logged and the
    counts stay for the next flush.  True when this call flushed."""
    if time.monotonic() < _schedule.next_due:  # the hot path: one comparison
        return False
    if not _schedule.lock.acquire(blocking=False):
        return False  # another thread of this process is at it
    try:
        interval = float(settings.API_KEY_USAGE_FLUSH_SECONDS)
        if interval <= 0:
            _schedule.next_due = float("inf")
            return False
        if time.monotonic() < _schedule.next_due:
            return False
        _schedule.next_due = time.monotonic() + interval
        if ratelimit.redis_client() is not None and not cache.add(
            FLUSH_LOCK, 1, timeout=max(1, int(interval) - 1)
        ):
            return False
        try:
            usage_flush()
        except Exception:
            logger.exception("Usage flush failed; the counts stay for the next one.")
            return False
        try:
            api_key_retirements_log()
        except Exception:
            logger.exception("Logging key retirements failed; the next run logs them.")
        return True
    finally:
        _schedule.lock.release()


# --- Taking and putting back -------------------------------------------------------------------


def _take(days: list[date]) -> Counts:
    client = ratelimit.redis_client()
    if client is None:
        return ratelimit.local.take_usage()
    taken: Counts = {}
    if not fail_open.health.available():
        return taken
    for day in days:
        day_name = ratelimit.usage_day_name(day)
        name = cache.make_key(ratelimit.usage_hash_name(day_name))
        # A name of this flush's own: requests go on counting into a new hash meanwhile.
        temporary = f"{name}:flush:{uuid.uuid4().hex}"
        try:
            try:
                client.rename(name, temporary)
            except ResponseError as error:  # "no such key": nothing counted that day
                if "no such key" in str(error).lower():
                    continue
                raise
            # Should this process die before the DEL, the copy expires with the day's hash
            # (RENAME keeps its lifetime): those counts are lost, never counted twice.
            pipeline = client.pipeline(transaction=True)
            pipeline.hgetall(temporary)
            pipeline.delete(temporary)
            fields, _ = pipeline.execute()
        except FAILURES as error:
            fail_open.health.failed(error)
            break
        for field, value in fields.items():
            digest, _, outcome = _text(field).rpartition(":")
            if outcome in OUTCOMES and digest:
                counts = taken.setdefault((day_name, digest), [0, 0, 0])
                counts[OUTCOMES.index(outcome)] += int(value)
    return taken


def _put_back(counts: Counts) -> None:
    """Add counts back to the counters they were taken from (HINCRBY: on top of what requests
    counted meanwhile)."""
    if not counts:
        return
    client = ratelimit.redis_client()
    if client is None:
        with ratelimit.local.lock:
            for (day, digest), values in counts.items():
                for outcome, value in zip(OUTCOMES, values, strict=True):
                    if value:
                        ratelimit.local.count(day, digest, outcome, value)
        return
    pipeline = client.pipeline(transaction=False)
    days = set()
    for (day, digest), values in counts.items():
        name = cache.make_key(ratelimit.usage_hash_name(day))
        days.add(name)
        for outcome, value in zip(OUTCOMES, values, strict=True):
            if value:
                pipeline.hincrby(name, f"{digest}:{outcome}", value)
    for name in days:
        pipeline.expire(name, ratelimit.USAGE_HASH_SECONDS)
    try:
        pipeline.execute()
    except FAILURES as error:
        fail_open.health.failed(error)
        logger.error(
            "Usage counts could not be put back (%s); %d keys' counts lost.", error, len(counts)
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- Writing -----------------------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK_SIZE) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _key_ids(digests: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(digests))):
        found.update(APIKey.objects.filter(digest__in=chunk).values_list("digest", "id"))
    return found


def _write(taken: Counts) -> tuple[int, int, Counts]:
    """Add `taken` to the table.  Returns rows added to, dropped counts (unknown digests) and the
    corrections that found no row to correct (to put back)."""
    # Counts that cancelled out (a failed authentication takes back its success) need no key.
    taken = {origin: values for origin, values in taken.items() if any(values)}
    key_ids = _key_ids(digest for _, digest in taken)
    additions: list[tuple[int, date, int, int, int]] = []
    corrections: list[tuple[tuple[str, str], int, date, list[int]]] = []
    dropped = 0
    for (day_name, digest), values in taken.items():
        key_id = key_ids.get(digest)
        if key_id is None:
            dropped += 1
            continue
        day = datetime.strptime(day_name, "%Y%m%d").date()
        if min(values) < 0:
            corrections.append(((day_name, digest), key_id, day, values))
        else:
            success, client_error, rate_limited = values
            additions.append((key_id, day, success, client_error, rate_limited))
    # One order for every flush: concurrent flushes lock the same rows in the same order.
    additions.sort()
    table = connection.ops.quote_name(APIKeyUsageDaily._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for chunk in _chunks(additions):
            if postgresql:
                # Five arrays bind and plan several times faster than 5,000 scalars.
                columns = [list(column) for column in zip(*chunk, strict=True)]
                cursor.execute(_upsert_sql(table, 0), columns)
                continue
            parameters: list[Any] = []
            for key_id, day, success, client_error, rate_limited in chunk:
                parameters += (key_id, adapt(day), success, client_error, rate_limited)
            cursor.execute(_upsert_sql(table, len(chunk)), parameters)
        deferred: Counts = {}
        for origin, key_id, day, values in sorted(corrections, key=lambda item: item[1:3]):
            cursor.execute(_correction_sql(table), [*values, key_id, adapt(day), *values])
            if cursor.rowcount != 1:
                deferred[origin] = values
    return len(additions) + len(corrections) - len(deferred), dropped, deferred


def _upsert_sql(table: str, rows: int) -> str:
    """The upsert of `rows` rows of bound scalars, or with `rows` 0 (PostgreSQL) of five bound
    arrays, one per column."""
    # Adds to the day's row instead of replacing it (bulk_create(update_conflicts=True) would
    # replace): SQLite and PostgreSQL spell this alike.
    if rows:
        values = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * rows)
    else:
        values = (
            "SELECT * FROM unnest(%s::bigint[], %s::date[], %s::bigint[], %s::bigint[], "
            "%s::bigint[])"
        )
    return (
        f"INSERT INTO {table} (api_key_id, day, success, client_error, rate_limited) "
        f"{values} ON CONFLICT (api_key_id, day) DO UPDATE SET "
        f"success = {table}.success + excluded.success, "
        f"client_error = {table}.client_error + excluded.client_error, "
        f"rate_limited = {table}.rate_limited + excluded.rate_limited"
    )


def _correction_sql(table: str) -> str:
    # A negative delta only applies to a row it cannot take below zero (its positive half may
    # still be in a flush that has not committed); otherwise it waits for the next flush.
    return (
        f"UPDATE {table} SET success = success + %s, client_error = client_error + %s, "  # noqa: S608
        "rate_limited = rate_limited + %s WHERE api_key_id = %s AND day = %s "
        "AND success + %s >= 0 AND client_error + %s >= 0 AND rate_limited + %s >= 0"
    )
