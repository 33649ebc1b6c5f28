"""What API key authentication costs per request, against the alternatives (SPEC K10, K22).

Run:  .venv/bin/python benchmarks/auth.py             (1-2 minutes, temporary SQLite file)
      .venv/bin/python benchmarks/auth.py --quick     (under 30 seconds, a smoke run)
      .venv/bin/python benchmarks/auth.py --database-url postgres://postgres@127.0.0.1:5432/bench_auth
The PostgreSQL database named in the URL is created for the run and dropped afterwards; an existing
database of that name is refused, never reused.  DATABASE_URL and REDIS_URL in the environment
are ignored.

Method.  One tiny DRF APIView (GET -> {"ok": true}, JSONRenderer, no throttling) is protected four
ways: no authentication with AllowAny (the floor); DRF TokenAuthentication + IsAuthenticated;
djangorestframework-api-key's HasAPIKey permission; this project's APIKeyAuthentication + HasScope
(`required_scopes = {"GET": "geo:read"}`, a real key from `api_key_create`).  Requests go straight
to the view (APIRequestFactory, `view(request)`, `response.render()`): no URL routing, middleware
or WSGI, so authentication and permission are all that differs.  Each request is timed on its own
with perf_counter_ns around the view call and render; building the request is not timed.  The
schemes take turns in batches, round robin, the starting scheme rotating every round, over several
rounds after a discarded warm-up round, so drift in machine load hits every scheme alike.  The
garbage collector runs between batches, not inside them.  The project's key is marked as used just
before each of its batches, so its once-a-minute last-used write (K15) stays out of the timed loop,
as in steady state; a write that lands there anyway is counted.  SQL per request is counted on a
separate sample, because capturing queries slows the cursor.  Finally the project's scheme is timed
again, round robin with the floor, with 1,000 and then with 1,000,000 keys in the table (100,000
with --quick); the filler rows are random digests owned by a filler account.

Reading the output.  mean, p50, p99: time per request of the whole view call, in µs.  ±: standard
deviation of the per-round means, the noise between rounds; differences of that order are not
real.  SQL/req: queries per request.  auth µs: mean minus the floor's mean, what authentication and
permission add.  x token: auth µs as a multiple of TokenAuthentication's.  Targets: the project's
auth cost at most 0.25x TokenAuthentication's, exactly one SQL query per request, and its auth cost
with a million keys at most 1.2x that with a thousand.  Each verdict uses means, as specified; the
p50-based figure beside it is a cross-check that a few slow outliers cannot move.  The two
table sizes are measured a minute apart, so a "caution" line appears when the floor itself moved
between them: the machine's speed changed, and that ratio is then mostly noise.  Absolute µs belong
to this machine at its printed load average; compare ratios between machines.  On PostgreSQL every
query also pays a network round trip and server-side planning, shared by all three schemes.
"""

import gc
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import django
import rest_framework
import rest_framework_api_key

# Run as a script, Python puts benchmarks/ on the path; the project's packages live one level up.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import database_description, load_average, run_benchmark, verdict

if TYPE_CHECKING:
    from benchmarks.auth_harness import Scheme, Schemes

TARGET_AUTH_RATIO = 0.25
TARGET_QUERIES_PER_REQUEST = 1
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
    """Calls that would reach a shared cache per request: Redis commands plus calls to the
    Django cache backend (each one round trip on Redis)."""
    import redis
    from django.core.cache import caches

    calls = 0
    backend_class = type(caches["default"])
    originals = {name: getattr(backend_class, name) for name in CACHE_METHODS}
    original_execute = redis.Redis.execute_command

    def counted(function):
        def wrapper(*args, **kwargs):
            nonlocal calls
            calls += 1
            return function(*args, **kwargs)

        return wrapper

    for name, function in originals.items():
        setattr(backend_class, name, counted(function))
    redis.Redis.execute_command = counted(original_execute)
    try:
        scheme.before_batch()
        for _ in range(count):
            scheme.send()
    finally:
        for name, function in originals.items():
            setattr(backend_class, name, function)
        redis.Redis.execute_command = original_execute
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


def print_header(plan: Plan, database: str, *, quick: bool) -> None:
    print(
        f"API key authentication benchmark{' (--quick)' if quick else ''}: Python "
        f"{sys.version.split()[0]}, Django {django.__version__}, DRF {rest_framework.__version__}, "
        f"djangorestframework-api-key {rest_framework_api_key.__version__}"
    )
    print(f"Database: {database}")
    print(f"Load average at start (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs")
    print(
        f"Round robin: {plan.rounds} rounds x {plan.batch:,} requests per scheme after "
        f"{plan.warmup_rounds} discarded warm-up round = {plan.rounds * plan.batch:,} timed "
        "requests per scheme"
    )
    print()


def print_comparison(
    schemes: "Schemes", timings: dict[str, Timing], queries: dict[str, float]
) -> None:
    floor = timings[schemes.floor.label]
    token_cost = AuthCost.of(timings[schemes.token.label], floor).mean_us
    print(
        f"{'scheme':<31}{'mean µs':>9}{'±':>7}{'p50 µs':>9}{'p99 µs':>9}"
        f"{'SQL/req':>8}{'auth µs':>9}{'x token':>8}"
    )
    for scheme in schemes.all:
        timing = timings[scheme.label]
        cost = AuthCost.of(timing, floor).mean_us
        print(
            f"{scheme.label:<31}{timing.mean_us:>9.1f}{timing.spread_us:>7.1f}"
            f"{timing.p50_us:>9.1f}{timing.p99_us:>9.1f}{queries[scheme.label]:>8.2f}"
            f"{cost:>9.1f}{cost / token_cost:>7.2f}x"
        )
    print()


def print_auth_cost_target(schemes: "Schemes", timings: dict[str, Timing]) -> None:
    floor = timings[schemes.floor.label]
    token_cost = AuthCost.of(timings[schemes.token.label], floor)
    project_cost = AuthCost.of(timings[schemes.project.label], floor)
    ratio = project_cost.mean_us / token_cost.mean_us
    print(
        f"  apikeys auth cost <= {TARGET_AUTH_RATIO}x TokenAuthentication's: {ratio:.3f}x "
        f"({project_cost.mean_us:.1f} vs {token_cost.mean_us:.1f} µs)  "
        f"{verdict(ratio <= TARGET_AUTH_RATIO)}"
    )
    print(
        f"    by p50 instead of mean: {project_cost.p50_us / token_cost.p50_us:.3f}x "
        f"({project_cost.p50_us:.1f} vs {token_cost.p50_us:.1f} µs)"
    )


def print_query_target(per_request: float, sample: int, sql_when_due: list[str]) -> None:
    print(
        f"  apikeys SQL queries per request == {TARGET_QUERIES_PER_REQUEST}: {per_request:.2f} "
        f"over {sample} requests  {verdict(per_request == TARGET_QUERIES_PER_REQUEST)}"
    )
    statements = ", ".join(statement.split()[0] for statement in sql_when_due)
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


def run(plan: Plan, *, quick: bool) -> None:
    """Measure everything and print it; the module docstring says how to read the output."""
    # Imported here, not at the top: DRF reads the settings configured just before.
    from benchmarks.auth_harness import create_schemes

    schemes = create_schemes()
    for scheme in schemes.all:
        scheme.check()
    gc.freeze()  # Django's own long-lived objects: keeps the collections between batches short
    print_header(plan, database_description(), quick=quick)

    timings = measure(schemes.all, rounds=plan.rounds, plan=plan)
    queries = {scheme.label: queries_per_request(scheme, plan.sql_sample) for scheme in schemes.all}
    cache_calls = cache_calls_per_request(schemes.project, plan.sql_sample)
    sql_when_due = schemes.project.sql_when_last_used_is_due()
    print_comparison(schemes, timings, queries)
    table_sizes = measure_table_sizes(schemes, plan)

    print("Targets")
    print_auth_cost_target(schemes, timings)
    print_query_target(queries[schemes.project.label], plan.sql_sample, sql_when_due)
    print(
        f"  apikeys cache round trips per request <= 1: {cache_calls:.2f} over "
        f"{plan.sql_sample} requests  {verdict(cache_calls <= 1)}"
    )
    print(
        "    this run's limiter keeps its buckets in the process (local-memory cache); on Redis it "
        "is one EVALSHA per request, counted by tests/apikeys/test_ratelimit_redis.py"
    )
    print_table_size_target(table_sizes, quick=quick)
    print(
        "  last-used writes that landed in timed batches (should be 0): "
        f"{schemes.project.writes_in_timed_batches}"
    )
    print()


def main(argv: Sequence[str] | None = None) -> None:
    run_benchmark(
        argv,
        description=__doc__.split("\n\n")[0],
        quick_help="a ~30 s smoke run",
        name="bench_auth",
        run=lambda quick: run(QUICK if quick else FULL, quick=quick),
        extra_apps=["rest_framework.authtoken", "rest_framework_api_key"],
    )


if __name__ == "__main__":
    main()
