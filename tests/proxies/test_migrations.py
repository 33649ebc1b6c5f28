"""proxies.0006: `AccountUsageDaily` is filled from the proxy rows already stored, one row per
account and day holding their sums; going back empties it.  Run on the test database itself
(SQLite or PostgreSQL), by Django's MigrationExecutor, with the models as they were at 0005."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("proxies", "0005_account_usage_daily")]
BACKFILL = [("proxies", "0006_account_usage_daily_backfill")]
D = date(2026, 1, 31)


def migrate(targets):
    """Migrate the test database to `targets`; returns the apps (models) as of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # the applied set changed: read it again
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0005():
    """The database as it was before the backfill; put back to the latest state afterwards."""
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


def seed(apps) -> list:
    """Two accounts' proxy rows over three days, with cents that SQLite sums inexactly."""
    User = apps.get_model("accounts", "User")
    Plan = apps.get_model("billing", "Plan")
    Proxy = apps.get_model("proxies", "Proxy")
    UsageDaily = apps.get_model("proxies", "UsageDaily")
    plan = Plan.objects.create(proxy_type="residential", title="P", price_per_gb="4.00")
    owners = [User.objects.create(username=f"m{n}", email=f"m{n}@example.com") for n in range(2)]
    proxies = [
        Proxy.objects.create(
            owner=owner,
            name=f"p{n}",
            public_id=f"id{owner.pk}x{n}",
            plan=plan,
            proxy_type="residential",
        )
        for owner in owners
        for n in range(3)
    ]
    rows = [
        UsageDaily(
            proxy=proxy,
            owner=proxy.owner,
            date=date.fromordinal(D.toordinal() + offset),
            traffic_bytes=10**9 * (index + 1) + offset,
            requests=index + offset,
            cost=Decimal(f"{46288 + index}.{(17 * index + offset) % 100:02d}"),
            price_per_gb=Decimal("4.00"),
        )
        for index, proxy in enumerate(proxies)
        for offset in range(3)
        if (index, offset) != (0, 2)  # one proxy idle on the last day
    ]
    UsageDaily.objects.bulk_create(rows)
    return rows


def expected_sums(rows) -> dict:
    sums: dict = {}
    for row in rows:
        traffic, requests, cost = sums.get((row.owner_id, row.date), (0, 0, Decimal("0.00")))
        sums[(row.owner_id, row.date)] = (
            traffic + row.traffic_bytes,
            requests + row.requests,
            cost + row.cost,
        )
    return sums


def test_backfill_sums_the_proxy_rows_per_account_and_day_and_reverses(at_0005):
    rows = seed(at_0005)
    assert at_0005.get_model("proxies", "AccountUsageDaily").objects.count() == 0

    after = migrate(BACKFILL)
    rollup = after.get_model("proxies", "AccountUsageDaily")
    assert {
        (row.owner_id, row.date): (row.traffic_bytes, row.requests, row.cost)
        for row in rollup.objects.all()
    } == expected_sums(rows)
    assert rollup.objects.count() == 6  # two accounts, three days

    back = migrate(BEFORE)
    assert back.get_model("proxies", "AccountUsageDaily").objects.count() == 0
    assert back.get_model("proxies", "UsageDaily").objects.count() == len(rows)


def test_backfill_of_an_empty_table_writes_nothing(at_0005):
    after = migrate(BACKFILL)
    assert after.get_model("proxies", "AccountUsageDaily").objects.count() == 0
