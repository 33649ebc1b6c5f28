"""Traffic reports: zero-filled day series, totals, per-proxy breakdown, the streamed export rows."""

import types
from datetime import date, timedelta
from decimal import Decimal

import pytest

from stats.models import UsageDaily
from stats.selectors import (
    DayUsage,
    account_traffic,
    days,
    proxy_breakdown,
    proxy_usage_days,
    totals,
)
from tests.factories import ProxyFactory, UsageDailyFactory, UserFactory

pytestmark = pytest.mark.django_db

D = date(2026, 3, 1)


def usage(proxy, day: date, traffic_bytes: int, requests: int = 10, cost: str = "1.00"):
    return UsageDailyFactory(
        proxy=proxy, date=day, traffic_bytes=traffic_bytes, requests=requests, cost=Decimal(cost)
    )


@pytest.fixture
def owner():
    return UserFactory()


def test_days_is_inclusive_and_empty_for_a_reversed_range():
    assert list(days(D, D + timedelta(days=2))) == [D, D + timedelta(days=1), D + timedelta(days=2)]
    assert list(days(D, D - timedelta(days=1))) == []


def test_account_traffic_sums_proxies_per_day_and_fills_empty_days(
    owner, django_assert_num_queries
):
    one, two = ProxyFactory(owner=owner), ProxyFactory(owner=owner)
    usage(one, D, 100, 1, "0.10")
    usage(two, D, 50, 2, "0.05")
    usage(one, D + timedelta(days=2), 7, 3, "0.01")
    usage(ProxyFactory(), D, 10**12, 1, "999.00")  # another account
    usage(one, D - timedelta(days=1), 10**12, 1, "999.00")  # outside the range
    with django_assert_num_queries(1):
        series = account_traffic(owner_id=owner.pk, date_from=D, date_to=D + timedelta(days=3))
    assert series == [
        DayUsage(D, 150, 3, Decimal("0.15")),
        DayUsage(D + timedelta(days=1), 0, 0, Decimal("0.00")),
        DayUsage(D + timedelta(days=2), 7, 3, Decimal("0.01")),
        DayUsage(D + timedelta(days=3), 0, 0, Decimal("0.00")),
    ]
    assert totals(series) == {"traffic_bytes": 157, "requests": 6, "cost": Decimal("0.16")}


def test_account_traffic_includes_deleted_proxies(owner):
    from django.utils import timezone

    gone = ProxyFactory(owner=owner, deleted_at=timezone.now(), enabled=False, status="inactive")
    usage(gone, D, 42)
    assert account_traffic(owner_id=owner.pk, date_from=D, date_to=D)[0].traffic_bytes == 42


def test_totals_of_an_empty_series_are_zero():
    assert totals([]) == {"traffic_bytes": 0, "requests": 0, "cost": Decimal("0.00")}


def test_money_sums_are_exact_cents_on_every_database(owner):
    # Many rows of awkward cents: SQLite's SUM() over a decimal column adds floats, and Django
    # hands the result back as a 15-digit Decimal such as 18159339.3000000 (or 46288.6500000001).
    proxies = [ProxyFactory(owner=owner) for _ in range(3)]
    rows = [
        UsageDaily(
            proxy=proxy,
            owner=owner,
            date=D + timedelta(days=offset),
            cost=Decimal(f"{(offset * 7919 + index * 104729) % 100000}.{offset % 100:02d}"),
        )
        for offset in range(365)
        for index, proxy in enumerate(proxies)
    ]
    UsageDaily.objects.bulk_create(rows)
    expected = sum((row.cost for row in rows), Decimal("0.00"))
    series = account_traffic(owner_id=owner.pk, date_from=D, date_to=D + timedelta(days=364))
    breakdown = proxy_breakdown(owner_id=owner.pk, date_from=D, date_to=D + timedelta(days=364))
    assert totals(series)["cost"] == expected
    assert sum(row["cost"] for row in breakdown) == expected
    costs = [day.cost for day in series] + [row["cost"] for row in breakdown]
    assert {cost.as_tuple().exponent for cost in costs} == {-2}


def test_proxy_breakdown_orders_by_traffic_and_keeps_deleted_proxies(owner):
    from django.utils import timezone

    small = ProxyFactory(owner=owner, name="small")
    big = ProxyFactory(owner=owner, name="big")
    gone = ProxyFactory(owner=owner, name="gone", deleted_at=timezone.now())
    usage(small, D, 10, 1, "0.01")
    usage(big, D, 1000, 2, "1.00")
    usage(big, D + timedelta(days=1), 1000, 2, "1.00")
    usage(gone, D, 500, 3, "0.50")
    usage(ProxyFactory(), D, 10**9)
    rows = proxy_breakdown(owner_id=owner.pk, date_from=D, date_to=D + timedelta(days=1))
    assert [
        (r["proxy__name"], r["traffic_bytes"], r["requests"], r["cost"], r["active_days"])
        for r in rows
    ] == [
        ("big", 2000, 4, Decimal("2.00"), 2),
        ("gone", 500, 3, Decimal("0.50"), 1),
        ("small", 10, 1, Decimal("0.01"), 1),
    ]
    assert rows[0]["proxy__public_id"] == big.public_id
    assert rows[1]["proxy__deleted_at"] is not None


def test_proxy_usage_days_zero_fills_one_proxy_in_order(owner):
    proxy, other = ProxyFactory(owner=owner), ProxyFactory(owner=owner)
    usage(proxy, D + timedelta(days=1), 5, 1, "0.02")
    usage(proxy, D + timedelta(days=3), 6, 2, "0.03")
    usage(other, D, 999)
    rows = proxy_usage_days(proxy_id=proxy.pk, date_from=D, date_to=D + timedelta(days=4))
    assert isinstance(rows, types.GeneratorType)
    assert list(rows) == [
        DayUsage(D, 0, 0, Decimal("0.00")),
        DayUsage(D + timedelta(days=1), 5, 1, Decimal("0.02")),
        DayUsage(D + timedelta(days=2), 0, 0, Decimal("0.00")),
        DayUsage(D + timedelta(days=3), 6, 2, Decimal("0.03")),
        DayUsage(D + timedelta(days=4), 0, 0, Decimal("0.00")),
    ]


def test_proxy_usage_days_over_ten_years_is_one_row_per_day(owner, django_assert_max_num_queries):
    proxy = ProxyFactory(owner=owner)
    start = date(2016, 1, 1)
    end = date(2025, 12, 31)
    for offset in range(0, 3653, 10):
        usage(proxy, start + timedelta(days=offset), offset + 1)
    with django_assert_max_num_queries(1):
        rows = list(proxy_usage_days(proxy_id=proxy.pk, date_from=start, date_to=end))
    assert len(rows) == (end - start).days + 1 == 3653
    assert [r.date for r in rows] == list(days(start, end))
    assert sum(r.traffic_bytes for r in rows) == sum(range(1, 3654, 10))


def test_proxy_usage_days_reads_nothing_before_it_is_consumed(owner, django_assert_num_queries):
    proxy = ProxyFactory(owner=owner)
    with django_assert_num_queries(0):
        proxy_usage_days(proxy_id=proxy.pk, date_from=D, date_to=D)
