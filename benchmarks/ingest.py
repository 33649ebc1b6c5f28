"""Usage ingestion throughput (SPEC 3.3): rows a second recorded one at a time, and as a batch.

Run:  .venv/bin/python benchmarks/ingest.py             (about a minute, temporary SQLite file)
      .venv/bin/python benchmarks/ingest.py --quick     (under 20 seconds, a smoke run)
      .venv/bin/python benchmarks/ingest.py --database-url postgres://postgres@127.0.0.1:5432/bench_ingest
The PostgreSQL database named in the URL is created for the run and dropped afterwards; an existing
database of that name is refused, never reused.  DATABASE_URL and REDIS_URL in the environment are
ignored.  `run_ingest(quick=...)` runs the same measurements on whatever database Django is
already configured for (benchmarks/stats.py calls it after its own).

Data.  A "world" is 4 accounts with 1,000 proxies between them (100 with --quick), half on a
$4.00/GB plan and half on a $3.33/GB one (so most charges round), every tenth proxy with a limit
(traffic or money, daily or monthly; some are reached during the batch).  Three accounts have
plenty of funds; the fourth has 40% of what its traffic will cost, so its balance runs out
mid-batch and every one of its proxies is suspended.  The batch is 100,000 rows (10,000 with
--quick): the 100 days up to today, oldest first, every proxy once a day in a shuffled order,
except that one row in twenty is a second report of a proxy already seen that day (so 95% of
rows are new proxy-days and 5% add to one).  Record sizes are log-uniform from 1 kB to 2 GB.  The
rows come from a fixed seed, so every world gets the same batch.  Worlds are inserted directly
(accounts, top-ups through `balance_topup`, proxies with `bulk_create`), untimed.

Method.  Each path runs on a world of its own, so every timed run starts from the same state:
  - single: `stats.services.usage_record`, one call (one transaction) per row, for the first
    1,000 rows of the batch (200 with --quick);
  - service: `stats.services.usage_record_batch(entries=..., now=...)` with the whole batch, as
    the gateway calls it (the `UsageEntry` list is built before the clock starts);
  - command: `manage.py record_usage FILE.csv` through `call_command`, the file written
    beforehand: reading and checking the CSV is timed, as an operator waits for it.
Batches run `runs` times per path (3, or 1 with --quick), each time on a new world, so later runs
also find the earlier runs' rows in the tables.  The garbage collector runs before each timed
call and stays on inside it, as it does in the gateway.  After each batch the world is checked:
usage rows and traffic add up to the batch, each balance equals its ledger, every chunk applied;
and the service's world must end exactly like the command's (usage, charges, balances, statuses).

Reading the output.  rows/s: rows over the wall time of the call (for batches, the median run;
best and worst beside it).  Target: a 100,000-row batch at >= 5,000 rows/s through the service
and through the command, on the database the run uses; single records are shown for comparison
(each pays its own transaction and status refresh).  With --quick the batch is a tenth of the
target's size, so its verdict is only indicative.  Absolute figures belong to this machine at its
printed load average.
"""

import gc
import io
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import django

# Run as a script, Python puts benchmarks/ on the path; the project's packages live one level up.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import database_description, load_average, run_benchmark, verdict

TARGET_ROWS_PER_SECOND = 5_000
TARGET_BATCH_ROWS = 100_000
ACCOUNTS = 4
PRICES = (Decimal("4.00"), Decimal("3.33"))
LIMITED_EVERY = 10  # every tenth proxy has a limit
LIMITS = (  # (limit_type, limit_period, limit_total)
    ("traffic", "daily", Decimal(5 * 10**9)),
    ("money", "monthly", Decimal("40.00")),
    ("traffic", "monthly", Decimal(100 * 10**9)),
    ("money", "daily", Decimal("2.00")),
)
REPEAT_EVERY = 20  # one row in twenty adds to a proxy-day already reported that day
POOR_SHARE = Decimal("0.4")  # the last account is funded for this share of its traffic
RICH_FUNDS = Decimal("1000000.00")
SEED = 20260314


@dataclass(frozen=True)
class Shape:
    """How much to build and measure."""

    proxies: int
    days: int
    single_rows: int
    runs: int

    @property
    def rows(self) -> int:
        return self.proxies * self.days


FULL = Shape(proxies=1_000, days=100, single_rows=1_000, runs=3)
QUICK = Shape(proxies=100, days=100, single_rows=200, runs=1)


@dataclass(frozen=True)
class Row:
    """One record of the batch, by the proxy's position in its world."""

    proxy: int
    day: date
    traffic_bytes: int
    requests: int


@dataclass(frozen=True)
class World:
    """Accounts and proxies (in creation order) that one timed run writes to."""

    label: str
    owner_ids: list[int]
    proxies: list  # list[Proxy]


@dataclass(frozen=True)
class Figure:
    """One path's throughput: rows per run and the seconds of each run."""

    label: str
    rows: int
    seconds: list[float]

    @property
    def rows_per_second(self) -> float:
        return self.rows / statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return self.rows / min(self.seconds)

    @property
    def worst(self) -> float:
        return self.rows / max(self.seconds)


@dataclass(frozen=True)
class IngestResult:
    """Everything `run_ingest` measured, for a caller that reports it again."""

    rows: int
    single: Figure
    service: Figure
    command: Figure

    @property
    def held(self) -> bool:
        return min(self.service.worst, self.command.worst) >= TARGET_ROWS_PER_SECOND


# --- Data ------------------------------------------------------------------------------------


def batch_rows(shape: Shape, today: date) -> list[Row]:
    """The batch, oldest day first: every proxy once a day, one row in REPEAT_EVERY a repeat."""
    rng = random.Random(SEED)
    rows = []
    for offset in range(shape.days - 1, -1, -1):
        day = today - timedelta(days=offset)
        order = list(range(shape.proxies))
        rng.shuffle(order)
        seen: list[int] = []
        for slot, proxy in enumerate(order):
            if slot % REPEAT_EVERY == REPEAT_EVERY - 1:
                proxy = rng.choice(seen)
            seen.append(proxy)
            traffic = int(10 ** rng.uniform(3, math.log10(2 * 10**9)))
            rows.append(Row(proxy, day, traffic, traffic // 100_000 + 1))
    return rows


def proxy_plan(index: int) -> int:
    return index % len(PRICES)


def proxy_account(index: int) -> int:
    return index % ACCOUNTS


def build_world(label: str, shape: Shape, rows: Sequence[Row], plans: list, now: datetime) -> World:
    """ACCOUNTS accounts (the last one short of funds) and `shape.proxies` proxies."""
    from django.contrib.auth import get_user_model

    from billing.services import balance_topup
    from common.money import round_cents
    from proxies.models import Proxy
    from proxies.services import generate_public_id

    # A random tag keeps the usernames new when run_ingest runs twice on one database.
    tag = secrets.token_hex(4)
    owners = [
        get_user_model().objects.create_user(
            f"ingest_{label}_{tag}_{n}", f"ingest_{label}_{tag}_{n}@example.com", "unused"
        )
        for n in range(ACCOUNTS)
    ]
    cost_of_poor = sum(
        (
            Decimal(row.traffic_bytes) * PRICES[proxy_plan(row.proxy)] / 10**9
            for row in rows
            if proxy_account(row.proxy) == ACCOUNTS - 1
        ),
        Decimal(0),
    )
    for n, owner in enumerate(owners):
        funds = RICH_FUNDS if n < ACCOUNTS - 1 else round_cents(cost_of_poor * POOR_SHARE)
        balance_topup(owner=owner, amount=max(funds, Decimal("1.00")), now=now)
    public_ids: set[str] = set()
    while len(public_ids) < shape.proxies:
        wanted = {generate_public_id() for _ in range(shape.proxies - len(public_ids))}
        public_ids |= wanted - set(
            Proxy.objects.filter(public_id__in=wanted).values_list("public_id", flat=True)
        )
    proxies = []
    for index, public_id in enumerate(sorted(public_ids)):
        limit = (
            LIMITS[(index // LIMITED_EVERY) % len(LIMITS)] if index % LIMITED_EVERY == 0 else None
        )
        plan = plans[proxy_plan(index)]
        proxies.append(
            Proxy(
                public_id=public_id,
                owner=owners[proxy_account(index)],
                name=f"proxy_{index:04d}",
                proxy_type=plan.proxy_type,
                plan=plan,
                limit_type=limit[0] if limit else "",
                limit_period=limit[1] if limit else "",
                limit_total=limit[2] if limit else None,
                created_at=now,
                updated_at=now,
            )
        )
    Proxy.objects.bulk_create(proxies, batch_size=500)
    by_name = {
        proxy.name: proxy for proxy in Proxy.objects.filter(owner__in=owners).order_by("name")
    }
    return World(label, [owner.pk for owner in owners], [by_name[p.name] for p in proxies])


def price_plans() -> list:
    """The two plans every world's proxies are on (made once per database)."""
    from billing.models import Plan, ProxyType

    return [
        Plan.objects.get_or_create(
            proxy_type=ProxyType.RESIDENTIAL,
            title=f"Ingest {price}",
            defaults={"price_per_gb": price},
        )[0]
        for price in PRICES
    ]


def write_csv(path: Path, world: World, rows: Sequence[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("proxy_id,date,traffic_bytes,requests\n")
        handle.writelines(
            f"{world.proxies[row.proxy].public_id},{row.day.isoformat()},"
            f"{row.traffic_bytes},{row.requests}\n"
            for row in rows
        )


# --- Checking --------------------------------------------------------------------------------


def world_state(world: World) -> dict:
    """What recording wrote for the world, by proxy name and account position: comparable."""
    from billing.models import Balance, Transaction, TransactionType
    from proxies.models import Proxy, UsageDaily

    position = {owner_id: n for n, owner_id in enumerate(world.owner_ids)}
    return {
        "usage": sorted(
            UsageDaily.objects.filter(owner_id__in=world.owner_ids).values_list(
                "proxy__name", "date", "traffic_bytes", "requests", "cost", "price_per_gb"
            )
        ),
        "charges": sorted(
            Transaction.objects.filter(
                owner_id__in=world.owner_ids, type=TransactionType.CHARGE
            ).values_list("proxy__name", "description", "amount"),
        ),
        "balances": sorted(
            (position[owner_id], funds)
            for owner_id, funds in Balance.objects.filter(owner_id__in=world.owner_ids).values_list(
                "owner_id", "funds_available"
            )
        ),
        "statuses": sorted(
            Proxy.objects.filter(owner_id__in=world.owner_ids).values_list(
                "name", "status", "suspended_reason", "suspended_until"
            )
        ),
    }


def check_world(world: World, rows: Sequence[Row]) -> dict:
    """The batch is all there and every balance is its ledger's sum; returns the state."""
    from billing.models import Transaction

    state = world_state(world)
    proxy_days = {(row.proxy, row.day) for row in rows}
    traffic = sum(row.traffic_bytes for row in rows)
    if len(state["usage"]) != len(proxy_days) or sum(u[2] for u in state["usage"]) != traffic:
        raise SystemExit(f"{world.label}: the usage rows do not add up to the batch")
    for owner_id in world.owner_ids:
        ledger = sum(
            Transaction.objects.filter(owner_id=owner_id).values_list("amount", flat=True),
            Decimal("0.00"),
        )
        funds = dict(state["balances"])[world.owner_ids.index(owner_id)]
        if ledger != funds:
            raise SystemExit(f"{world.label}: account {owner_id}'s balance is not its ledger")
    return state


# --- Measuring -------------------------------------------------------------------------------


def timed[T](function: Callable[[], T]) -> tuple[float, T]:
    """The wall time of one call, and what it returned."""
    gc.collect()
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def measure_single(shape: Shape, rows: Sequence[Row], plans: list, now: datetime) -> Figure:
    from stats.services import usage_record

    world = build_world("single", shape, rows, plans, now)
    sample = rows[: shape.single_rows]

    def record_each() -> None:
        for row in sample:
            usage_record(
                proxy=world.proxies[row.proxy],
                day=row.day,
                traffic_bytes=row.traffic_bytes,
                requests=row.requests,
                now=now,
            )

    return Figure("usage_record, one call per row", len(sample), [timed(record_each)[0]])


def measure_service(
    shape: Shape, rows: Sequence[Row], plans: list, now: datetime
) -> tuple[Figure, dict]:
    from stats.services import UsageEntry, usage_record_batch

    seconds = []
    state: dict = {}
    for run in range(shape.runs):
        world = build_world(f"service{run}", shape, rows, plans, now)
        entries = [
            UsageEntry(world.proxies[row.proxy], row.day, row.traffic_bytes, row.requests)
            for row in rows
        ]
        elapsed, report = timed(partial(usage_record_batch, entries=entries, now=now))
        seconds.append(elapsed)
        if not report.ok:
            raise SystemExit(f"service run {run}: {report.summary()}")
        state = check_world(world, rows)
    return Figure("usage_record_batch (service)", len(rows), seconds), state


def measure_command(
    shape: Shape, rows: Sequence[Row], plans: list, now: datetime
) -> tuple[Figure, dict]:
    from django.core.management import call_command

    seconds = []
    state: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as directory:
        for run in range(shape.runs):
            world = build_world(f"command{run}", shape, rows, plans, now)
            path = Path(directory) / f"usage{run}.csv"
            write_csv(path, world, rows)
            out = io.StringIO()
            seconds.append(timed(partial(call_command, "record_usage", str(path), stdout=out))[0])
            if "Recorded" not in out.getvalue():
                raise SystemExit(f"command run {run}: {out.getvalue()}")
            state = check_world(world, rows)
    return Figure("record_usage FILE.csv (command)", len(rows), seconds), state


# --- Reporting -------------------------------------------------------------------------------


def print_figures(result: IngestResult) -> None:
    print(f"  {'path':<36}{'rows':>9}{'runs':>6}{'rows/s':>10}{'best':>10}{'worst':>10}")
    for figure in (result.single, result.service, result.command):
        print(
            f"  {figure.label:<36}{figure.rows:>9,}{len(figure.seconds):>6}"
            f"{figure.rows_per_second:>10,.0f}{figure.best:>10,.0f}{figure.worst:>10,.0f}"
        )
    print("  Target")
    for figure in (result.service, result.command):
        print(
            f"    {figure.label}: {figure.rows:,} rows at >= {TARGET_ROWS_PER_SECOND:,} rows/s: "
            f"worst run {figure.worst:,.0f} rows/s {verdict(figure.worst >= TARGET_ROWS_PER_SECOND)}"
        )
    if result.rows < TARGET_BATCH_ROWS:
        print(
            f"    (a {result.rows:,}-row batch, not the target's {TARGET_BATCH_ROWS:,}: indicative)"
        )


def run_ingest(*, quick: bool) -> IngestResult:
    """Measure and print single records, the service batch and the command batch on the database
    Django is configured for (its own accounts and proxies; nothing else is touched)."""
    from django.utils import timezone

    shape = QUICK if quick else FULL
    now = timezone.now()
    rows = batch_rows(shape, now.astimezone(UTC).date())
    plans = price_plans()
    proxy_days = len({(row.proxy, row.day) for row in rows})
    print(
        f"Usage ingestion: a batch of {len(rows):,} rows ({proxy_days:,} proxy-days, "
        f"{len(rows) - proxy_days:,} repeats) for {shape.proxies:,} proxies of {ACCOUNTS} "
        f"accounts over {shape.days} days; each run on a world of its own"
    )
    single = measure_single(shape, rows, plans, now)
    service, service_state = measure_service(shape, rows, plans, now)
    command, command_state = measure_command(shape, rows, plans, now)
    if service_state != command_state:
        raise SystemExit("the service's world and the command's world ended differently")
    result = IngestResult(len(rows), single, service, command)
    print_figures(result)
    return result


def run(*, quick: bool) -> None:
    print(
        f"Ingest benchmark{' (--quick)' if quick else ''}: Python {sys.version.split()[0]}, "
        f"Django {django.__version__}"
    )
    print(f"Database: {database_description()}")
    print(f"Load average at start (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs")
    print()
    run_ingest(quick=quick)
    print()


def main(argv: Sequence[str] | None = None) -> None:
    run_benchmark(
        argv,
        description=__doc__.split("\n\n")[0],
        quick_help="a smoke run under 20 s (a 10,000-row batch, one run per path)",
        name="bench_ingest",
        run=lambda quick: run(quick=quick),
    )


if __name__ == "__main__":
    main()
