"""Traffic reports.  Each reads one index range ((owner, date) or (proxy, date)) in one query."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from .models import UsageDaily

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DayUsage:
    date: date
    traffic_bytes: int
    requests: int
    cost: Decimal


def days(date_from: date, date_to: date) -> Iterator[date]:
    current = date_from
    while current <= date_to:
        yield current
        current += timedelta(days=1)


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
            DayUsage(day, row["traffic_bytes"], row["requests"], row["cost"])
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
    return list(
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


def proxy_usage_days(*, proxy_id: int, date_from: date, date_to: date) -> Iterator[DayUsage]:
    """Each day of the range for one proxy, zero-filled, streamed from the database.

    Memory stays flat whatever the range: rows are read in chunks and merged with the calendar.
    """
    rows = (
        UsageDaily.objects.filter(proxy_id=proxy_id, date__gte=date_from, date__lte=date_to)
        .order_by("date")
        .values_list("date", "traffic_bytes", "requests", "cost")
        .iterator(chunk_size=500)
    )
    pending = next(rows, None)
    for day in days(date_from, date_to):
        if pending is not None and pending[0] == day:
            yield DayUsage(*pending)
            pending = next(rows, None)
        else:
            yield DayUsage(day, 0, 0, ZERO)
