"""Traffic reports.  Each reads one index range ((owner, date) or (proxy, date)) in one query."""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, Sum

from .models import UsageDaily

ZERO = Decimal("0.00")
CENTS = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    # SQLite's SUM() over a decimal column adds floats (Django returns e.g. 46288.6500000001);
    # PostgreSQL's numeric sum is exact and this is a no-op there.
    return value.quantize(CENTS)


class DayUsage(NamedTuple):
    date: date
    traffic_bytes: int
    requests: int
    cost: Decimal


def days(date_from: date, date_to: date) -> Iterator[date]:
    for offset in range((date_to - date_from).days + 1):
        yield date_from + timedelta(days=offset)


def account_traffic(*, owner_id: int, date_from: date, date_to: date) -> list[DayUsage]:
    """One entry per day of the range (zero days included), summed over the account's proxies."""
    rows = (
        UsageDaily.objects.filter(owner_id=owner_id, date__gte=date_from, date__lte=date_to)
        .values("date")
        .annotate(traffic_bytes=Sum("traffic_bytes"), requests=Sum("requests"), cost=Sum("cost"))
        .order_by()
    )
    by_day = {row["date"]: row for row in rows}
    series = []
    for day in days(date_from, date_to):
        row = by_day.get(day)
        series.append(
            DayUsage(day, row["traffic_bytes"], row["requests"], _cents(row["cost"]))
            if row
            else DayUsage(day, 0, 0, ZERO)
        )
    return series


def totals(series: list[DayUsage]) -> dict:
    return {
        "traffic_bytes": sum(d.traffic_bytes for d in series),
        "requests": sum(d.requests for d in series),
        "cost": sum((d.cost for d in series), ZERO),
    }


def proxy_breakdown(*, owner_id: int, date_from: date, date_to: date) -> list[dict]:
    """Per-proxy totals over the range, largest traffic first (deleted proxies included)."""
    rows = list(
        UsageDaily.objects.filter(owner_id=owner_id, date__gte=date_from, date__lte=date_to)
        .values("proxy__public_id", "proxy__name", "proxy__deleted_at")
        .annotate(
            traffic_bytes=Sum("traffic_bytes"),
            requests=Sum("requests"),
            cost=Sum("cost"),
            active_days=Count("id"),
        )
        .order_by("-traffic_bytes", "proxy__name")
    )
    for row in rows:
        row["cost"] = _cents(row["cost"])
    return rows


def proxy_usage_days(*, proxy_id: int, date_from: date, date_to: date) -> Iterator[DayUsage]:
    """Each day of the range for one proxy, zero-filled, streamed from the database.

    Memory stays flat whatever the range: rows are fetched 100 at a time and merged with the
    calendar.  A plain cursor rather than the ORM: converting each row through the ORM costs
    several times the query itself (about 15 µs a row on SQLite), and an export is thousands of
    rows.  SQLite returns the stored two-decimal cost as a float (or int), converted here.
    """
    qn = connection.ops.quote_name
    sql = (
        f"SELECT {qn('date')}, {qn('traffic_bytes')}, {qn('requests')}, {qn('cost')} "  # noqa: S608
        f"FROM {qn(UsageDaily._meta.db_table)} "
        f"WHERE {qn('proxy_id')} = %s AND {qn('date')} >= %s AND {qn('date')} <= %s ORDER BY {qn('date')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [proxy_id, date_from, date_to])
        rows = iter(lambda: cursor.fetchmany(100), [])
        batch: list = next(rows, [])
        index = 0
        for day in days(date_from, date_to):
            if index == len(batch):
                batch, index = next(rows, []), 0
            if index < len(batch) and batch[index][0] == day:
                _, traffic_bytes, requests, cost = batch[index]
                if type(cost) is not Decimal:  # SQLite: a float or int holding the stored value
                    cost = Decimal(str(cost)).quantize(CENTS)
                yield DayUsage(day, traffic_bytes, requests, cost)
                index += 1
            else:
                yield DayUsage(day, 0, 0, ZERO)
