"""Traffic reports: zero-filled day series, totals, per-proxy breakdown, the streamed export rows."""

import types
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from proxies.models import UsageDaily
from stats.rollup import account_usage_add
from stats.selectors import (
    DayUsage,
    account_traffic,
    breakdown_proxy_list,
    days,
    proxy_breakdown,
    proxy_usage_lines,
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
            price_per_gb=proxy.plan.price_per_gb,
        )
        for offset in range(365)
        for index, proxy in enumerate(proxies)
    ]
    UsageDaily.objects.bulk_create(rows)
    account_usage_add(
        owner_id=owner.pk,
        deltas=[(row.date, row.traffic_bytes, row.requests, row.cost) for row in rows],
    )
    expected = sum((row.cost for row in rows), Decimal("0.00"))
    series = account_traffic(owner_id=owner.pk, date_from=D, date_to=D + timedelta(days=364))
    breakdown = breakdown_of(owner, D, D + timedelta(days=364))
    assert totals(series)["cost"] == expected
    assert sum(row["cost"] for row in breakdown) == expected
    costs = [day.cost for day in series] + [row["cost"] for row in breakdown]
    assert {cost.as_tuple().exponent for cost in costs} == {-2}


def breakdown_of(owner, date_from: date, date_to: date) -> list[dict]:
    """The whole breakdown, as the Statistics page shows it page by page."""
    proxies = list(breakdown_proxy_list(owner_id=owner.pk, date_from=date_from, date_to=date_to))
    return proxy_breakdown(proxies=proxies, date_from=date_from, date_to=date_to)


def test_proxy_breakdown_lists_proxies_by_name_with_their_totals(owner):
    from django.utils import timezone

    small = ProxyFactory(owner=owner, name="small")
    big = ProxyFactory(owner=owner, name="big")
    gone = ProxyFactory(owner=owner, name="gone", deleted_at=timezone.now())
    idle = ProxyFactory(owner=owner, name="idle")
    usage(small, D, 10, 1, "0.01")
    usage(big, D, 1000, 2, "1.00")
    usage(big, D + timedelta(days=1), 1000, 2, "1.00")
    usage(big, D + timedelta(days=2), 10**6, 2, "1.00")  # after the range
    usage(gone, D, 500, 3, "0.50")
    usage(ProxyFactory(owner=UserFactory(), name="alien"), D, 10**9)
    rows = breakdown_of(owner, D, D + timedelta(days=1))
    assert [
        (r["proxy__name"], r["traffic_bytes"], r["requests"], r["cost"], r["active_days"])
        for r in rows
    ] == [
        ("big", 2000, 4, Decimal("2.00"), 2),
        ("gone", 500, 3, Decimal("0.50"), 1),
        ("idle", 0, 0, Decimal("0.00"), 0),
        ("small", 10, 1, Decimal("0.01"), 1),
    ]
    assert [r["proxy__public_id"] for r in rows] == [
        big.public_id,
        gone.public_id,
        idle.public_id,
        small.public_id,
    ]
    assert rows[1]["proxy__deleted_at"] is not None
    assert rows[0]["proxy__deleted_at"] is None


def test_a_deleted_proxy_is_listed_only_with_usage_in_the_range(owner):
    from datetime import UTC, datetime

    deleted_on = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    before = ProxyFactory(owner=owner, name="a_before", deleted_at=deleted_on)
    usage(before, D + timedelta(days=1), 5)  # used before the range only
    during = ProxyFactory(owner=owner, name="b_during", deleted_at=deleted_on)
    usage(during, D + timedelta(days=4), 7)  # its deletion day, the range's first
    unused = ProxyFactory(owner=owner, name="c_unused", deleted_at=deleted_on)
    same_name = ProxyFactory(owner=owner, name="b_during")  # a live one took the name since
    listed = breakdown_proxy_list(
        owner_id=owner.pk, date_from=D + timedelta(days=4), date_to=D + timedelta(days=9)
    )
    assert [(row["name"], row["pk"]) for row in listed] == [
        ("b_during", same_name.pk),
        ("b_during", during.pk),
    ]
    assert not any(row["pk"] in (before.pk, unused.pk) for row in listed)


def test_proxy_breakdown_of_a_page_is_one_query_over_that_page_only(
    owner, django_assert_num_queries
):
    proxies = [ProxyFactory(owner=owner, name=f"p{index:02d}") for index in range(12)]
    for index, proxy in enumerate(proxies):
        usage(proxy, D, 100 + index, 1, "0.10")
    page = list(breakdown_proxy_list(owner_id=owner.pk, date_from=D, date_to=D))[5:8]
    with django_assert_num_queries(1) as captured:
        rows = proxy_breakdown(proxies=page, date_from=D, date_to=D)
    assert [(row["proxy__name"], row["traffic_bytes"]) for row in rows] == [
        ("p05", 105),
        ("p06", 106),
        ("p07", 107),
    ]
    assert "GROUP BY" in captured.captured_queries[0]["sql"]
    with django_assert_num_queries(0):
        assert proxy_breakdown(proxies=[], date_from=D, date_to=D) == []


def lines_of(proxy, date_from: date, date_to: date) -> list[str]:
    return [
        line
        for batch in proxy_usage_lines(proxy_id=proxy.pk, date_from=date_from, date_to=date_to)
        for line in batch
    ]


def test_proxy_usage_lines_are_the_stored_days_of_one_proxy_in_date_order(owner):
    proxy, other = ProxyFactory(owner=owner), ProxyFactory(owner=owner)
    usage(proxy, D + timedelta(days=3), 6, 2, "0.03")
    usage(proxy, D + timedelta(days=1), 5, 1, "0.02")
    usage(proxy, D - timedelta(days=1), 999)  # before the range
    usage(proxy, D + timedelta(days=5), 999)  # after it
    usage(other, D + timedelta(days=2), 999)  # another proxy of the same account
    rows = proxy_usage_lines(proxy_id=proxy.pk, date_from=D, date_to=D + timedelta(days=4))
    assert isinstance(rows, types.GeneratorType)
    assert list(rows) == [["2026-03-02,5,1,0.02\n", "2026-03-04,6,2,0.03\n"]]


def test_proxy_usage_lines_include_both_ends_of_the_range(owner):
    proxy = ProxyFactory(owner=owner)
    usage(proxy, D, 1, 1, "0.01")
    usage(proxy, D + timedelta(days=1), 2, 2, "0.02")
    assert lines_of(proxy, D, D + timedelta(days=1)) == [
        "2026-03-01,1,1,0.01\n",
        "2026-03-02,2,2,0.02\n",
    ]
    assert lines_of(proxy, D + timedelta(days=1), D + timedelta(days=1)) == [
        "2026-03-02,2,2,0.02\n"
    ]


@pytest.mark.parametrize(
    ("traffic_bytes", "requests", "cost", "expected"),
    [
        (0, 0, "0.00", "0,0,0.00"),
        (1, 1, "0.5", "1,1,0.50"),
        (1, 1, "0.10", "1,1,0.10"),
        (1, 1, "7", "1,1,7.00"),  # whole dollars: SQLite stores an integer
        (1, 1, "1E+3", "1,1,1000.00"),
        (1, 1, "0.01", "1,1,0.01"),
        (1, 1, "0.29", "1,1,0.29"),  # 0.29 is 0.28999... as a float
        (1, 1, "123456789.99", "1,1,123456789.99"),
        (10**15, 10**12, "999999999999.99", "1000000000000000,1000000000000,999999999999.99"),
        (2**63 - 1, 2**62, "8000000.00", f"{2**63 - 1},{2**62},8000000.00"),
    ],
)
def test_proxy_usage_lines_format_every_value_exactly(
    owner, traffic_bytes, requests, cost, expected
):
    proxy = ProxyFactory(owner=owner)
    usage(proxy, D, traffic_bytes, requests, cost)
    assert lines_of(proxy, D, D) == [f"2026-03-01,{expected}\n"]


def test_proxy_usage_lines_over_ten_years_in_batches_of_256_and_one_query(
    owner, django_assert_num_queries
):
    proxy = ProxyFactory(owner=owner)
    start = date(2016, 1, 1)
    end = date(2025, 12, 31)
    for offset in range(0, 3653, 3):
        usage(proxy, start + timedelta(days=offset), offset + 1)
    with django_assert_num_queries(1):
        batches = list(proxy_usage_lines(proxy_id=proxy.pk, date_from=start, date_to=end))
    assert [len(batch) for batch in batches] == [256] * 4 + [1218 - 4 * 256]
    lines = [line for batch in batches for line in batch]
    assert [line.split(",")[0] for line in lines] == [
        (start + timedelta(days=offset)).isoformat() for offset in range(0, 3653, 3)
    ]
    assert sum(int(line.split(",")[1]) for line in lines) == sum(range(1, 3654, 3))


def test_proxy_usage_lines_read_nothing_before_they_are_consumed(owner, django_assert_num_queries):
    proxy = ProxyFactory(owner=owner)
    with django_assert_num_queries(0):
        proxy_usage_lines(proxy_id=proxy.pk, date_from=D, date_to=D)


def test_proxy_usage_lines_are_iso_dates_under_any_postgresql_datestyle(owner):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no DateStyle, it stores dates as ISO text")
    proxy = ProxyFactory(owner=owner)
    usage(proxy, date(2026, 11, 27), 5, 1, "0.02")
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle = 'SQL, DMY'")
        try:
            cursor.execute("SELECT '2026-11-27'::date::text")
            assert cursor.fetchone()[0] == "27/11/2026"  # what a plain cast would give
            assert lines_of(proxy, date(2026, 11, 27), date(2026, 11, 27)) == [
                "2026-11-27,5,1,0.02\n"
            ]
        finally:
            cursor.execute("SET DateStyle = 'ISO, MDY'")
