"""Load with faults (SPEC R4): the product as deployed, a mixed workload, and what breaks.

Run:  .venv/bin/python benchmarks/load.py            (about 2 minutes: 60 s of load)
      .venv/bin/python benchmarks/load.py --quick    (about 1 minute: 20 s of load, fewer users)
      .venv/bin/python benchmarks/load.py --duration 120 --users 24
      .venv/bin/python benchmarks/load.py --database-url postgres://postgres@127.0.0.1:5432/bench_load
Needs PostgreSQL (the URL's server; default 127.0.0.1:5432, user postgres) and the redis-server
binary.  Everything listens on 127.0.0.1 only and stops by itself.

What runs.  `config.settings.production` (DEBUG off, every secret from the environment, system
checks at start-up) on a PostgreSQL database the run creates and drops, and a redis-server the
run starts on a free port as the cache.  Two gunicorn app servers (2 workers x 4 threads each,
gthread), each with its own Prometheus multiprocess directory.  The database is migrated, the
US geo directory and two plans are loaded, and four accounts get a large top-up, 20 proxies and
an API key with every scope; the first account also gets three "victim" keys.  Per-key and
per-account rate limits are raised so the workload is never refused for its volume (the limiter
still runs on every request); the per-address failure limit keeps its default.

The workload.  Locust, headless as a library, in a process of its own (`load_driver.py`; gevent
patches the process it runs in): users split between the two servers call every GET endpoint of
/v1/ (the schema and its docs page included), create proxies with an Idempotency-Key (some sent
twice), change and delete them; one user per victim key reads the balance with it.  Meanwhile a
thread of this process records usage through `stats.services.usage_record` (today and, now and
then, an earlier day not yet billed), as the gateway does.

The faults, at fixed fractions of the run: the victim keys are revoked one by one (at 15%, 50%
and 75%) with `api_key_revoke`; a plan's price goes from $4.00 to $5.00 per GB (20%); Redis is
stopped for 5 s and a new, empty one started on its port (30%); every database connection of the
app servers and of the usage recorder is terminated with `pg_terminate_backend` (55% and 80%),
as a failover or a restart would.

The report.  Requests per second, p50 and p99 (ms, Locust's rounding) and status counts per
endpoint; every 5xx and every failed connection (target: 0, faults included); for each victim,
200s answered to requests sent after its revocation returned (target: 0); the servers' own
Prometheus counters (fail-open cache calls, rate-limit refusals, database retries) and ERROR log
lines.  At the end, with the servers stopped: every balance equals the sum of its ledger; every
day's traffic and requests equal what the recorder was told succeeded; every day's cost is its
traffic at the price stored with the day (rounded half up to cents, A16), the price of a day first
billed after the change is the new one and of a day billed before it the old one; the usage
charges in the ledger sum to the days' costs; and every account's daily rollup (what
/v1/user/traffic reads) equals the sum of its proxies' days.  Exit status 1 when a target is
missed.
"""

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import (
    PrivateRedis,
    free_port,
    load_average,
    postgres_database,
    server_connection,
    verdict,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_load"
ACCOUNTS = 4
PROXIES_PER_ACCOUNT = 20
VICTIMS = 3
OLD_PRICE, NEW_PRICE = Decimal("4.00"), Decimal("5.00")
REDIS_OUTAGE_SECONDS = 5.0
SERVERS = 2
WORKERS, THREADS = 2, 4


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s of load with 8 users")
    parser.add_argument("--duration", type=float, help="seconds of load (default 60)")
    parser.add_argument("--users", type=int, help="workload users besides the victims (default 16)")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="a PostgreSQL URL whose database the run creates and drops",
    )
    args = parser.parse_args(argv)
    args.duration = args.duration or (20.0 if args.quick else 60.0)
    args.users = args.users or (8 if args.quick else 16)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL")
    if args.duration < 15:
        parser.error("--duration must be at least 15 seconds (the faults need room)")
    return args


def production_environment(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "API_KEY_SECRET": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "load",
        "EMAIL_URL": "dummy://",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no TLS terminator in front.
        "SECURE_SSL_REDIRECT": "0",
        "API_KEY_RATE_LIMIT": "10000",
        "API_KEY_RATE_BURST": "10000",
    }


# --- Setting the product up -----------------------------------------------------------------------


@dataclass
class Fixture:
    accounts: list[dict]
    victims: list[dict]
    victim_ids: list[int]
    proxies: list  # Proxy rows the usage recorder charges
    plan_id: int


def prepare(database_url: str) -> Fixture:
    """Migrate, load the US geo directory, collect static files, make accounts, keys, proxies."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apikeys.models import Expiration
    from apikeys.scopes import SCOPES
    from apikeys.services import api_key_create
    from billing.models import Plan, ProxyType
    from billing.services import balance_topup
    from proxies.inputs import proxy_create_input
    from proxies.services import proxy_create

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_geo", "--countries", "US", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("collectstatic", verbosity=0, interactive=False)
    plan = Plan.objects.create(
        proxy_type=ProxyType.RESIDENTIAL, title="Load PAYG", price_per_gb=OLD_PRICE
    )
    Plan.objects.create(proxy_type=ProxyType.MOBILE, title="Load mobile", price_per_gb="8.00")
    accounts, victims, victim_ids, proxies = [], [], [], []
    for number in range(ACCOUNTS):
        owner = get_user_model().objects.create_user(
            username=f"load{number}", email=f"load{number}@example.com", password=None
        )
        balance_topup(owner=owner, amount="1000000.00", description="Load run")
        key = api_key_create(
            owner=owner,
            name="load",
            scopes=[scope.name for scope in SCOPES],
            expiration=Expiration.NEVER,
        )
        owned = [
            proxy_create(
                owner_id=owner.pk,
                data=proxy_create_input(
                    {
                        "name": f"p{number}_{index}",
                        "proxy_type": ProxyType.RESIDENTIAL,
                        "tariff_id": plan.pk,
                        "countries": [840],
                    }
                ),
                now=datetime.now(UTC),
            )
            for index in range(PROXIES_PER_ACCOUNT)
        ]
        proxies.extend(owned)
        accounts.append(
            {"key": key.key, "tariff_id": plan.pk, "proxies": [p.public_id for p in owned]}
        )
        if number == 0:
            for index in range(VICTIMS):
                victim = api_key_create(
                    owner=owner, name=f"victim {index}", scopes=["balance:read"]
                )
                victims.append({"label": f"victim {index}", "key": victim.key})
                victim_ids.append(victim.api_key.pk)
    return Fixture(accounts, victims, victim_ids, proxies, plan.pk)


# --- Processes ------------------------------------------------------------------------------------


@dataclass
class AppServer:
    port: int
    log_path: Path
    metrics_dir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, environment: dict[str, str]) -> None:
        self.metrics_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - the server's whole life
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                *("--bind", f"127.0.0.1:{self.port}"),
                *("--workers", str(WORKERS), "--worker-class", "gthread"),
                *("--threads", str(THREADS), "--graceful-timeout", "5"),
                "--no-control-socket",
            ],
            cwd=PROJECT_ROOT,
            env={**environment, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited at start-up; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn on {self.port} did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def metrics(self) -> dict[str, float]:
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as response:
            text = response.read().decode()
        totals: dict[str, float] = defaultdict(float)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    key = sample.name if not label else f"{sample.name}{{{label}}}"
                    totals[key] += sample.value
        return totals


# --- The usage recorder (the gateway) -------------------------------------------------------------


@dataclass
class Recorder:
    """Records usage through the service, as the gateway does, and remembers what succeeded."""

    proxies: list
    stop: threading.Event = field(default_factory=threading.Event)
    bytes: dict = field(default_factory=lambda: defaultdict(int))
    requests: dict = field(default_factory=lambda: defaultdict(int))
    first_billed: dict = field(default_factory=dict)  # (proxy id, day) -> (started, finished)
    succeeded: int = 0
    failed: list = field(default_factory=list)

    def run(self) -> None:
        from django.db import close_old_connections, connection

        from stats.services import usage_record

        chooser = random.Random(7)
        today = datetime.now(UTC).date()
        while not self.stop.is_set():
            proxy = chooser.choice(self.proxies)
            # Mostly today; one record in ten goes to a day of the last 60 not yet billed, so
            # days are first billed both before and after the price change.
            day = today - timedelta(days=chooser.randint(1, 60) if chooser.random() < 0.1 else 0)
            traffic, calls = chooser.randint(1, 3 * 10**8), chooser.randint(1, 500)
            close_old_connections()  # a job boundary: the connection is health-checked
            started = time.time()
            try:
                usage_record(proxy=proxy, day=day, traffic_bytes=traffic, requests=calls)
            except Exception as error:  # the fault under test; judged by the final checks
                self.failed.append(f"{type(error).__name__}: {str(error)[:120]}")
                continue
            finished = time.time()
            self.succeeded += 1
            self.bytes[(proxy.pk, day)] += traffic
            self.requests[(proxy.pk, day)] += calls
            self.first_billed.setdefault((proxy.pk, day), (started, finished))
            time.sleep(0.005)
        connection.close()


# --- Faults ---------------------------------------------------------------------------------------


@dataclass
class Timeline:
    events: list = field(default_factory=list)
    revoked_at: dict = field(default_factory=dict)  # victim label -> epoch seconds
    price_changed: tuple = (0.0, 0.0)  # (started, finished)

    def note(self, started: float, what: str) -> None:
        self.events.append((time.time() - started, what))


def terminate_connections(database_url: str) -> int:
    import dj_database_url

    with server_connection(database_url) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            [dj_database_url.parse(database_url)["NAME"]],
        ).fetchall()
    return sum(1 for (terminated,) in rows if terminated)


def revoke(victim_id: int) -> None:
    from django.db import close_old_connections

    from apikeys.models import APIKey
    from apikeys.services import api_key_revoke

    close_old_connections()
    api_key_revoke(api_key=APIKey.objects.get(pk=victim_id))


def change_price(plan_id: int) -> None:
    from django.db import close_old_connections

    from billing.models import Plan

    close_old_connections()
    Plan.objects.filter(pk=plan_id).update(price_per_gb=NEW_PRICE)  # as the admin's save does


def run_faults(
    *, started: float, duration: float, fixture: Fixture, redis: PrivateRedis, database_url: str
) -> Timeline:
    timeline = Timeline()

    def at(fraction: float) -> None:
        time.sleep(max(0.0, started + fraction * duration - time.time()))

    def redis_outage() -> None:
        redis.stop()
        timeline.note(started, "Redis stopped")
        time.sleep(REDIS_OUTAGE_SECONDS)
        redis.start()
        timeline.note(started, "Redis started again (empty)")

    schedule = [
        (0.15, "revoke", 0),
        (0.20, "price", None),
        (0.30, "redis", None),
        (0.50, "revoke", 1),
        (0.55, "terminate", None),
        (0.75, "revoke", 2),
        (0.80, "terminate", None),
    ]
    outage = None
    for fraction, kind, argument in schedule:
        at(fraction)
        if kind == "revoke":
            revoke(fixture.victim_ids[argument])
            label = fixture.victims[argument]["label"]
            timeline.revoked_at[label] = time.time()
            timeline.note(started, f"{label} revoked")
        elif kind == "price":
            before = time.time()
            change_price(fixture.plan_id)
            timeline.price_changed = (before, time.time())
            timeline.note(started, f"plan price ${OLD_PRICE} -> ${NEW_PRICE} per GB")
        elif kind == "redis":
            outage = threading.Thread(target=redis_outage)
            outage.start()
        else:
            count = terminate_connections(database_url)
            timeline.note(started, f"{count} database connections terminated")
    if outage is not None:
        outage.join()
    return timeline


# --- Checks at the end ----------------------------------------------------------------------------


def consistency(recorder: Recorder, timeline: Timeline) -> list[tuple[str, bool, str]]:
    from django.db import close_old_connections
    from django.db.models import Sum

    from billing.models import Balance, Transaction, TransactionType
    from common.money import round_cents
    from proxies.models import AccountUsageDaily, UsageDaily
    from stats.selectors import usage_rollup_mismatches
    from stats.services import usage_cost

    close_old_connections()
    results = []

    ledger = {
        row["owner_id"]: row["total"]
        for row in Transaction.objects.values("owner_id").annotate(total=Sum("amount"))
    }
    off = [
        (b.owner_id, b.funds_available, ledger.get(b.owner_id))
        for b in Balance.objects.all()
        if b.funds_available != ledger.get(b.owner_id, Decimal("0.00"))
    ]
    results.append(
        ("every balance equals its ledger sum", not off, f"{Balance.objects.count()} accounts")
    )

    rows = {(u.proxy_id, u.date): u for u in UsageDaily.objects.all()}
    mismatched = [
        key
        for key in set(rows) | set(recorder.bytes)
        if key not in rows
        or key not in recorder.bytes
        or rows[key].traffic_bytes != recorder.bytes[key]
        or rows[key].requests != recorder.requests[key]
    ]
    results.append(
        (
            "every usage total equals what was recorded",
            not mismatched,
            f"{len(rows)} proxy-days, {recorder.succeeded} records",
        )
    )

    mispriced = [
        key
        for key, usage in rows.items()
        if usage.cost != round_cents(usage_cost(usage.traffic_bytes, usage.price_per_gb))
    ]
    results.append(
        ("every day costs its traffic at its stored price", not mispriced, f"{len(rows)} days")
    )

    change_started, change_finished = timeline.price_changed
    wrong_price = []
    for key, (first_started, first_finished) in recorder.first_billed.items():
        price = rows[key].price_per_gb if key in rows else None
        if (first_started > change_finished and price != NEW_PRICE) or (
            first_finished < change_started and price != OLD_PRICE
        ):
            wrong_price.append(key)
    after = sum(1 for s, _ in recorder.first_billed.values() if s > change_finished)
    results.append(
        (
            "days keep the price of their first record",
            not wrong_price,
            f"{len(recorder.first_billed) - after} days at ${OLD_PRICE}, {after} at ${NEW_PRICE}",
        )
    )

    charges = Transaction.objects.filter(type=TransactionType.CHARGE).aggregate(t=Sum("amount"))
    costs = UsageDaily.objects.aggregate(t=Sum("cost"))
    charged = -(charges["t"] or Decimal("0.00"))
    results.append(
        (
            "usage charges in the ledger sum to the days' costs",
            charged == (costs["t"] or Decimal("0.00")),
            f"${charged}",
        )
    )
    # The account rollup behind /v1/user/traffic moved with the proxy rows through every fault.
    off_rollup = list(usage_rollup_mismatches(date_from=date.min, date_to=datetime.now(UTC).date()))
    results.append(
        (
            "every account's daily rollup equals its proxies' days",
            not off_rollup,
            f"{AccountUsageDaily.objects.count()} account-days",
        )
    )
    return results


# --- The run --------------------------------------------------------------------------------------


def table(endpoints: list[dict]) -> list[str]:
    lines = [
        f"  {'endpoint':<44} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  statuses"
    ]
    for entry in sorted(endpoints, key=lambda e: -e["requests"]):
        label = f"{entry['method']} {entry['name']}"
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(entry["statuses"].items()))
        lines.append(
            f"  {label:<44} {entry['requests']:>8} {entry['rps']:>7.1f} "
            f"{entry['p50']:>7.0f} {entry['p99']:>7.0f}  {codes}"
        )
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.time()
    work = Path(tempfile.mkdtemp(prefix="load_"))
    redis = PrivateRedis()
    servers = [
        AppServer(free_port(), work / f"server{index}.log", work / f"metrics{index}")
        for index in range(SERVERS)
    ]
    driver = None
    os.environ.update(production_environment(args.database_url, redis.url))
    import django

    django.setup()
    from django.db import connections

    with postgres_database(args.database_url):
        try:
            redis.start()
            fixture = prepare(args.database_url)
            connections.close_all()
            server_environment = {**os.environ}
            for server in servers:
                server.start(server_environment)

            plan_path, report_path = work / "plan.json", work / "report.json"
            plan_path.write_text(
                json.dumps(
                    {
                        "hosts": [server.url for server in servers],
                        "accounts": fixture.accounts,
                        "victims": fixture.victims,
                        "users": args.users,
                        "duration": args.duration,
                    }
                )
            )
            recorder = Recorder(proxies=fixture.proxies)
            recording = threading.Thread(target=recorder.run)
            driver_script = Path(__file__).with_name("load_driver.py")
            driver = subprocess.Popen(
                [sys.executable, str(driver_script), str(plan_path), str(report_path)],
                cwd=PROJECT_ROOT,
                stdout=subprocess.PIPE,
                stderr=open(work / "driver.log", "wb"),  # noqa: SIM115
                text=True,
            )
            line = driver.stdout.readline()
            if not line.startswith("STARTED"):
                raise SystemExit(f"the Locust driver did not start; see {work / 'driver.log'}")
            started = float(line.split()[1])
            recording.start()
            timeline = run_faults(
                started=started,
                duration=args.duration,
                fixture=fixture,
                redis=redis,
                database_url=args.database_url,
            )
            if driver.wait(timeout=args.duration + 120) != 0:
                raise SystemExit(f"the Locust driver failed; see {work / 'driver.log'}")
            recorder.stop.set()
            recording.join()
            metrics = [server.metrics() for server in servers]
        finally:
            if driver is not None and driver.poll() is None:
                driver.kill()
            for server in servers:
                server.stop()
            redis.stop()
        report = json.loads(report_path.read_text())
        checks = consistency(recorder, timeline)
        connections.close_all()
    held = print_report(args, report, timeline, recorder, metrics, servers, checks)
    if held:
        shutil.rmtree(work)
    else:
        print(f"Logs of the run kept in {work}")
    print(f"Finished in {time.time() - began:.0f} s; load average now {load_average()}")
    return 0 if held else 1


def log_errors(path: Path) -> list[str]:
    """ERROR lines and the exception line ending each traceback of a server's log."""
    found, in_traceback = [], False
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line.startswith(" "):
            found.append(f"traceback: {line}")
            in_traceback = False
        elif "ERROR" in line:
            found.append(line)
    return found


def print_report(args, report, timeline, recorder, metrics, servers, checks) -> bool:
    total = report["total"]
    seconds = report["finished"] - report["started"]
    print(
        f"Load: {args.users} workload users + {VICTIMS} victim users for {seconds:.0f} s against "
        f"{SERVERS} gunicorn servers ({WORKERS} workers x {THREADS} threads each), "
        f"production settings, PostgreSQL, private Redis; {os.cpu_count()} CPUs"
    )
    print(
        f"Total: {total['requests']} requests, {total['rps']:.1f} req/s, "
        f"p50 {total['p50']:.0f} ms, p99 {total['p99']:.0f} ms"
    )
    print("\n".join(table(report["endpoints"])))
    print("Faults (seconds into the run):")
    for offset, what in timeline.events:
        print(f"  {offset:6.1f}  {what}")

    server_errors = report["server_errors"]
    print(f"5xx responses and failed connections: {len(server_errors)} (target 0)")
    for error in server_errors:
        offset = error["at"] - report["started"]
        print(f"  {offset:6.1f}  {error['method']} {error['name']} -> {error['status']}: ")
        print(f"          {error['body'][:200]}")

    late_successes = 0
    for label, revoked_at in sorted(timeline.revoked_at.items()):
        after = [r for r in report["victim_requests"] if r["victim"] == label]
        late = [r for r in after if r["at"] >= revoked_at and r["status"] == 200]
        refused = [r for r in after if r["at"] >= revoked_at and r["status"] == 401]
        before = [r for r in after if r["at"] < revoked_at and r["status"] == 200]
        late_successes += len(late)
        print(
            f"  {label}: {len(before)} answered 200 before revocation, {len(refused)} refused "
            f"(401) after it, {len(late)} answered 200 after it"
        )
    print(f"Revoked-key requests answered 200 after revocation: {late_successes} (target 0)")

    print("Server counters (Prometheus, both servers):")
    summed: dict[str, float] = defaultdict(float)
    for values in metrics:
        for name, value in values.items():
            if not name.startswith("http_requests_total"):
                summed[name] += value
    for name, value in sorted(summed.items()):
        print(f"  {name} = {value:.0f}")
    error_lines = [line for server in servers for line in log_errors(server.log_path)]
    print(f"Errors in the servers' logs: {len(error_lines)}")
    for line in error_lines[:10]:
        print(f"  {line[:200]}")
    print(
        f"Usage recorder: {recorder.succeeded} records through usage_record, "
        f"{len(recorder.failed)} failed"
    )
    for failure in recorder.failed[:5]:
        print(f"  {failure}")
    for error in report["errors"]:
        if not error["error"].startswith("status 5"):
            print(f"Locust failure: {error['method']} {error['name']}: {error['error']}")
    print("Consistency:")
    for label, held, detail in checks:
        print(f"  {verdict(held)}  {label} ({detail})")
    held_all = not server_errors and late_successes == 0 and all(held for _, held, _ in checks)
    print(f"{verdict(held_all)}: 0 5xx, 0 revoked-key successes, consistent ledger and usage")
    return held_all


if __name__ == "__main__":
    sys.exit(main())
