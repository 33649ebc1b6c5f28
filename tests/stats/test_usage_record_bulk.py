"""usage_record_bulk: a batch writes what `usage_record` for each record in turn would write, in a
number of queries that does not grow with the records."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Balance, Transaction
from proxies.models import ProxyStatus, SuspensionReason, UsageDaily
from stats.services import UsageEntry, usage_record, usage_record_bulk
from tests.factories import PlanFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - timedelta(days=1)
GB = 10**9


@pytest.fixture
def now():
    return NOW


def written(owner) -> dict:
    """Everything recording usage writes for an account, comparable across accounts."""
    return {
        "usage": sorted(
            UsageDaily.objects.filter(owner=owner).values_list(
                "proxy__name", "date", "traffic_bytes", "requests", "cost", "price_per_gb"
            )
        ),
        "ledger": sorted(
            Transaction.objects.filter(owner=owner).values_list(
                "type", "source", "amount", "description", "created_at", "proxy__name"
            ),
            key=str,
        ),
        "balance": Balance.objects.get(owner=owner).funds_available,
        "proxies": sorted(
            owner.proxies.values_list(
                "name", "status", "suspended_reason", "suspended_until", "updated_at"
            )
        ),
    }


def test_a_batch_writes_what_usage_record_would_record_by_record(fund, make_proxy, record):
    """Two accounts, interleaved: repeated proxy-days, records too small to charge alone, a day
    priced before its plan's price changed (A16), a daily limit reached mid-batch, and a balance
    that runs out, which suspends even the proxy the batch did not touch."""
    old_price = PlanFactory(price_per_gb=Decimal("3.00"))
    worlds = []
    for _ in range(2):
        rich, poor = fund(UserFactory(), "100.00"), fund(UserFactory(), "5.00")
        proxies = {
            "capped": make_proxy(
                rich,
                "capped",
                limits={"limit_type": "money", "time_period": "daily", "total_limit": "5.00"},
            ),
            "repriced": make_proxy(rich, "repriced", plan=old_price),
            "busy": make_proxy(poor, "busy"),
            "idle": make_proxy(poor, "idle"),
        }
        record(proxies["repriced"], GB // 3, 10, day=YESTERDAY)
        worlds.append((rich, poor, proxies))
    old_price.price_per_gb = Decimal("9.00")
    old_price.save()

    def entries(proxies) -> list[UsageEntry]:
        return [
            UsageEntry(proxies["capped"], TODAY, GB, 100),
            UsageEntry(proxies["busy"], TODAY, GB // 2, 40),
            UsageEntry(proxies["repriced"], YESTERDAY, GB // 3, 10),
            UsageEntry(proxies["capped"], TODAY, 1_000, 1),
            UsageEntry(proxies["capped"], TODAY, 1_000, 1),
            UsageEntry(proxies["capped"], YESTERDAY, 2_000, 2),
            UsageEntry(proxies["busy"], YESTERDAY, GB, 90),
            UsageEntry(proxies["capped"], TODAY, GB // 4, 30),
            UsageEntry(proxies["repriced"], TODAY, GB, 10),
        ]

    (one_rich, one_poor, one), (bulk_rich, bulk_poor, bulk) = worlds
    one_by_one = [
        usage_record(
            proxy=e.proxy, day=e.day, traffic_bytes=e.traffic_bytes, requests=e.requests, now=NOW
        ).charged
        for e in entries(one)
    ]
    results = usage_record_bulk(entries=entries(bulk), now=NOW)

    assert [result.charged for result in results] == one_by_one
    assert written(bulk_rich) == written(one_rich)
    assert written(bulk_poor) == written(one_poor)
    capped, idle = (bulk[name] for name in ("capped", "idle"))
    capped.refresh_from_db()
    idle.refresh_from_db()
    assert capped.suspended_reason == SuspensionReason.LIMIT
    assert (idle.status, idle.suspended_reason) == (ProxyStatus.SUSPENDED, SuspensionReason.BALANCE)
    assert results[0].usage == UsageDaily.objects.get(proxy=capped, date=TODAY)
    assert results[0].usage.traffic_bytes == GB + 2_000 + GB // 4


def test_each_charge_is_dated_when_its_record_was_recorded(funded, make_proxy):
    proxy = make_proxy(funded)
    nights = [datetime(2026, 3, d, 23, 0, tzinfo=UTC) for d in (11, 12, 13)]
    usage_record_bulk(
        entries=[UsageEntry(proxy, night.date(), GB, 10, recorded_at=night) for night in nights],
        now=NOW,
    )
    charges = Transaction.objects.filter(proxy=proxy).order_by("created_at")
    assert [(c.created_at, c.amount) for c in charges] == [(n, Decimal("-4.00")) for n in nights]


@pytest.mark.parametrize(
    "entry_fields, field",
    [
        ({"day": TODAY + timedelta(days=1)}, "date"),
        ({"day": TODAY, "recorded_at": NOW - timedelta(days=1)}, "date"),  # after its recording
        ({"recorded_at": NOW + timedelta(seconds=1)}, "recorded_at"),
        ({"traffic_bytes": -1}, "traffic_bytes"),
        ({"requests": True}, "requests"),
    ],
)
def test_one_bad_entry_writes_nothing(funded, make_proxy, entry_fields, field):
    proxy = make_proxy(funded)
    before = written(funded)
    bad = {"proxy": proxy, "day": TODAY, "traffic_bytes": GB, "requests": 1} | entry_fields
    with pytest.raises(ValidationError) as error:
        usage_record_bulk(
            entries=[UsageEntry(proxy, TODAY, GB, 1), UsageEntry(**bad)],
            now=NOW,
        )
    assert field in error.value.message_dict
    assert written(funded) == before


def test_the_number_of_queries_does_not_grow_with_the_records(funded, make_proxy):
    proxies = [make_proxy(funded, f"p{n}") for n in range(2)]

    def queries(offsets: range) -> int:
        entries = [
            UsageEntry(proxy, TODAY - timedelta(days=offset), GB, 1)
            for offset in offsets
            for proxy in proxies
        ]
        with CaptureQueriesContext(connection) as captured:
            usage_record_bulk(entries=entries, now=NOW)
        return len(captured)

    assert queries(range(0, 3)) == queries(range(3, 33))
