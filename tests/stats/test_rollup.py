"""The account's daily rollup (`AccountUsageDaily`): after any mix of `usage_record` and
`usage_record_bulk` each row is the sum of the account's proxy rows of its day, and the reports
read from it (`account_traffic`, `/v1/user/traffic`) say exactly what summing the proxy rows per
day said before the rollup existed."""

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.models import Plan
from common.money import ZERO, round_cents
from proxies.models import AccountUsageDaily, UsageDaily
from proxies.services import proxy_delete
from stats import services
from stats.rollup import account_usage_add
from stats.selectors import DayUsage, account_traffic, days, usage_rollup_mismatches
from stats.services import UsageEntry, usage_record, usage_record_bulk
from tests.factories import PlanFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
FIRST = TODAY - timedelta(days=45)
GB = 10**9


@pytest.fixture
def now():
    return NOW


def rollup_rows() -> dict[tuple[int, date], tuple[int, int, Decimal]]:
    return {
        (row.owner_id, row.date): (row.traffic_bytes, row.requests, row.cost)
        for row in AccountUsageDaily.objects.all()
    }


def detail_sums() -> dict[tuple[int, date], tuple[int, int, Decimal]]:
    """The sum of the proxy rows per account and day, added up in Python (exact decimals)."""
    sums: dict[tuple[int, date], tuple[int, int, Decimal]] = {}
    for row in UsageDaily.objects.all():
        traffic, requests, cost = sums.get((row.owner_id, row.date), (0, 0, ZERO))
        sums[(row.owner_id, row.date)] = (
            traffic + row.traffic_bytes,
            requests + row.requests,
            cost + row.cost,
        )
    return sums


def old_account_traffic(*, owner_id: int, date_from: date, date_to: date) -> list[DayUsage]:
    """`account_traffic` as it was before the rollup: the proxy rows summed per day."""
    rows = (
        UsageDaily.objects.filter(owner_id=owner_id, date__gte=date_from, date__lte=date_to)
        .values("date")
        .annotate(traffic_bytes=Sum("traffic_bytes"), requests=Sum("requests"), cost=Sum("cost"))
        .order_by()
    )
    by_day = {row["date"]: row for row in rows}
    return [
        DayUsage(
            day,
            by_day[day]["traffic_bytes"],
            by_day[day]["requests"],
            round_cents(by_day[day]["cost"]),
        )
        if day in by_day
        else DayUsage(day, 0, 0, ZERO)
        for day in days(date_from, date_to)
    ]


@pytest.fixture
def random_usage(fund, make_proxy):
    """Three accounts with three to five proxies on three plans, and 40 rounds of random
    traffic: single records and batches (several accounts, repeated proxy-days, backdated days),
    plan price changes between rounds (A16), one proxy deleted midway.  Returns the accounts and
    the bytes and requests recorded per account and day."""
    rng = random.Random(20261204)
    plans = [PlanFactory(price_per_gb=Decimal(price)) for price in ("3.33", "4.00", "0.07")]
    owners = [fund(UserFactory(), "100000.00") for _ in range(3)]
    proxies = [
        make_proxy(owner, f"p{index}", plan=rng.choice(plans))
        for owner in owners
        for index in range(rng.randint(3, 5))
    ]
    recorded: dict[tuple[int, date], list[int]] = {}

    def entry() -> UsageEntry:
        proxy = rng.choice(proxies)
        day = FIRST + timedelta(days=rng.randint(0, 45))
        size = rng.choice([rng.randint(0, 999), rng.randint(10**6, 5 * GB), 123_456_789])
        requests = rng.randint(0, 500)
        totals = recorded.setdefault((proxy.owner_id, day), [0, 0])
        totals[0] += size
        totals[1] += requests
        return UsageEntry(proxy, day, size, requests)

    for round_number in range(40):
        if rng.random() < 0.4:
            one = entry()
            usage_record(
                proxy=one.proxy,
                day=one.day,
                traffic_bytes=one.traffic_bytes,
                requests=one.requests,
                now=NOW,
            )
        else:
            usage_record_bulk(entries=[entry() for _ in range(rng.randint(1, 30))], now=NOW)
        if rng.random() < 0.3:
            plan = rng.choice(plans)
            Plan.objects.filter(pk=plan.pk).update(price_per_gb=Decimal(rng.randint(1, 999)) / 100)
        if round_number == 20:
            gone = proxies.pop(0)
            proxy_delete(proxy=gone, now=NOW)
    return owners, recorded


def test_the_rollup_is_the_sum_of_the_proxy_rows_after_random_records(random_usage):
    owners, recorded = random_usage
    sums = detail_sums()
    assert rollup_rows() == sums
    assert len(sums) > 60  # many account-days, most of them written more than once
    assert {key: list(value[:2]) for key, value in sums.items()} == recorded
    assert {owner_id for owner_id, _ in sums} == {owner.pk for owner in owners}
    assert list(usage_rollup_mismatches(date_from=FIRST, date_to=TODAY)) == []


def test_account_traffic_is_what_summing_the_proxy_rows_gave(random_usage):
    owners, _ = random_usage
    for owner in owners:
        for date_from, date_to in [
            (FIRST - timedelta(days=3), TODAY),
            (FIRST + timedelta(days=10), FIRST + timedelta(days=11)),
            (TODAY, TODAY),
        ]:
            range_ = {"owner_id": owner.pk, "date_from": date_from, "date_to": date_to}
            new, old = account_traffic(**range_), old_account_traffic(**range_)
            assert new == old
            assert [day.cost.as_tuple().exponent for day in new] == [-2] * len(new)
    assert sum(day.traffic_bytes for day in new) > 0


def test_user_traffic_api_says_what_summing_the_proxy_rows_said(random_usage, api_client, make_key):
    owners, _ = random_usage
    date_from, date_to = FIRST - timedelta(days=2), TODAY
    for owner in owners:
        key = make_key(scopes="stats:read", owner=owner)
        api_client.credentials(HTTP_X_API_KEY=key.key)
        response = api_client.get(
            "/v1/user/traffic", {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        )
        assert response.status_code == 200
        data = json.loads(response.content, parse_float=Decimal)["data"]
        old = old_account_traffic(owner_id=owner.pk, date_from=date_from, date_to=date_to)
        assert data["days"] == [
            {
                "date": day.date.isoformat(),
                "traffic_bytes": day.traffic_bytes,
                "requests": day.requests,
                "cost": day.cost,
            }
            for day in old
        ]
        assert data["totals"] == {
            "traffic_bytes": sum(day.traffic_bytes for day in old),
            "requests": sum(day.requests for day in old),
            "cost": sum((day.cost for day in old), ZERO),
        }
        assert data["totals"]["traffic_bytes"] > 0


def test_a_batch_adds_each_day_once_in_one_statement(make_proxy, funded, plan):
    """Repeated proxy-days of one account and several days: one row per day, one statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one, two = make_proxy(funded, "one"), make_proxy(funded, "two")
    yesterday = TODAY - timedelta(days=1)
    entries = [
        UsageEntry(one, TODAY, GB, 1),
        UsageEntry(two, TODAY, GB // 2, 2),
        UsageEntry(one, yesterday, 250_000_000, 3),
        UsageEntry(one, TODAY, 1, 4),
    ]
    with CaptureQueriesContext(connection) as captured:
        usage_record_bulk(entries=entries, now=NOW)
    table = AccountUsageDaily._meta.db_table
    assert sum(table in query["sql"] for query in captured.captured_queries) == 1
    assert rollup_rows() == {
        (funded.pk, yesterday): (250_000_000, 3, Decimal("1.00")),
        (funded.pk, TODAY): (GB + GB // 2 + 1, 7, Decimal("6.00")),
    }
    usage_record(proxy=two, day=TODAY, traffic_bytes=GB, requests=1, now=NOW)
    assert rollup_rows()[(funded.pk, TODAY)] == (2 * GB + GB // 2 + 1, 8, Decimal("10.00"))


def test_the_rollup_is_written_in_the_records_transaction(make_proxy, funded, monkeypatch):
    """A record that fails after its proxy rows and rollup were written leaves neither."""
    proxy = make_proxy(funded, "one")
    usage_record(proxy=proxy, day=TODAY, traffic_bytes=GB, requests=1, now=NOW)
    before = rollup_rows()

    def fail(*args, **kwargs):
        raise RuntimeError("the status update failed")

    monkeypatch.setattr(services, "proxy_refresh_status", fail)
    with pytest.raises(RuntimeError):
        usage_record(proxy=proxy, day=TODAY, traffic_bytes=GB, requests=1, now=NOW)
    assert rollup_rows() == before == detail_sums()
    assert before[(funded.pk, TODAY)] == (GB, 1, Decimal("4.00"))


def test_costs_stay_exact_cents_over_many_additions():
    """Thousands of awkward cents into one day, one statement each (SQLite adds them as floats;
    each sum is rounded back to cents), and large ones up to 15 significant digits."""
    owner = UserFactory()
    amounts = [Decimal(f"0.{index % 100:02d}") + index % 7 for index in range(3000)]
    for amount in amounts:
        account_usage_add(owner_id=owner.pk, deltas=[(TODAY, 1, 1, amount)])
    for _ in range(9):
        account_usage_add(owner_id=owner.pk, deltas=[(FIRST, 0, 0, Decimal("99999999999.99"))])
    rows = rollup_rows()
    assert rows[(owner.pk, TODAY)] == (3000, 3000, sum(amounts, ZERO))
    assert rows[(owner.pk, FIRST)][2] == Decimal("899999999999.91")
