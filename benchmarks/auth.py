"""What API key authentication costs per request, against the alternatives (SPEC K10, K22), on
SQLite and on PostgreSQL in one invocation.

Run:  .venv/bin/python benchmarks/auth.py             (3-4 minutes: SQLite, then PostgreSQL)
      .venv/bin/python benchmarks/auth.py --quick     (about a minute, a smoke run)
      .venv/bin/python benchmarks/auth.py --only sqlite          (no server needed)
      .venv/bin/python benchmarks/auth.py --database-url postgres://postgres@127.0.0.1:5432/bench_auth
Each database is measured in a process of its own (Django is configured once per process); a
summary table of both closes the output.  The SQLite database is a temporary file and its rate
limiter keeps its buckets in the process, as a development server does.  The PostgreSQL database
named by --database-url (the default is shown above) is created for the run and dropped
afterwards, an existing database of that name is refused, never reused; its limiter is Redis, a
private redis-server started on a free port for the run, as in production.  DATABASE_URL and
REDIS_URL in the environment are ignored.

Method.  One tiny DRF APIView (GET -> {"ok": true}, JSONRenderer, no throttling) is protected four
ways: no authentication with AllowAny (the floor); DRF TokenAuthentication + IsAuthenticated;
djangorestframework-api-key's HasAPIKey permission; this project's APIKeyAuthentication + HasScope
(`required_scopes = {"GET": "geo:read"}`, a real key from `api_key_create`).  Requests go straight
to the view (APIRequestFactory, `view(request)`, `response.render()`): no URL routing, middleware
or WSGI, so authentication and permission are all that differs.  Each request is timed on its own
with perf_counter_ns around the view call and render; building the request is not timed, nor is
what Django does as a request starts (`close_old_connections`), which makes the connection's
health check (CONN_HEALTH_CHECKS, on in the project's settings) due again, as in production: each
scheme's first statement of a request then pays it (Django's `SELECT 1` on PostgreSQL, nothing
on SQLite), except the project's, whose key lookup is the check (common/postgresql/base.py).  The
schemes take turns in batches, round robin, the starting scheme rotating every round, over several
rounds after a discarded warm-up round, so drift in machine load hits every scheme alike.  The
garbage collector runs between batches, not inside them.  The project's key is marked as used just
before each of its batches, so its once-a-minute last-used write (K15) stays out of the timed loop,
as in steady state; a write that lands there anyway is counted.  SQL per request is counted on a
separate sample, because capturing queries slows the cursor.  Finally the project's scheme is timed
again, round robin with the floor, with 1,000 and then with 1,000,000 keys in the table (100,000
with --quick); the filler rows are random digests owned by a filler account.  On PostgreSQL the
project's scheme is also timed with psycopg's prepared statements turned off on the connection
(what DATABASE_PREPARED_STATEMENTS=0 does), against the floor and TokenAuthentication again, to
show what preparing the key lookup buys.  Cache round trips are counted at the Redis client
(commands and pipelines sent), or on local memory as calls to the cache backend.  On PostgreSQL a
fifth row, "floor + PING + SELECT 1", is timed in the same round robin: the floor's view followed
by a bare Redis PING and a bare `SELECT 1`, the two round trips the spec makes every request pay
whatever the implementation (the limiter answers before the lookup, A12; the key row is read on
every request, so that a revocation holds at once in every process, K17, K22).  Its cost over
TokenAuthentication's is the lowest ratio reachable on this machine in that run; when it is above
the target, the target is out of reach there, whatever the code does.

Reading the output.  mean, p50, p99: time per request of the whole view call, in µs.  ±: standard
deviation of the per-round means, the noise between rounds; differences of that order are not
real.  SQL/req: queries per request.  auth µs: mean minus the floor's mean, what authentication and
permission add.  x token: auth µs as a multiple of TokenAuthentication's.  Targets: the project's
auth cost at most 0.25x TokenAuthentication's on SQLite and 0.3x on PostgreSQL, exactly one SQL
query and at most one cache round trip per request, and its auth cost with a million keys at most
1.2x that with a thousand.  Each verdict uses means, as specified; the
p50-based figure beside it is a cross-check that a few slow outliers cannot move.  The two
table sizes are measured a minute apart, so a "caution" line appears when the floor itself moved
between them: the machine's speed changed, and that ratio is then mostly noise.  Absolute µs belong
to this machine at its printed load average; compare ratios between machines.  On PostgreSQL every
query also pays a network round trip, shared by all three schemes, and the project's path one more
to Redis (the limiter answers before the database is asked, A12); the other schemes have no
limiter in the path.
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dj_database_url
import django
import rest_framework
import rest_framework_api_key

# Run as a script, Python puts benchmarks/ on the path; the project's packages live one level up.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import (
    PrivateRedis,
    benchmark_database,
    configure_django,
    database_description,
    load_average,
    verdict,
)

if TYPE_CHECKING:
    from benchmarks.auth_harness import Scheme, Schemes

# The project's auth cost over TokenAuthentication's, per database: on PostgreSQL both pay a
# network round trip that no scheme can avoid, and the project's path adds the limiter's.
TARGET_AUTH_RATIO = {"sqlite": 0.25, "postgresql": 0.3}
TARGET_QUERIES_PER_REQUEST = 1
TARGET_CACHE_ROUND_TRIPS = 1
DATABASES = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/bench_auth"
TARGET_TABLE_SIZE_RATIO = 1.2
# The table-size runs happen minutes apart; a floor that moves more than this means the load did.
FLOOR_DRIFT_TOLERANCE = 0.10


@dataclass(frozen=True)
class Plan:
    """How much to measure: rounds and batch sizes, and the key-table sizes to compare."""

    rounds: int
    warmup_rounds: int
    batch: int
    sql_sample: int
    table_size_rounds: int
    table_sizes: tuple[int, int]


FULL = Plan(
    rounds=20,
    warmup_rounds=1,
    batch=500,
    sql_sample=200,
    table_size_rounds=12,
    table_sizes=(1_000, 1_000_000),
)
QUICK = Plan(
    rounds=12,
    warmup_rounds=1,
    batch=300,
    sql_sample=50,
    table_size_rounds=10,
    table_sizes=(1_000, 100_000),
)


@dataclass(frozen=True)
class Timing:
    """The kept per-request durations of one scheme, and the mean of each of its rounds."""

    durations_ns: list[int]
    round_means_ns: list[float]

    @property
    def mean_us(self) -> float:
        return statistics.fmean(self.durations_ns) / 1000

    @property
    def p50_us(self) -> float:
        return self.percentile_us(0.50)

    @property
    def p99_us(self) -> float:
        return self.percentile_us(0.99)

    @property
    def spread_us(self) -> float:
        """Standard deviation of the round means: how much the mean moves between rounds."""
        return statistics.stdev(self.round_means_ns) / 1000 if len(self.round_means_ns) > 1 else 0.0

    def percentile_us(self, fraction: float) -> float:
        ordered = sorted(self.durations_ns)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


@dataclass(frozen=True)
class AuthCost:
    """What a scheme adds to the floor, by mean (the measure the targets use) and by median."""

    mean_us: float
    p50_us: float

    @classmethod
    def of(cls, timing: Timing, floor: Timing) -> "AuthCost":
        return cls(timing.mean_us - floor.mean_us, timing.p50_us - floor.p50_us)


@dataclass(frozen=True)
class TableSizeResult:
    keys: int
    cost: AuthCost
    floor_mean_us: float
    fill_seconds: float


# --- Measuring -------------------------------------------------------------------------------


def measure(schemes: Sequence["Scheme"], *, rounds: int, plan: Plan) -> dict[str, Timing]:
    """Round-robin timed batches of every scheme; the warm-up rounds are thrown away."""
    durations: dict[str, list[int]] = {scheme.label: [] for scheme in schemes}
    round_means: dict[str, list[float]] = {scheme.label: [] for scheme in schemes}
    for round_index in range(plan.warmup_rounds + rounds):
        shift = round_index % len(schemes)
        for scheme in [*schemes[shift:], *schemes[:shift]]:
            batch = timed_batch(scheme, plan.batch)
            if round_index >= plan.warmup_rounds:
                durations[scheme.label].extend(batch)
                round_means[scheme.label].append(statistics.fmean(batch))
    return {label: Timing(durations[label], round_means[label]) for label in durations}


def timed_batch(scheme: "Scheme", count: int) -> list[int]:
    scheme.before_batch()
    gc.collect()
    gc.disable()  # a collection inside the batch would bill one scheme for another's garbage
    try:
        return scheme.time_requests(count)
    finally:
        gc.enable()
        scheme.after_batch()


def queries_per_request(scheme: "Scheme", count: int) -> float:
    scheme.before_batch()
    return len(scheme.captured_sql(count)) / count


CACHE_METHODS = ("get", "set", "add", "incr", "delete", "get_many", "set_many", "has_key", "touch")


def cache_calls_per_request(scheme: "Scheme", count: int) -> float:
    """Round trips to the shared cache per request.  On Redis: commands and pipelines sent by the
    client (each one round trip).  On local memory: calls to the Django cache backend, each of
    which would be one round trip on Redis."""
    import redis
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    calls = 0

    def counted(function):
        def wrapper(*args, **kwargs):
            nonlocal calls
            calls += 1
            return function(*args, **kwargs)

        return wrapper

    if isinstance(caches["default"], RedisCache):
        targets = [(redis.Redis, "execute_command"), (redis.client.Pipeline, "execute")]
    else:
        targets = [(type(caches["default"]), name) for name in CACHE_METHODS]
    originals = [(owner, name, getattr(owner, name)) for owner, name in targets]
    for owner, name, function in originals:
        setattr(owner, name, counted(function))
    try:
        scheme.before_batch()
        for _ in range(count):
            scheme.send()
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
    return calls / count


def measure_table_sizes(schemes: "Schemes", plan: Plan) -> list[TableSizeResult]:
    """The project's auth cost, against a freshly measured floor, at each key-table size."""
    from benchmarks.auth_harness import api_key_count, insert_filler_keys

    results = []
    for size in plan.table_sizes:
        fill_seconds = insert_filler_keys(size - api_key_count())
        gc.freeze()
        timings = measure(
            [schemes.floor, schemes.project], rounds=plan.table_size_rounds, plan=plan
        )
        floor = timings[schemes.floor.label]
        cost = AuthCost.of(timings[schemes.project.label], floor)
        results.append(TableSizeResult(api_key_count(), cost, floor.mean_us, fill_seconds))
    return results


# --- Reporting -------------------------------------------------------------------------------


def print_header(plan: Plan, database: str, *, quick: bool, limiter: str) -> None:
    print(
        f"API key authentication benchmark{' (--quick)' if quick else ''}: Python "
        f"{sys.version.split()[0]}, Django {django.__version__}, DRF {rest_framework.__version__}, "
        f"djangorestframework-api-key {rest_framework_api_key.__version__}"
    )
    print(f"Database: {database}; rate limiter: {limiter}")
    print(f"Load average at start (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs")
    print(
        f"Round robin: {plan.rounds} rounds x {plan.batch:,} requests per scheme after "
        f"{plan.warmup_rounds} discarded warm-up round = {plan.rounds * plan.batch:,} timed "
        "requests per scheme"
    )
    print()


def print_comparison(
    schemes: "Schemes",
    timings: dict[str, Timing],
    queries: dict[str, float],
    *,
    minimum: "Scheme | None",
) -> None:
    floor = timings[schemes.floor.label]
    token_cost = AuthCost.of(timings[schemes.token.label], floor).mean_us
    print(
        f"{'scheme':<31}{'mean µs':>9}{'±':>7}{'p50 µs':>9}{'p99 µs':>9}"
        f"{'SQL/req':>8}{'auth µs':>9}{'x token':>8}"
    )
    for scheme in [*schemes.all, *([minimum] if minimum else [])]:
        timing = timings[scheme.label]
        cost = AuthCost.of(timing, floor).mean_us
        sql = f"{queries[scheme.label]:>8.2f}" if scheme.label in queries else f"{'-':>8}"
        print(
            f"{scheme.label:<31}{timing.mean_us:>9.1f}{timing.spread_us:>7.1f}"
            f"{timing.p50_us:>9.1f}{timing.p99_us:>9.1f}{sql}"
            f"{cost:>9.1f}{cost / token_cost:>7.2f}x"
        )
    print()


def print_auth_cost_target(
    schemes: "Schemes", timings: dict[str, Timing], target: float
) -> tuple[float, float]:
    floor = timings[schemes.floor.label]
    token_cost = AuthCost.of(timings[schemes.token.label], floor)
    project_cost = AuthCost.of(timings[schemes.project.label], floor)
    ratio = project_cost.mean_us / token_cost.mean_us
    ratio_p50 = project_cost.p50_us / token_cost.p50_us
    print(
        f"  apikeys auth cost <= {target}x TokenAuthentication's: {ratio:.3f}x "
        f"({project_cost.mean_us:.1f} vs {token_cost.mean_us:.1f} µs)  {verdict(ratio <= target)}"
    )
    print(
        f"    by p50 instead of mean: {ratio_p50:.3f}x "
        f"({project_cost.p50_us:.1f} vs {token_cost.p50_us:.1f} µs)"
    )
    return ratio, ratio_p50


def print_query_target(per_request: float, sample: int, sql_when_due: list[str]) -> None:
    print(
        f"  apikeys SQL queries per request == {TARGET_QUERIES_PER_REQUEST}: {per_request:.2f} "
        f"over {sample} requests  {verdict(per_request == TARGET_QUERIES_PER_REQUEST)}"
    )
    # The debug log writes a statement bound on the server as "QUERY = '...' - PARAMS = ...".
    statements = ", ".join(
        statement.removeprefix("QUERY = '").split()[0] for statement in sql_when_due
    )
    print(f"    once a minute per key, when last-used is due: {len(sql_when_due)} ({statements})")


def print_table_size_target(results: list[TableSizeResult], *, quick: bool) -> None:
    small, large = results
    ratio = large.cost.mean_us / small.cost.mean_us
    print(
        f"  apikeys auth cost with {large.keys:,} / {small.keys:,} keys <= "
        f"{TARGET_TABLE_SIZE_RATIO}x: {ratio:.3f}x  {verdict(ratio <= TARGET_TABLE_SIZE_RATIO)}"
    )
    for result in results:
        print(
            f"    {result.keys:>9,} keys: auth {result.cost.mean_us:.1f} µs "
            f"(p50 {result.cost.p50_us:.1f}), floor {result.floor_mean_us:.1f} µs; "
            f"filler rows inserted in {result.fill_seconds:.1f} s"
        )
    floor_drift = large.floor_mean_us / small.floor_mean_us - 1
    if abs(floor_drift) > FLOOR_DRIFT_TOLERANCE:
        print(
            f"    caution: the floor itself moved {floor_drift:+.0%} between the two sizes: the "
            "machine's speed changed (load), so the ratio is not only the table's doing."
        )
    if quick:
        print("    (--quick: 100,000 keys stand in for the full run's 1,000,000)")


# --- Entry point -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One database's headline figures, handed from its run to the combined table."""

    database: str
    limiter: str
    token_us: float
    project_us: float
    ratio: float
    ratio_p50: float
    target: float
    queries: float
    cache_round_trips: float
    unprepared_ratio: float | None
    round_trips_us: dict[str, float]
    # The spec's two round trips alone over TokenAuthentication's cost (PostgreSQL with Redis).
    minimum_ratio: float | None

    @property
    def held(self) -> bool:
        return (
            self.ratio <= self.target
            and self.queries == TARGET_QUERIES_PER_REQUEST
            and self.cache_round_trips <= TARGET_CACHE_ROUND_TRIPS
        )


def run(plan: Plan, *, quick: bool, limiter: str) -> Summary:
    """Measure everything on the configured database and print it; the module docstring says how
    to read the output."""
    # Imported here, not at the top: DRF reads the settings configured just before.
    from django.db import connection

    from benchmarks.auth_harness import create_schemes, required_round_trips_scheme

    schemes = create_schemes()
    for scheme in schemes.all:
        scheme.check()
    # PostgreSQL with Redis: the spec's two round trips, bare, in the same round robin.
    minimum = required_round_trips_scheme()
    gc.freeze()  # Django's own long-lived objects: keeps the collections between batches short
    print_header(plan, database_description(), quick=quick, limiter=limiter)

    timings = measure(
        [*schemes.all, *([minimum] if minimum else [])], rounds=plan.rounds, plan=plan
    )
    queries = {scheme.label: queries_per_request(scheme, plan.sql_sample) for scheme in schemes.all}
    cache_calls = cache_calls_per_request(schemes.project, plan.sql_sample)
    sql_when_due = schemes.project.sql_when_last_used_is_due()
    print_comparison(schemes, timings, queries, minimum=minimum)
    postgres = connection.vendor == "postgresql"
    unprepared = measure_unprepared(schemes, plan) if postgres else None
    round_trips = measure_round_trips(schemes, plan) if postgres else {}
    table_sizes = measure_table_sizes(schemes, plan)

    target = TARGET_AUTH_RATIO[connection.vendor]
    print("Targets")
    ratio, ratio_p50 = print_auth_cost_target(schemes, timings, target)
    minimum_ratio = None
    if minimum is not None:
        floor = timings[schemes.floor.label]
        minimum_us = AuthCost.of(timings[minimum.label], floor).mean_us
        minimum_ratio = minimum_us / AuthCost.of(timings[schemes.token.label], floor).mean_us
        reach = "out of reach" if minimum_ratio > target else "within reach"
        print(
            f"    the spec's two round trips alone (limiter before the lookup, A12; the key read "
            f"on every request, K17, K22): {minimum_us:.1f} µs = {minimum_ratio:.3f}x, so "
            f"{target}x is {reach} on this machine in this run; the project's path costs "
            f"{AuthCost.of(timings[schemes.project.label], floor).mean_us - minimum_us:.1f} µs "
            "more than them"
        )
    if unprepared is not None:
        print(
            f"    with the key lookup unprepared (DATABASE_PREPARED_STATEMENTS=0): "
            f"{unprepared:.3f}x, measured against the same floor just after"
        )
    if round_trips:
        print(
            "    round trips in this run, each after the floor's view as in a request: "
            + ", ".join(f"{label} {us:.1f} µs" for label, us in round_trips.items())
        )
        print(
            f"    the project's path makes one of each ({sum(round_trips.values()):.1f} µs "
            "together); TokenAuthentication's makes two SELECTs (the health check, its query)"
        )
    print_query_target(queries[schemes.project.label], plan.sql_sample, sql_when_due)
    print(
        f"  apikeys cache round trips per request <= {TARGET_CACHE_ROUND_TRIPS}: "
        f"{cache_calls:.2f} over {plan.sql_sample} requests ({limiter})  "
        f"{verdict(cache_calls <= TARGET_CACHE_ROUND_TRIPS)}"
    )
    print_table_size_target(table_sizes, quick=quick)
    print(
        "  last-used writes that landed in timed batches (should be 0): "
        f"{schemes.project.writes_in_timed_batches}"
    )
    print()
    floor = timings[schemes.floor.label]
    return Summary(
        database=connection.vendor,
        limiter=limiter,
        token_us=AuthCost.of(timings[schemes.token.label], floor).mean_us,
        project_us=AuthCost.of(timings[schemes.project.label], floor).mean_us,
        ratio=ratio,
        ratio_p50=ratio_p50,
        target=target,
        queries=queries[schemes.project.label],
        cache_round_trips=cache_calls,
        unprepared_ratio=unprepared,
        round_trips_us=round_trips,
        minimum_ratio=minimum_ratio,
    )


def measure_unprepared(schemes: "Schemes", plan: Plan) -> float:
    """The project's auth cost over TokenAuthentication's with psycopg's prepared statements
    turned off on this connection, as DATABASE_PREPARED_STATEMENTS=0 does: what preparing buys."""
    from django.db import connection

    raw = connection.connection
    threshold = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        timings = measure(
            [schemes.floor, schemes.token, schemes.project],
            rounds=plan.table_size_rounds,
            plan=plan,
        )
    finally:
        raw.prepare_threshold = threshold
    floor = timings[schemes.floor.label]
    token = AuthCost.of(timings[schemes.token.label], floor).mean_us
    return AuthCost.of(timings[schemes.project.label], floor).mean_us / token


def measure_round_trips(schemes: "Schemes", plan: Plan) -> dict[str, float]:
    """What one bare round trip to each server adds to the floor, in µs, by name."""
    from benchmarks.auth_harness import round_trip_schemes

    probes = round_trip_schemes()
    timings = measure([schemes.floor, *probes], rounds=plan.table_size_rounds, plan=plan)
    floor = timings[schemes.floor.label]
    return {
        probe.label.removeprefix("floor + "): AuthCost.of(timings[probe.label], floor).mean_us
        for probe in probes
    }


def run_one(args: argparse.Namespace) -> None:
    """One database in this process (Django is configured once per process)."""
    from django.db import connections

    plan = QUICK if args.quick else FULL
    postgres = args.one == "postgresql"
    url = args.database_url if postgres else None
    with benchmark_database(url, name="bench_auth") as database_url:
        redis = PrivateRedis() if postgres else None
        if redis:
            redis.start()
        try:
            configure_django(
                database_url,
                extra_apps=["rest_framework.authtoken", "rest_framework_api_key"],
                redis_url=redis.url if redis else None,
            )
            limiter = "Redis, a private redis-server" if redis else "local memory"
            try:
                summary = run(plan, quick=args.quick, limiter=limiter)
            finally:
                connections.close_all()  # PostgreSQL: before the database is dropped
        finally:
            if redis:
                redis.stop()
    if args.summary_file:
        Path(args.summary_file).write_text(json.dumps(asdict(summary)))


def print_summary(summaries: list[Summary]) -> None:
    print("Summary: the project's auth cost per database, one invocation")
    print(
        f"{'database':<12}{'limiter':<32}{'token µs':>9}{'apikeys µs':>11}{'x token':>9}"
        f"{'p50 x':>7}{'target':>8}{'SQL/req':>8}{'cache/req':>10}"
    )
    for summary in summaries:
        print(
            f"{summary.database:<12}{summary.limiter:<32}{summary.token_us:>9.1f}"
            f"{summary.project_us:>11.1f}{summary.ratio:>8.3f}x{summary.ratio_p50:>6.3f}x"
            f"{summary.target:>7.2f}x{summary.queries:>8.2f}{summary.cache_round_trips:>10.2f}"
            f"  {verdict(summary.held)}"
        )
        if summary.unprepared_ratio is not None:
            print(f"{'':<12}without prepared statements: {summary.unprepared_ratio:.3f}x token")
        if summary.round_trips_us:
            print(
                f"{'':<12}round trips: "
                + ", ".join(f"{label} {us:.1f} µs" for label, us in summary.round_trips_us.items())
            )
        if summary.minimum_ratio is not None:
            print(
                f"{'':<12}the spec's two round trips alone (PING + SELECT 1): "
                f"{summary.minimum_ratio:.3f}x token"
            )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a ~1 minute smoke run")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_POSTGRES_URL,
        help="the PostgreSQL database the run creates and drops (default: %(default)s)",
    )
    parser.add_argument(
        "--only",
        choices=DATABASES,
        help="measure one database instead of both (SQLite needs no server)",
    )
    parser.add_argument("--one", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--summary-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if dj_database_url.parse(args.database_url)["ENGINE"] != "django.db.backends.postgresql":
        parser.error("--database-url must be a PostgreSQL URL")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    if args.one:
        run_one(args)
        return
    started = time.perf_counter()
    summaries = []
    with tempfile.TemporaryDirectory(prefix="bench_auth_") as directory:
        for database in [args.only] if args.only else DATABASES:
            summary_file = Path(directory) / f"{database}.json"
            command = [sys.executable, __file__, "--one", database, "--summary-file"]
            command += [str(summary_file), "--database-url", args.database_url]
            command += ["--quick"] if args.quick else []
            sys.stdout.flush()
            if subprocess.run(command, cwd=PROJECT_ROOT, check=False).returncode != 0:
                raise SystemExit(f"The {database} run failed (its output is above).")
            summaries.append(Summary(**json.loads(summary_file.read_text())))
    print_summary(summaries)
    print(f"Finished in {time.perf_counter() - started:.0f} s; load average now {load_average()}")


if __name__ == "__main__":
    main()
