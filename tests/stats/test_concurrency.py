"""usage_record and the ledger under real concurrency (PostgreSQL): nothing lost, nothing doubled.

Each thread has its own database connection and transaction, as gateway workers would.  After the
parallel runs every total is compared with what a serial run must give: traffic and requests per
proxy-day, the day's cost (the rounded total), the charges (summing to the cost) and the balance
(the ledger's sum).
"""

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db.models import Sum

from billing.models import Transaction, TransactionType
from billing.services import balance_topup
from proxies.models import AccountUsageDaily, Proxy, ProxyStatus, SuspensionReason, UsageDaily
from stats.selectors import usage_rollup_mismatches
from stats.services import UsageEntry, usage_record, usage_record_bulk
from tests.concurrency import run_in_parallel, skip_unless_postgres
from tests.factories import PlanFactory, UserFactory, update_proxy
from tests.ledger import assert_balance_is_ledger_sum, ledger_sum

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
PRICE = Decimal("3.33")
FUNDS = "100000"
CENTS = Decimal("0.01")


@pytest.fixture(autouse=True)
def _needs_postgres():
    skip_unless_postgres()


@pytest.fixture
def now():
    """`fund` and `make_proxy` act at NOW."""
    return NOW


@pytest.fixture
def plan(db):
    """Proxies here are on a plan at PRICE, so every record is rounded."""
    return PlanFactory(price_per_gb=PRICE)


def sizes_for(worker: int, count: int) -> list[int]:
    """Awkward record sizes, different per worker, so rounding is exercised on every record."""
    return [1_234_567 * (worker + 1) + 7_654_321 * step for step in range(count)]


def assert_day_exact(proxy: Proxy, traffic_bytes: int, requests: int) -> None:
    usage = UsageDaily.objects.get(proxy=proxy, date=TODAY)
    cost = (Decimal(traffic_bytes) * PRICE / 10**9).quantize(CENTS, ROUND_HALF_UP)
    assert (usage.traffic_bytes, usage.requests, usage.cost) == (traffic_bytes, requests, cost)
    assert -ledger_sum(proxy=proxy, type=TransactionType.CHARGE) == cost


def test_parallel_records_for_one_proxy_lose_nothing(fund, make_proxy):
    owner = fund(UserFactory(), FUNDS)
    proxy = make_proxy(owner, "busy")
    workers, per_worker = 8, 15

    def work(index: int) -> None:
        for size in sizes_for(index, per_worker):
            usage_record(proxy=proxy, day=TODAY, traffic_bytes=size, requests=index + 1, now=NOW)

    assert run_in_parallel(workers, work) == [None] * workers
    traffic = sum(sum(sizes_for(i, per_worker)) for i in range(workers))
    requests = sum((i + 1) * per_worker for i in range(workers))
    assert_day_exact(proxy, traffic, requests)
    assert UsageDaily.objects.filter(proxy=proxy).count() == 1
    balance = assert_balance_is_ledger_sum(owner)
    assert balance == Decimal(FUNDS) - UsageDaily.objects.get(proxy=proxy).cost


def test_parallel_records_for_several_proxies_of_one_account_lose_nothing(fund, make_proxy):
    owner = fund(UserFactory(), FUNDS)
    proxies = [make_proxy(owner, f"p{i}") for i in range(4)]
    workers, per_worker = 8, 12

    def work(index: int) -> None:
        # Every worker writes to every proxy, in a different order, so locks are contended.
        for step, size in enumerate(sizes_for(index, per_worker)):
            proxy = proxies[(index + step) % len(proxies)]
            usage_record(proxy=proxy, day=TODAY, traffic_bytes=size, requests=1, now=NOW)

    assert run_in_parallel(workers, work) == [None] * workers
    for position, proxy in enumerate(proxies):
        expected = [
            (size, 1)
            for index in range(workers)
            for step, size in enumerate(sizes_for(index, per_worker))
            if (index + step) % len(proxies) == position
        ]
        assert_day_exact(proxy, sum(s for s, _ in expected), len(expected))
    costs = sum(UsageDaily.objects.filter(owner=owner).values_list("cost", flat=True))
    assert assert_balance_is_ledger_sum(owner) == Decimal(FUNDS) - costs


def test_parallel_charges_and_topups_keep_the_balance_equal_to_the_ledger(fund, make_proxy):
    owner = fund(UserFactory(), "50")
    proxy = make_proxy(owner, "p")
    workers, per_worker = 8, 10

    def work(index: int) -> None:
        for step in range(per_worker):
            if index % 2:
                balance_topup(owner=owner, amount="0.37", now=NOW)
            else:
                usage_record(
                    proxy=proxy, day=TODAY, traffic_bytes=12_345_678 + step, requests=1, now=NOW
                )

    assert run_in_parallel(workers, work) == [None] * workers
    topups = Transaction.objects.filter(owner=owner, type=TransactionType.TOP_UP)
    assert topups.count() == 1 + (workers // 2) * per_worker
    balance = assert_balance_is_ledger_sum(owner)
    cost = UsageDaily.objects.get(proxy=proxy).cost
    assert balance == Decimal("50") + Decimal("0.37") * (workers // 2) * per_worker - cost


def test_parallel_records_that_exhaust_the_balance_suspend_every_proxy(fund, make_proxy):
    owner = fund(UserFactory(), "1.00")
    proxies = [make_proxy(owner, f"p{i}") for i in range(3)]
    switched_off = make_proxy(owner, "off")
    update_proxy(proxy=switched_off, status="inactive", now=NOW)

    def work(index: int) -> None:
        # 100 MB at $3.33/GB costs $0.333 -> $0.33: twelve of them overdraw $1.00.
        for _ in range(3):
            usage_record(
                proxy=proxies[index % 3], day=TODAY, traffic_bytes=10**8, requests=1, now=NOW
            )

    assert run_in_parallel(4, work) == [None] * 4
    balance = assert_balance_is_ledger_sum(owner)
    assert balance < 0
    for proxy in proxies:
        proxy.refresh_from_db()
        assert (proxy.status, proxy.suspended_reason) == (
            ProxyStatus.SUSPENDED,
            SuspensionReason.BALANCE,
        )
    switched_off.refresh_from_db()
    assert switched_off.status == ProxyStatus.INACTIVE


def test_limit_changes_topups_and_records_at_once_do_not_deadlock(fund, make_proxy):
    owner = fund(UserFactory(), "20")
    proxies = [
        make_proxy(
            owner,
            f"p{i}",
            limits={"limit_type": "traffic", "time_period": "daily", "total_limit": 10**12},
        )
        for i in range(3)
    ]

    def work(index: int) -> None:
        for step in range(8):
            proxy = proxies[(index + step) % 3]
            if index % 3 == 0:
                total = 10**12 - step
                limits = {"limit_type": "traffic", "time_period": "daily", "total_limit": total}
                update_proxy(proxy=proxy, limits=limits, now=NOW)
            elif index % 3 == 1:
                balance_topup(owner=owner, amount="0.01", now=NOW)
            else:
                usage_record(proxy=proxy, day=TODAY, traffic_bytes=10**7, requests=1, now=NOW)

    assert run_in_parallel(6, work) == [None] * 6
    assert_balance_is_ledger_sum(owner)
    assert sum(UsageDaily.objects.filter(owner=owner).values_list("traffic_bytes", flat=True)) == (
        2 * 8 * 10**7
    )


def test_records_of_different_accounts_run_side_by_side(fund, make_proxy):
    owners = [fund(UserFactory(), FUNDS) for _ in range(4)]
    proxies = [make_proxy(owner, "same_name") for owner in owners]

    def work(index: int) -> None:
        for size in sizes_for(index, 10):
            usage_record(
                proxy=proxies[index % 4], day=TODAY, traffic_bytes=size, requests=1, now=NOW
            )

    assert run_in_parallel(8, work) == [None] * 8
    for position, (owner, proxy) in enumerate(zip(owners, proxies, strict=True)):
        mine = [i for i in range(8) if i % 4 == position]
        assert_day_exact(proxy, sum(sum(sizes_for(i, 10)) for i in mine), 10 * len(mine))
        assert_balance_is_ledger_sum(owner)


def test_parallel_writers_keep_the_account_rollup_the_sum_of_its_proxy_days(fund, make_proxy):
    """Workers record for the same two accounts and the same few days at once, single records
    and batches spanning both accounts: each account-day's rollup row ends up exactly the sum of
    its proxy rows, and both exactly what was recorded."""
    owners = [fund(UserFactory(), FUNDS) for _ in range(2)]
    proxies = [make_proxy(owner, f"p{i}") for owner in owners for i in range(3)]
    days = [TODAY - timedelta(days=offset) for offset in range(4)]
    workers, per_worker = 8, 12

    def plan(index: int) -> list[list[UsageEntry]]:
        """The worker's transactions: a single record, or a batch of three across accounts."""
        transactions = []
        for step, size in enumerate(sizes_for(index, per_worker)):
            one = UsageEntry(proxies[(index + step) % 6], days[(index + step) % 4], size, step + 1)
            if step % 3:
                transactions.append([one])
            else:
                others = [
                    UsageEntry(proxies[(index + step + n) % 6], days[(step + n) % 4], size // n, n)
                    for n in (2, 3)
                ]
                transactions.append([one, *others])
        return transactions

    def work(index: int) -> None:
        for entries in plan(index):
            if len(entries) == 1:
                [one] = entries
                usage_record(
                    proxy=one.proxy,
                    day=one.day,
                    traffic_bytes=one.traffic_bytes,
                    requests=one.requests,
                    now=NOW,
                )
            else:
                usage_record_bulk(entries=entries, now=NOW)

    assert run_in_parallel(workers, work) == [None] * workers
    recorded: dict[tuple[int, object], list[int]] = {}
    for index in range(workers):
        for entries in plan(index):
            for entry in entries:
                totals = recorded.setdefault((entry.proxy.owner_id, entry.day), [0, 0])
                totals[0] += entry.traffic_bytes
                totals[1] += entry.requests
    detail = {
        (row["owner_id"], row["date"]): (row["traffic"], row["requests"], row["cost"])
        for row in UsageDaily.objects.values("owner_id", "date").annotate(
            traffic=Sum("traffic_bytes"), requests=Sum("requests"), cost=Sum("cost")
        )
    }
    rollup = {
        (row.owner_id, row.date): (row.traffic_bytes, row.requests, row.cost)
        for row in AccountUsageDaily.objects.all()
    }
    assert rollup == detail
    assert len(rollup) == 8  # both accounts, all four days
    assert {key: [traffic, requests] for key, (traffic, requests, _) in rollup.items()} == recorded
    assert list(usage_rollup_mismatches(date_from=days[-1], date_to=TODAY)) == []
    for owner in owners:
        charged = -ledger_sum(owner=owner, type=TransactionType.CHARGE)
        assert charged == sum(
            cost for (owner_id, _), (_, _, cost) in rollup.items() if owner_id == owner.pk
        )
