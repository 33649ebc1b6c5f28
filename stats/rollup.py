"""The account's daily rollup (`AccountUsageDaily`, SPEC 3.3): written by usage recording in the
same transaction as the proxy rows it sums (`stats.services`), and rebuilt from them by
`check_usage_rollup --fix`."""

from collections.abc import Collection, Iterable
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from billing.services import balance_lock
from common.money import ZERO, round_cents
from proxies.models import AccountUsageDaily, UsageDaily

ROLLUP_UPSERT_ROWS = 500  # rows per statement: 2,500 parameters, well inside SQLite's limit


def account_usage_add(*, owner_id: int, deltas: Iterable[tuple[date, int, int, Decimal]]) -> None:
    """Add `(day, traffic_bytes, requests, cost)` amounts to the account's `AccountUsageDaily`
    rows, creating a day's row on its first amount: one statement for up to 500 days.

    For `usage_record_bulk`, which adds the same amounts to the proxy rows in the same
    transaction; that is what keeps each account row the sum of its proxy rows.
    """
    per_day: dict[date, tuple[int, int, Decimal]] = {}
    for day, traffic_bytes, requests, cost in deltas:
        day_bytes, day_requests, day_cost = per_day.get(day, (0, 0, ZERO))
        per_day[day] = (day_bytes + traffic_bytes, day_requests + requests, day_cost + cost)
    if not per_day:
        return
    ops = connection.ops
    cost_field = AccountUsageDaily._meta.get_field("cost")
    digits, places = cost_field.max_digits, cost_field.decimal_places
    rows = [
        (
            owner_id,
            ops.adapt_datefield_value(day),
            traffic_bytes,
            requests,
            ops.adapt_decimalfield_value(cost, digits, places),
        )
        # In date order, as every writer locks its rows: deadlock-free even without the lock.
        for day, (traffic_bytes, requests, cost) in sorted(per_day.items())
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROLLUP_UPSERT_ROWS):
            chunk = rows[start : start + ROLLUP_UPSERT_ROWS]
            cursor.execute(
                _rollup_upsert_sql(len(chunk)), [value for row in chunk for value in row]
            )


def _rollup_upsert_sql(rows: int) -> str:
    # Adds to the day's row instead of replacing it (bulk_create(update_conflicts=True) would
    # replace), so it needs no read first: one statement, spelled alike on SQLite and PostgreSQL.
    # No lock of its own is needed: every caller holds the account's balance lock
    # (`balance_lock`, taken first by `_usage_record_for_account`), so the writers of one
    # account, and with them its rollup rows, are serialized.  ROUND: SQLite adds the stored
    # float and the new cents as floats; rounding each sum keeps the row at whole cents, so the
    # error cannot build up over thousands of records.  PostgreSQL's numeric is exact already.
    qn = connection.ops.quote_name
    table = qn(AccountUsageDaily._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * rows)
    return (
        f"INSERT INTO {table} (owner_id, date, traffic_bytes, requests, cost) VALUES {values} "  # noqa: S608
        "ON CONFLICT (owner_id, date) DO UPDATE SET "
        f"traffic_bytes = {table}.traffic_bytes + excluded.traffic_bytes, "
        f"requests = {table}.requests + excluded.requests, "
        f"cost = ROUND({table}.cost + excluded.cost, 2)"
    )


@transaction.atomic
def account_usage_rebuild(*, owner_id: int, days: Collection[date]) -> list[AccountUsageDaily]:
    """Rewrite the account's `AccountUsageDaily` rows of `days` as the sums of its proxy rows
    (a day without proxy rows loses its account row): the repair of
    `check_usage_rollup --fix`.  Returns the rows written.

    The account's balance row is locked first, as every usage writer does, so no record of the
    account lands between the read of its proxy rows and the write of their sums.
    """
    balance_lock(owner_id)
    days = sorted(set(days))
    AccountUsageDaily.objects.filter(owner_id=owner_id, date__in=days).delete()
    sums = (
        UsageDaily.objects.filter(owner_id=owner_id, date__in=days)
        .values("date")
        .annotate(traffic_bytes=Sum("traffic_bytes"), requests=Sum("requests"), cost=Sum("cost"))
        .order_by("date")
    )
    return AccountUsageDaily.objects.bulk_create(
        AccountUsageDaily(
            owner_id=owner_id,
            date=row["date"],
            traffic_bytes=row["traffic_bytes"],
            requests=row["requests"],
            # SQLite's SUM() adds the decimals as floats: back to the cents they were.
            cost=round_cents(row["cost"]),
        )
        for row in sums
    )
