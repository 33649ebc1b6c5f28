"""usage_record_batch: a gateway's batch applied in chunks, each one transaction, writing exactly
what `usage_record` called for each entry in turn writes; a failed chunk writes nothing and stops
the batch, and the report says what applied."""

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import Balance, Transaction
from common.money import round_cents
from proxies.models import AccountUsageDaily, Proxy, SuspensionReason, UsageDaily
from proxies.services import proxy_delete
from stats import services
from stats.services import (
    MAX_BYTES_PER_RECORD,
    ChunkStatus,
    UsageBatchReport,
    UsageEntry,
    usage_cost,
    usage_record,
    usage_record_batch,
)
from tests.concurrency import run_in_parallel, skip_unless_postgres
from tests.factories import PlanFactory, UserFactory, update_proxy
from tests.ledger import assert_balance_is_ledger_sum

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
GB = 10**9
# Days back from TODAY that entries fall on: today (most), the days before, and February (last
# month: outside the monthly limits' period).
DAYS_BACK = (0, 0, 0, 0, 1, 1, 2, 5, 13, 14, 20, 40)
SIZES = (0, 1, 999, 1_250_000, 4_000_000, 123_456_789, 333_333_333, GB, 3 * GB)


@pytest.fixture
def now():
    return NOW


def state() -> dict:
    """Everything recording usage writes, comparable between two runs on the same fixtures: the
    proxy-days, the account rollup, each account's ledger in booking order (every field but the
    random tx_id and the key), balances and statuses."""
    return {
        "usage": sorted(
            UsageDaily.objects.values_list(
                "proxy_id", "owner_id", "date", "traffic_bytes", "requests", "cost", "price_per_gb"
            )
        ),
        "rollup": sorted(
            AccountUsageDaily.objects.values_list(
                "owner_id", "date", "traffic_bytes", "requests", "cost"
            )
        ),
        "ledger": list(
            Transaction.objects.order_by("owner_id", "pk").values_list(
                "owner_id",
                "type",
                "source",
                "amount",
                "currency",
                "description",
                "proxy_id",
                "created_at",
            )
        ),
        "balances": sorted(
            Balance.objects.values_list("owner_id", "funds_available", "updated_at")
        ),
        "proxies": sorted(
            Proxy.objects.values_list(
                "pk", "enabled", "status", "suspended_reason", "suspended_until", "updated_at"
            )
        ),
    }


def one_by_one(entries: list[UsageEntry]) -> list[Decimal]:
    """Each entry through `usage_record`, in order; returns what each charged."""
    return [
        usage_record(
            proxy=entry.proxy,
            day=entry.day,
            traffic_bytes=entry.traffic_bytes,
            requests=entry.requests,
            now=NOW,
        ).charged
        for entry in entries
    ]


def then_undo(run):
    """What `run()` returns and the state it leaves, then the database as it was before it."""
    savepoint = transaction.savepoint_create()
    try:
        return run(), state()
    finally:
        transaction.savepoint_rollback(savepoint)


def assert_days_are_their_rounded_totals() -> None:
    """Independent of how records were applied: each day's cost is its traffic at its stored
    price, rounded once (SPEC 3.3), and the day's charges add up to it."""
    for usage in UsageDaily.objects.all():
        assert usage.cost == round_cents(usage_cost(usage.traffic_bytes, usage.price_per_gb))
        charged = -sum(
            Transaction.objects.filter(
                proxy=usage.proxy,
                description=f"Traffic of {usage.proxy.name} on {usage.date:%Y-%m-%d}",
            ).values_list("amount", flat=True),
            Decimal("0.00"),
        )
        assert charged == usage.cost


# --- Equivalence with one record at a time ------------------------------------------------------


def random_world(rng: random.Random, fund, make_proxy, record) -> tuple[list[UsageEntry], dict]:
    """Three accounts (plenty of funds, some, and almost none), proxies on four plans with and
    without limits, one switched off, one deleted yesterday and one without traffic; days priced
    before their plan's price rose (A16).  Returns a random batch for them and the actors."""
    cheap, odd, dear = (PlanFactory(price_per_gb=Decimal(p)) for p in ("0.07", "3.33", "12.50"))
    repriced = PlanFactory(price_per_gb=Decimal("2.00"))
    rich = fund(UserFactory(), "100000.00")
    modest = fund(UserFactory(), f"{rng.randint(50, 300)}.00")
    poor = fund(UserFactory(), f"{rng.randint(2, 20)}.{rng.randint(0, 99):02d}")
    limits = [
        None,
        None,
        {"limit_type": "traffic", "time_period": "daily", "total_limit": 2 * GB},
        {"limit_type": "traffic", "time_period": "monthly", "total_limit": rng.randint(1, 9) * GB},
        {"limit_type": "money", "time_period": "daily", "total_limit": f"{rng.randint(1, 30)}.00"},
        {"limit_type": "money", "time_period": "monthly", "total_limit": "25.00"},
    ]
    proxies: list[Proxy] = []
    for owner in (rich, modest, poor):
        for n in range(rng.randint(3, 5)):
            plan = rng.choice((cheap, odd, dear, repriced))
            limit = rng.choice(limits)
            proxies.append(
                make_proxy(owner, f"p{n}", plan=plan, **({"limits": limit} if limit else {}))
            )
    capped = make_proxy(rich, "capped", plan=odd, limits=limits[2])
    spender = make_proxy(poor, "spender", plan=dear)
    idle = make_proxy(poor, "idle", plan=cheap)  # no traffic: suspended when the balance runs out
    switched_off = update_proxy(proxy=make_proxy(modest, "off", plan=dear), status="inactive")
    gone = make_proxy(rich, "gone", plan=odd)
    proxies += [capped, spender, switched_off, make_proxy(modest, "repriced", plan=repriced)]
    # Days already billed at $2.00/GB; their later records stay at that price.
    for offset in (0, 1, 5):
        for proxy in proxies:
            if proxy.plan_id == repriced.pk:
                record(proxy, GB // 3, 3, day=TODAY - timedelta(days=offset))
    record(gone, GB, day=TODAY - timedelta(days=2))
    proxy_delete(proxy=gone, now=NOW - timedelta(days=1))
    gone.refresh_from_db()
    repriced.price_per_gb = Decimal("7.00")
    repriced.save()

    entries = [
        UsageEntry(
            rng.choice(proxies),
            TODAY - timedelta(days=rng.choice(DAYS_BACK)),
            rng.choice(SIZES) + rng.randrange(1000),
            rng.randrange(500),
        )
        for _ in range(rng.randint(60, 140))
    ]
    # Sure to happen in every batch: the poor account runs out, the capped proxy reaches its
    # daily limit, and the deleted proxy still reports traffic of the day before its deletion.
    entries += [UsageEntry(spender, TODAY, 2 * GB, 10) for _ in range(3)]
    entries += [UsageEntry(capped, TODAY, GB, 5) for _ in range(3)]
    entries += [UsageEntry(gone, TODAY - timedelta(days=1), GB // 7, 1)]
    rng.shuffle(entries)
    return entries, {"rich": rich, "poor": poor, "capped": capped, "idle": idle}


@pytest.mark.parametrize("seed", range(6))
def test_a_random_batch_writes_what_usage_record_writes_one_entry_at_a_time(
    seed, fund, make_proxy, record
):
    rng = random.Random(seed)
    entries, actors = random_world(rng, fund, make_proxy, record)
    chunk_size = rng.choice([1, 2, 7, 25, 10_000])

    charged, expected = then_undo(lambda: one_by_one(entries))
    report = usage_record_batch(entries=entries, chunk_size=chunk_size, now=NOW)

    assert state() == expected
    assert report.ok and report.failed is None
    assert len(report.chunks) == math.ceil(len(entries) / chunk_size)
    assert [(chunk.start, chunk.stop) for chunk in report.chunks] == [
        (start, min(start + chunk_size, len(entries)))
        for start in range(0, len(entries), chunk_size)
    ]
    assert [chunk.charged for chunk in report.chunks] == [
        sum(charged[chunk.start : chunk.stop], Decimal("0.00")) for chunk in report.chunks
    ]
    assert report.applied_rows == len(entries)
    # The scenario happened as designed, and the results hold independently of the comparison.
    assert Balance.objects.get(owner=actors["poor"]).funds_available <= 0
    actors["capped"].refresh_from_db()
    assert actors["capped"].suspended_reason == SuspensionReason.LIMIT
    actors["idle"].refresh_from_db()
    assert actors["idle"].suspended_reason == SuspensionReason.BALANCE
    assert_days_are_their_rounded_totals()
    for owner in (actors["rich"], actors["poor"]):
        assert_balance_is_ledger_sum(owner)


def test_a_day_priced_before_the_batch_keeps_its_price(funded, make_proxy, record):
    """A16 through the batch: the day's first record priced it; a raised price applies to the
    days the batch prices itself."""
    plan = PlanFactory(price_per_gb=Decimal("1.00"))
    proxy = make_proxy(funded, plan=plan)
    record(proxy, GB)
    plan.price_per_gb = Decimal("5.00")
    plan.save()
    yesterday = TODAY - timedelta(days=1)
    usage_record_batch(
        entries=[UsageEntry(proxy, TODAY, GB, 1), UsageEntry(proxy, yesterday, GB, 1)],
        chunk_size=1,
        now=NOW,
    )
    days = dict(UsageDaily.objects.values_list("date", "price_per_gb"))
    assert days == {TODAY: Decimal("1.00"), yesterday: Decimal("5.00")}
    assert UsageDaily.objects.get(date=TODAY).cost == Decimal("2.00")


# --- Chunks: all or nothing each, and the report ------------------------------------------------


@pytest.fixture
def two_accounts(fund, make_proxy):
    """A proxy each for two accounts (the first created first, so it is locked first)."""
    first = make_proxy(fund(UserFactory(), "500.00"), "first")
    second = make_proxy(fund(UserFactory(), "500.00"), "second")
    return first, second


def ten_entries(first, second) -> list[UsageEntry]:
    """Both accounts in every chunk of four; sizes that make every record charge."""
    return [
        UsageEntry(first if n % 2 == 0 else second, TODAY - timedelta(days=n % 3), GB + n, n)
        for n in range(10)
    ]


def test_a_chunk_that_fails_writes_nothing_and_the_batch_stops(two_accounts):
    """The second chunk fails after its first account's usage, rollup, ledger and balance are
    written and while its second account's are: none of it stays, the first chunk does."""
    entries = ten_entries(*two_accounts)
    _, after_first_chunk = then_undo(lambda: one_by_one(entries[:4]))
    charged, after_everything = then_undo(lambda: one_by_one(entries))
    real = services.balance_charge_bulk
    calls = []

    def fail_on_the_fourth_call(**kwargs):
        calls.append(kwargs["balance"].owner_id)
        booked = real(**kwargs)
        if len(calls) == 4:  # chunk 1: calls 1 and 2; chunk 2: 3 and 4
            raise RuntimeError("disk full")
        return booked

    with mock.patch.object(services, "balance_charge_bulk", fail_on_the_fourth_call):
        report = usage_record_batch(entries=entries, chunk_size=4, now=NOW)

    assert state() == after_first_chunk
    assert [(c.number, c.start, c.stop, c.status) for c in report.chunks] == [
        (1, 0, 4, ChunkStatus.APPLIED),
        (2, 4, 8, ChunkStatus.FAILED),
        (3, 8, 10, ChunkStatus.NOT_ATTEMPTED),
    ]
    assert report.chunks[0].charged == sum(charged[:4]) == report.charged
    assert report.chunks[1].error == "RuntimeError: disk full"
    assert report.chunks[1].charged == report.chunks[2].charged == Decimal("0.00")
    assert (report.ok, report.failed, report.applied_rows) == (False, report.chunks[1], 4)
    assert report.summary() == (
        f"Recorded 4 of 10 entries in 1 of 3 chunks, charged {report.charged} USD. Chunk 2 "
        "(entries 4-7) failed and was rolled back: RuntimeError: disk full; entries from 4 on "
        "were not recorded."
    )
    assert len(calls) == 4  # chunk 3 was not attempted

    # The documented way on: the entries from the failed chunk's start, sent again.
    assert usage_record_batch(entries=entries[report.applied_rows :], chunk_size=4, now=NOW).ok
    assert state() == after_everything


def test_a_database_error_rolls_its_chunk_back(fund, make_proxy):
    """A real failure in the database layer: a day whose traffic would pass the largest value
    the column holds (2^63 - 1).  PostgreSQL refuses the value; SQLite's driver cannot bind it."""
    good = make_proxy(fund(UserFactory(), "500.00"), "good")
    full = make_proxy(fund(UserFactory(), "500.00"), "full", plan=PlanFactory(price_per_gb=0))
    UsageDaily.objects.create(
        proxy=full,
        owner=full.owner,
        date=TODAY,
        traffic_bytes=2**63 - MAX_BYTES_PER_RECORD // 2,
        price_per_gb=Decimal("0.00"),
    )
    entries = [
        UsageEntry(good, TODAY, GB, 1),
        UsageEntry(good, TODAY, GB, 1),
        UsageEntry(good, TODAY, GB, 1),  # chunk 2: written first (its account is locked first)
        UsageEntry(full, TODAY, MAX_BYTES_PER_RECORD, 1),
    ]
    _, after_first_chunk = then_undo(lambda: one_by_one(entries[:2]))

    report = usage_record_batch(entries=entries, chunk_size=2, now=NOW)

    assert state() == after_first_chunk
    assert [chunk.status for chunk in report.chunks] == [ChunkStatus.APPLIED, ChunkStatus.FAILED]
    error_type = report.chunks[1].error.split(":")[0]
    assert error_type == ("DataError" if connection.vendor == "postgresql" else "OverflowError")
    # The connection is usable again after the failed chunk.
    assert UsageDaily.objects.get(proxy=good).traffic_bytes == 2 * GB


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"day": TODAY + timedelta(days=1)}, "date", "entry 7: date 2026-03-15 is in the future"),
        ({"traffic_bytes": -1}, "traffic_bytes", "entry 7: traffic_bytes '-1' is not a whole"),
        ({"requests": "3"}, "requests", "entry 7: requests '3' is not a whole number"),
        ({"recorded_at": NOW + timedelta(seconds=1)}, "recorded_at", "entry 7: recorded_at"),
    ],
)
def test_a_bad_entry_in_any_chunk_writes_nothing_at_all(two_accounts, bad, field, message):
    """Entries are checked before the first chunk: a bad entry in the last chunk stops the
    batch before chunk 1 is written."""
    entries = ten_entries(*two_accounts)
    entry = entries[7]
    entries[7] = UsageEntry(
        **{
            "proxy": entry.proxy,
            "day": entry.day,
            "traffic_bytes": entry.traffic_bytes,
            "requests": entry.requests,
        }
        | bad
    )
    before = state()
    with pytest.raises(ValidationError) as error:
        usage_record_batch(entries=entries, chunk_size=2, now=NOW)
    assert list(error.value.message_dict) == [field]
    assert error.value.message_dict[field][0].startswith(message)
    assert state() == before


def test_chunks_are_at_least_one_entry(two_accounts):
    with pytest.raises(ValueError, match="chunk_size must be at least 1"):
        usage_record_batch(entries=ten_entries(*two_accounts), chunk_size=0, now=NOW)


def test_an_empty_batch_has_no_chunks():
    report = usage_record_batch(entries=[], now=NOW)
    assert (report.chunks, report.ok, report.applied_rows, report.charged) == (
        (),
        True,
        0,
        Decimal("0.00"),
    )


def test_the_queries_of_a_chunk_do_not_grow_with_its_entries(two_accounts):
    """Each account is locked, read and written once per chunk, whatever its number of entries:
    grouped per proxy and day, with one statement per few hundred rows written."""

    def queries(per_chunk: int) -> int:
        entries = [
            UsageEntry(two_accounts[n % 2], TODAY - timedelta(days=n % 50), 10**6 * (n + 1), 1)
            for n in range(2 * per_chunk)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert usage_record_batch(entries=entries, chunk_size=per_chunk, now=NOW).ok
        return len(captured)

    assert queries(4) == queries(200)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_running_at_once_lose_nothing_and_never_deadlock(fund, make_proxy):
    """Four gateway workers send batches over the same three accounts, half of them in the
    opposite order, in chunks of seven: every chunk locks its accounts in one order, so all
    apply, and every proxy-day holds exactly the sum of what was sent."""
    skip_unless_postgres()
    owners = [fund(UserFactory(), "100000.00") for _ in range(3)]
    proxies = [make_proxy(owner, f"p{n}") for owner in owners for n in range(2)]

    def entries(worker: int) -> list[UsageEntry]:
        order = proxies if worker % 2 == 0 else proxies[::-1]
        return [
            UsageEntry(order[n % len(order)], TODAY, 1_234_567 * (worker + 1) + 7_654_321 * n, 1)
            for n in range(42)
        ]

    reports = run_in_parallel(
        4, lambda worker: usage_record_batch(entries=entries(worker), chunk_size=7, now=NOW)
    )

    # A worker's exception (a deadlock, say) is returned in its report's place.
    assert all(isinstance(r, UsageBatchReport) and r.ok for r in reports), reports
    sent: dict[int, int] = {}
    for worker in range(4):
        for entry in entries(worker):
            sent[entry.proxy.pk] = sent.get(entry.proxy.pk, 0) + entry.traffic_bytes
    assert dict(UsageDaily.objects.values_list("proxy_id", "traffic_bytes")) == sent
    assert_days_are_their_rounded_totals()
    for owner in owners:
        assert_balance_is_ledger_sum(owner)
