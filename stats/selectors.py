"""Traffic reports.  Each reads one index range ((owner, date) or (proxy, date)) in one query."""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Sum

from common.money import ZERO, round_cents
from proxies.models import UsageDaily


def _cents(value: Decimal) -> Decimal:
    # SQLite's SUM() over a decimal column adds floats (Django returns e.g. 46288.6500000001);
    # PostgreSQL's numeric sum is exact and this is a no-op there.
    return round_cents(value)


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


def proxy_breakdown(*, owner_id: int, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Per-proxy totals over the range, largest traffic first (deleted proxies included)."""
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in UsageDaily.objects.filter(
            owner_id=owner_id, date__gte=date_from, date__lte=date_to
        )
        .values("proxy__public_id", "proxy__name", "proxy__deleted_at")
        .annotate(
            traffic_bytes=Sum("traffic_bytes"),
            requests=Sum("requests"),
            cost=Sum("cost"),
            active_days=Count("id"),
        )
        .order_by("-traffic_bytes", "proxy__name")
    ]
    for row in rows:
        row["cost"] = _cents(row["cost"])
    return rows


EXPORT_FETCH_SIZE = 256
# The line of one stored day, `date,traffic_bytes,requests,cost_usd` + newline, built by the
# database: it formats thousands of rows faster than Python can receive them as separate values
# (dates and decimals are the costly kinds), so an export costs about what reading its rows does.
# SQLite keeps the cost as a float (or an integer for whole dollars); "%.2f" gives back the stored
# cents, since a cost has at most 14 significant digits.  PostgreSQL's numeric(14,2) prints with
# two decimals by itself.
_SQLITE_LINE = "printf(%s, {date}, {traffic_bytes}, {requests}, {cost})"
_SQLITE_LINE_FORMAT = "%s,%d,%d,%.2f\n"
_POSTGRESQL_LINE = (
    "{date_text} || ',' || {traffic_bytes} || ',' || {requests} || ',' || {cost} || E'\\n'"
)


def _line_sql(qn) -> tuple[str, list]:
    columns = {name: qn(name) for name in ("date", "traffic_bytes", "requests", "cost")}
    if connection.vendor == "sqlite":
        return _SQLITE_LINE.format(**columns), [_SQLITE_LINE_FORMAT]
    # date::text is YYYY-MM-DD under the ISO DateStyle (PostgreSQL's default) and cheap; under
    # any other DateStyle it is not, and to_char (about 40% slower here) is used instead.
    iso = connection.connection.info.parameter_status("DateStyle").startswith("ISO")
    date_text = f"{columns['date']}::text" if iso else f"to_char({columns['date']}, 'YYYY-MM-DD')"
    return _POSTGRESQL_LINE.format(date_text=date_text, **columns), []


def proxy_usage_lines(*, proxy_id: int, date_from: date, date_to: date) -> Iterator[list[str]]:
    """CSV lines of the proxy's stored days in the range (`2026-01-31,1048576,120,0.52\\n`), in
    date order, in batches of up to 256 lines.

    Days without usage are not stored and not returned: `stats.csv.usage_csv` fills them in.
    Lines are fetched a batch at a time, so memory stays flat whatever the range; nothing is read
    until the iterator is consumed.  A plain cursor rather than the ORM, because converting each
    row through the ORM costs several times the query itself, and an export is thousands of rows.
    """
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        line, line_params = _line_sql(qn)
        sql = (
            f"SELECT {line} FROM {qn(UsageDaily._meta.db_table)} "  # noqa: S608
            f"WHERE {qn('proxy_id')} = %s AND {qn('date')} >= %s AND {qn('date')} <= %s "
            f"ORDER BY {qn('date')}"
        )
        cursor.execute(sql, [*line_params, proxy_id, date_from, date_to])
        while lines := [row[0] for row in cursor.fetchmany(EXPORT_FETCH_SIZE)]:
            yield lines
            del lines  # before the next batch is fetched: one batch in memory at a time
