"""What moving per-key usage counts into the database costs (SPEC K31): apikeys.usage.usage_flush.

Run:  .venv/bin/python benchmarks/flush.py             (under a minute, temporary SQLite file)
      .venv/bin/python benchmarks/flush.py --quick     (about 10 seconds, a smoke run)
      .venv/bin/python benchmarks/flush.py --database-url postgres://postgres@127.0.0.1:5432/bench_flush
The PostgreSQL database named in the URL is created for the run and dropped afterwards; an existing
database of that name is refused, never reused.  DATABASE_URL and REDIS_URL in the environment are
ignored.

Data.  10,000 active keys (the target's size, --quick too), with random digests, owned by one
account, bulk-inserted before anything is timed.

Method.  Each round gives every key counts for today (success, client error and rate-limited, so
every key is one row of the flush), then times one `usage_flush()` call with perf_counter: taking
the counters, one digest lookup per chunk of 1,000 keys, one upsert per chunk, the prune, the
commit.  The first round inserts the day's rows; every later round adds to them (the steady
state: a key's row for today already exists after its first minute).  The counters live in the
process's local store (what a development server uses) and, when a redis-server binary is found,
in Redis as in production (a private redis-server on a free port: the day's hash is filled with
one pipelined HINCRBY per field, untimed; the flush's RENAME, HGETALL and DEL are timed).  The
garbage collector runs between rounds, not inside them.

Reading the output.  insert s: the first flush (10,000 new rows); add s: median and worst of the
later flushes (10,000 rows added to); SQL: statements per flush.  Target: a flush of 10,000
active keys under one second, the worst round of each store counted.  Absolute seconds belong to
this machine at its printed load average.
"""

import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import django

# Run as a script, Python puts benchmarks/ on the path; the project's packages live one level up.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import (
    REDIS_SERVER,
    PrivateRedis,
    database_description,
    load_average,
    run_benchmark,
    verdict,
)

TARGET_SECONDS = 1.0
KEYS = 10_000


@dataclass(frozen=True)
class Plan:
    """How many flushes to time per store (the first one inserts)."""

    rounds: int


FULL = Plan(rounds=11)
QUICK = Plan(rounds=3)


@dataclass(frozen=True)
class Result:
    store: str
    seconds: list[float]
    statements: int

    @property
    def insert_seconds(self) -> float:
        return self.seconds[0]

    @property
    def add_seconds(self) -> list[float]:
        return self.seconds[1:]

    @property
    def worst(self) -> float:
        return max(self.seconds)


def create_keys(count: int) -> list[str]:
    """`count` active keys of one account; returns their digests."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from apikeys.models import APIKey, Expiration

    owner = get_user_model().objects.create_user("bench-flush", "bench@example.com", "unused")
    digests = sorted({random.randbytes(32).hex() for _ in range(count)})
    now = timezone.now()
    APIKey.objects.bulk_create(
        [
            APIKey(
                owner=owner,
                name=f"bench {index}",
                display_prefix="2xt_bench",
                digest=digest,
                scopes="geo:read",
                expiration=Expiration.NEVER,
                created_at=now,
            )
            for index, digest in enumerate(digests)
        ],
        batch_size=1000,
    )
    return digests


def fill_local(digests: Sequence[str], day: str) -> None:
    from apikeys import ratelimit

    with ratelimit.local.lock:
        for digest in digests:
            ratelimit.local.count(day, digest, ratelimit.SUCCESS, 20)
            ratelimit.local.count(day, digest, ratelimit.CLIENT_ERROR, 2)
            ratelimit.local.count(day, digest, ratelimit.RATE_LIMITED, 1)


def fill_redis(digests: Sequence[str], day: str) -> None:
    from django.core.cache import cache

    from apikeys import ratelimit

    client = ratelimit.redis_client()
    name = cache.make_key(ratelimit.usage_hash_name(day))
    pipeline = client.pipeline(transaction=False)
    for digest in digests:
        pipeline.hincrby(name, f"{digest}:s", 20)
        pipeline.hincrby(name, f"{digest}:c", 2)
        pipeline.hincrby(name, f"{digest}:r", 1)
    pipeline.execute()


def time_flushes(store: str, fill: Callable[[Sequence[str], str], None], digests, plan) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apikeys import ratelimit, usage
    from apikeys.models import APIKeyUsageDaily

    APIKeyUsageDaily.objects.all().delete()
    day = ratelimit.usage_day(time.time())
    seconds = []
    statements = 0
    for round_index in range(plan.rounds):
        fill(digests, day)
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            result = usage.usage_flush()
            seconds.append(time.perf_counter() - started)
        finally:
            gc.enable()
        if result.rows != len(digests):
            raise SystemExit(f"{store}: flushed {result.rows} rows, expected {len(digests)}")
        if round_index == 0:  # count statements on an untimed extra flush of the same size
            fill(digests, day)
            with CaptureQueriesContext(connection) as captured:
                usage.usage_flush()
            statements = len(captured.captured_queries)
    total = APIKeyUsageDaily.objects.filter(success=20 * (plan.rounds + 1)).count()
    if total != len(digests):
        raise SystemExit(f"{store}: {total} rows hold every count, expected {len(digests)}")
    return Result(store, seconds, statements)


def print_result(result: Result) -> None:
    adds = result.add_seconds
    print(
        f"{result.store:<28}{result.insert_seconds:>10.3f}{statistics.median(adds):>12.3f}"
        f"{max(adds):>10.3f}{result.statements:>6}"
    )


def run(plan: Plan, *, quick: bool) -> None:
    from django.test import override_settings

    print(
        f"Usage flush benchmark{' (--quick)' if quick else ''}: Python {sys.version.split()[0]}, "
        f"Django {django.__version__}"
    )
    print(f"Database: {database_description()}")
    print(f"Load average at start (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs")
    started = time.perf_counter()
    digests = create_keys(KEYS)
    print(
        f"{KEYS:,} active keys inserted in {time.perf_counter() - started:.1f} s; "
        f"{plan.rounds} flushes per store, the first inserting the day's rows"
    )
    print()
    results = [time_flushes("local store (development)", fill_local, digests, plan)]
    if Path(REDIS_SERVER).exists():
        server = PrivateRedis()
        server.start()
        try:
            caches = {
                "default": {
                    "BACKEND": "common.cache.FailOpenRedisCache",
                    "LOCATION": server.url,
                    "KEY_PREFIX": "bench",
                }
            }
            with override_settings(CACHES=caches):
                results.append(time_flushes("Redis (production)", fill_redis, digests, plan))
        finally:
            server.stop()
    else:
        print(f"(no redis-server at {REDIS_SERVER}: the Redis store is not measured)")
    print(f"{'store':<28}{'insert s':>10}{'add s p50':>12}{'add max':>10}{'SQL':>6}")
    for result in results:
        print_result(result)
    print()
    print("Targets")
    for result in results:
        print(
            f"  flush of {KEYS:,} active keys < {TARGET_SECONDS:.0f} s, {result.store}: worst "
            f"{result.worst:.3f} s  {verdict(result.worst < TARGET_SECONDS)}"
        )
    print()


def main(argv: Sequence[str] | None = None) -> None:
    run_benchmark(
        argv,
        description=__doc__.split("\n\n")[0],
        quick_help="a ~10 s smoke run (3 flushes per store instead of 11)",
        name="bench_flush",
        run=lambda quick: run(QUICK if quick else FULL, quick=quick),
    )


if __name__ == "__main__":
    main()
