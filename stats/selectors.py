"""Traffic reports.  Each reads index ranges ((owner, date) or (proxy, date)) in one query.

Account-wide figures come from the account's daily rollup (`AccountUsageDaily`, one row per day);
per-proxy figures from the proxy rows (`UsageDaily`).  `usage_rollup_mismatches` is the audit of
the one against the other (`manage.py check_usage_rollup`), not a report: it reads every row of
its range.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from common.money import ZERO, round_cents
from proxies.models import AccountUsageDaily, Proxy, UsageDaily


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
    """One entry per day of the range (zero days included), summed over the account's proxies.

    Read from the account's daily rollup: one row per day with traffic, whatever the number of
    proxies, so a year costs 365 rows rather than 365 per proxy.
    """
    rows = AccountUsageDaily.objects.filter(
        owner_id=owner_id, date__gte=date_from, date__lte=date_to
    ).values_list("date", "traffic_bytes", "requests", "cost")
    by_day = {row[0]: row for row in rows}
    series = []
    for day in days(date_from, date_to):
        row = by_day.get(day)
        series.append(
            DayUsage(day, row[1], row[2], _cents(row[3])) if row else DayUsage(day, 0, 0, ZERO)
        )
    return series


def totals(series: list[DayUsage]) -> dict:
    return {
        "traffic_bytes": sum(d.traffic_bytes for d in series),
        "requests": sum(d.requests for d in series),
        "cost": sum((d.cost for d in series), ZERO),
    }


def breakdown_proxy_list(*, owner_id: int, date_from: date, date_to: date) -> QuerySet:
    """The proxies the per-proxy breakdown lists for the range, by name: every live proxy (idle
    ones too, their CSV is a valid report) and every deleted one with usage in the range.  Rows
    are dicts of `pk`, `public_id`, `name`, `deleted_at`; page them, then `proxy_breakdown`.

    Ordered by name, not by traffic, so that a page costs about the same at 10 proxies or
    10,000: ordering by traffic means summing every proxy's rows of the range before the first
    page can be cut.  At 10,000 proxies that took 160-280 ms for the page's default month
    (300,000 rows) and 0.8-2.3 s for 366 days on PostgreSQL and SQLite, against 5-16 ms for any
    page by name, which sums only its own 50 proxies' rows (`benchmarks/stats.py --large`).
    """
    # A proxy takes no usage for days after the one it was deleted on (`usage_values_clean`), so
    # only proxies deleted on or after the range's first day need the look at their usage.
    deleted_in_range = Q(deleted_at__gte=datetime.combine(date_from, time.min, tzinfo=UTC)) & Q(
        Exists(
            UsageDaily.objects.filter(proxy=OuterRef("pk"), date__gte=date_from, date__lte=date_to)
        )
    )
    return (
        Proxy.objects.filter(owner_id=owner_id)
        .filter(Q(deleted_at__isnull=True) | deleted_in_range)
        # A deleted proxy may share its name with a live one: the live one first.
        .order_by("name", F("deleted_at").asc(nulls_first=True), "pk")
        .values("pk", "public_id", "name", "deleted_at")
    )


def proxy_breakdown(
    *, proxies: Sequence[Mapping[str, Any]], date_from: date, date_to: date
) -> list[dict[str, Any]]:
    """Totals over the range of `proxies` (a page of `breakdown_proxy_list`), in their order,
    zero for a proxy without usage: `traffic_bytes`, `requests`, `cost` and `active_days` (days
    with a stored row), with the proxy's `proxy__public_id`, `proxy__name`, `proxy__deleted_at`.

    One query, reading the (proxy, date) index range of each proxy of the page only.
    """
    if not proxies:
        return []
    sums = {
        row["proxy_id"]: row
        for row in UsageDaily.objects.filter(
            proxy_id__in=[proxy["pk"] for proxy in proxies],
            date__gte=date_from,
            date__lte=date_to,
        )
        .values("proxy_id")
        .annotate(
            traffic_bytes=Sum("traffic_bytes"),
            requests=Sum("requests"),
            cost=Sum("cost"),
            active_days=Count("id"),
        )
        .order_by()
    }
    rows = []
    for proxy in proxies:
        row = sums.get(proxy["pk"])
        rows.append(
            {
                "proxy__public_id": proxy["public_id"],
                "proxy__name": proxy["name"],
                "proxy__deleted_at": proxy["deleted_at"],
                "traffic_bytes": row["traffic_bytes"] if row else 0,
                "requests": row["requests"] if row else 0,
                "cost": _cents(row["cost"]) if row else ZERO,
                "active_days": row["active_days"] if row else 0,
            }
        )
    return rows


class Sums(NamedTuple):
    traffic_bytes: int
    requests: int
    cost: Decimal


class RollupMismatch(NamedTuple):
    """An account-day whose rollup row and proxy rows disagree; None where there is no row."""

    owner_id: int
    date: date
    rollup: Sums | None
    detail: Sums | None


def _sums(traffic_bytes: Any, requests: Any, cost: Any) -> Sums | None:
    if traffic_bytes is None:
        return None
    # PostgreSQL's SUM(bigint) is numeric; SQLite keeps a decimal column as a float.
    return Sums(int(traffic_bytes), int(requests), _cents(Decimal(str(cost))))


_MISMATCH_SQL = """
SELECT d.owner_id, d.date, r.traffic_bytes, r.requests, r.cost,
       d.traffic_bytes, d.requests, d.cost
FROM (SELECT owner_id, date, SUM(traffic_bytes) AS traffic_bytes, SUM(requests) AS requests,
             ROUND(SUM(cost), 2) AS cost
      FROM {usage} WHERE date >= %s AND date <= %s {usage_owner} GROUP BY owner_id, date) d
LEFT JOIN {rollup} r ON r.owner_id = d.owner_id AND r.date = d.date
WHERE r.id IS NULL OR r.traffic_bytes <> d.traffic_bytes OR r.requests <> d.requests
   OR ROUND(r.cost, 2) <> d.cost
UNION ALL
SELECT r.owner_id, r.date, r.traffic_bytes, r.requests, r.cost, NULL, NULL, NULL
FROM {rollup} r
WHERE r.date >= %s AND r.date <= %s {rollup_owner}
  AND NOT EXISTS (SELECT 1 FROM {usage} u WHERE u.owner_id = r.owner_id AND u.date = r.date)
ORDER BY 1, 2
"""


def usage_rollup_mismatches(
    *, date_from: date, date_to: date, owner_id: int | None = None
) -> Iterator[RollupMismatch]:
    """Every account-day of the range (of one account, or all) whose `AccountUsageDaily` row is
    not the sum of its `UsageDaily` rows: different sums, a missing row, or a row without proxy
    rows.  By account and day; fetched as the iterator is consumed.

    One statement, so both sides are read from one snapshot: records committed while it runs
    cannot show up as a mismatch.  Costs are compared in cents (SQLite sums floats).
    """
    qn = connection.ops.quote_name
    sql = _MISMATCH_SQL.format(
        usage=qn(UsageDaily._meta.db_table),
        rollup=qn(AccountUsageDaily._meta.db_table),
        usage_owner="" if owner_id is None else "AND owner_id = %s",
        rollup_owner="" if owner_id is None else "AND r.owner_id = %s",
    )
    bounds = [
        connection.ops.adapt_datefield_value(date_from),
        connection.ops.adapt_datefield_value(date_to),
        *([] if owner_id is None else [owner_id]),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, bounds * 2)
        while rows := cursor.fetchmany(EXPORT_FETCH_SIZE):
            for owner, day, *values in rows:
                yield RollupMismatch(
                    owner,
                    day if isinstance(day, date) else date.fromisoformat(day),
                    _sums(*values[:3]),
                    _sums(*values[3:]),
                )


def usage_rollup_count(
    *, date_from: date, date_to: date, owner_id: int | None = None
) -> tuple[int, int]:
    """How many `AccountUsageDaily` rows the range holds, and of how many accounts."""
    rows = AccountUsageDaily.objects.filter(date__gte=date_from, date__lte=date_to)
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    counts = rows.aggregate(days=Count("id"), accounts=Count("owner", distinct=True))
    return counts["days"], counts["accounts"]


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
