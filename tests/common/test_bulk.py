"""bulk_insert: rows written without model instances read back exactly as the ORM writes them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection

from billing.models import Transaction
from common import bulk
from common.bulk import bulk_insert
from proxies.models import UsageDaily
from tests.factories import ProxyFactory, UserFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 14, 23, 59, 58, 123456, tzinfo=UTC)
LEDGER = [
    "owner",
    "tx_id",
    "type",
    "source",
    "amount",
    "currency",
    "description",
    "proxy",
    "created_at",
]


def stored(**filters) -> list[tuple]:
    return list(
        Transaction.objects.filter(**filters)
        .order_by("tx_id")
        .values_list(
            "owner_id",
            "type",
            "source",
            "amount",
            "currency",
            "description",
            "proxy_id",
            "created_at",
        )
    )


# 1 and 10 rows go as VALUES on PostgreSQL, 11 as arrays; 1,203 rows take three SQLite statements.
@pytest.mark.parametrize("count", [1, 10, 11, 1_203])
def test_inserted_rows_read_back_as_the_orm_writes_them(count):
    owner, proxy = UserFactory(), ProxyFactory()
    amounts = [Decimal("-0.01") * (n + 1) for n in range(count)]
    moments = [AT, datetime(2026, 1, 1, tzinfo=UTC)]
    Transaction.objects.bulk_create(
        Transaction(
            owner=owner,
            tx_id=f"orm_{n:05d}",
            type="charge",
            source="usage",
            amount=amount,
            description=f"Traffic of x on {n}",
            proxy=proxy if n % 2 else None,
            created_at=moments[n % 2],
        )
        for n, amount in enumerate(amounts)
    )
    bulk_insert(
        Transaction,
        LEDGER,
        [
            (
                owner.pk,
                f"raw_{n:05d}",
                "charge",
                "usage",
                amount,
                "USD",
                f"Traffic of x on {n}",
                proxy.pk if n % 2 else None,
                moments[n % 2],
            )
            for n, amount in enumerate(amounts)
        ],
    )
    raw = stored(tx_id__startswith="raw_")
    assert len(raw) == count
    assert raw == stored(tx_id__startswith="orm_")
    assert raw[0][-1] == AT  # microseconds and the time zone survive
    # Stored alike, not only read back alike: SQLite keeps text, which the database compares.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substr(tx_id, 1, 3), amount, created_at FROM billing_transaction "
            "WHERE tx_id IN ('raw_00000', 'orm_00000') ORDER BY tx_id"
        )
        (_, *orm_columns), (_, *raw_columns) = cursor.fetchall()
    assert raw_columns == orm_columns


@pytest.mark.parametrize("count", [1, 11])
def test_a_row_matching_a_stored_one_updates_only_the_fields_named(count, monkeypatch):
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 4)  # SQLite: several statements too
    proxy = ProxyFactory()
    days = [date(2026, 3, day) for day in range(1, count + 1)]
    UsageDaily.objects.create(
        proxy=proxy,
        owner=proxy.owner,
        date=days[0],
        traffic_bytes=5,
        requests=5,
        cost=Decimal("5.00"),
        price_per_gb=Decimal("1.00"),
    )
    bulk_insert(
        UsageDaily,
        ["proxy", "owner", "date", "traffic_bytes", "requests", "cost", "price_per_gb"],
        [(proxy.pk, proxy.owner_id, day, 7, 8, Decimal("9.99"), Decimal("2.00")) for day in days],
        unique=["proxy", "date"],
        update=["traffic_bytes", "requests", "cost"],
    )
    rows = list(
        UsageDaily.objects.order_by("date").values_list(
            "date", "traffic_bytes", "requests", "cost", "price_per_gb"
        )
    )
    # The stored day keeps its price (not in `update`); the others are new rows.
    assert rows[0] == (days[0], 7, 8, Decimal("9.99"), Decimal("1.00"))
    assert rows[1:] == [(day, 7, 8, Decimal("9.99"), Decimal("2.00")) for day in days[1:]]


def test_nothing_to_insert_runs_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        bulk_insert(Transaction, LEDGER, [])
