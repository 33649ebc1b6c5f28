"""usage_record: daily totals, charges rounded to cents once per proxy-day, validation (SPEC 3.3).

The A10 status rules it triggers are tested with the proxy services in tests/proxies.
"""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Balance, Plan, Transaction, TransactionType
from proxies.models import UsageDaily
from proxies.services import proxy_delete
from stats.services import MAX_BACKDATE_DAYS, MAX_BYTES_PER_RECORD, usage_cost, usage_record
from tests.factories import PlanFactory
from tests.ledger import assert_balance_is_ledger_sum

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
GB = 10**9
CENTS = Decimal("0.01")


@pytest.fixture
def now():
    """`fund`, `make_proxy` and `record` act at NOW unless told; `funded` has $1,000.00."""
    return NOW


def plan_at(price: str) -> Plan:
    return PlanFactory(price_per_gb=Decimal(price))


# Ledger sums are taken in Python: SQLite's SUM() over a decimal column adds floats.
def charges(proxy) -> Decimal:
    amounts = Transaction.objects.filter(proxy=proxy, type=TransactionType.CHARGE)
    return -sum(amounts.values_list("amount", flat=True), Decimal("0.00"))


def test_record_adds_to_the_days_totals_and_charges_the_plan_price(funded, record, make_proxy):
    proxy = make_proxy(plan=plan_at("4.00"))
    first = record(proxy, GB, 100)
    assert (first.traffic_bytes, first.requests, first.cost) == (GB, 100, Decimal("4.00"))
    second = record(proxy, GB // 2, 50)
    assert (second.pk, second.traffic_bytes, second.requests, second.cost) == (
        first.pk,
        GB + GB // 2,
        150,
        Decimal("6.00"),
    )
    assert second.owner_id == funded.pk
    assert UsageDaily.objects.count() == 1
    assert list(
        Transaction.objects.filter(type=TransactionType.CHARGE)
        .order_by("pk")
        .values_list("amount", "proxy", "source", "created_at")
    ) == [
        (Decimal("-4.00"), proxy.pk, "usage", NOW),
        (Decimal("-2.00"), proxy.pk, "usage", NOW),
    ]
    assert Balance.objects.get(owner=funded).funds_available == Decimal("994.00")
    assert_balance_is_ledger_sum(funded)


def test_each_day_and_proxy_has_its_own_row(record, make_proxy):
    one, two = make_proxy(name="one"), make_proxy(name="two")
    record(one, GB, day=TODAY)
    record(one, GB, day=TODAY - timedelta(days=1))
    record(two, GB, day=TODAY)
    assert UsageDaily.objects.count() == 3
    assert UsageDaily.objects.get(proxy=one, date=TODAY - timedelta(days=1)).cost == Decimal("4.00")


def test_many_small_records_are_still_billed(record, make_proxy):
    # 1 MB at $4.00/GB is $0.004: rounded on its own it would never be charged.
    proxy = make_proxy(plan=plan_at("4.00"))
    for _ in range(100):
        usage = record(proxy, 10**6)
    assert usage.traffic_bytes == 10**8
    assert usage.cost == Decimal("0.40")
    assert charges(proxy) == Decimal("0.40")


def test_small_records_are_not_overbilled(record, make_proxy):
    # 4 MB at $4.00/GB is $0.016: rounded on its own each would be charged $0.02 (25% too much).
    proxy = make_proxy(plan=plan_at("4.00"))
    for _ in range(250):
        usage = record(proxy, 4 * 10**6)
    assert usage.traffic_bytes == GB
    assert usage.cost == charges(proxy) == Decimal("4.00")


def test_days_cost_is_the_rounded_total_whatever_the_record_sizes(funded, record, make_proxy):
    rng = random.Random(20260314)
    proxy = make_proxy(plan=plan_at("3.33"))
    total = 0
    for _ in range(120):
        size = rng.choice([1, 999, 123_457, 2_500_000, 7 * 10**6, 333 * 10**6])
        total += size
        usage = record(proxy, size)
        expected = (Decimal(total) * Decimal("3.33") / GB).quantize(CENTS, ROUND_HALF_UP)
        assert usage.cost == expected
    assert charges(proxy) == usage.cost
    assert_balance_is_ledger_sum(funded)


@pytest.mark.parametrize(
    ("traffic_bytes", "price", "cost"),
    [
        (1_250_000, "4.00", "0.01"),  # $0.005 rounds half up
        (1_249_999, "4.00", "0.00"),
        (123_456_789_012, "8.00", "987.65"),
        (MAX_BYTES_PER_RECORD, "8.00", "8000000.00"),
        (0, "4.00", "0.00"),
    ],
)
def test_cost_is_rounded_half_up_to_cents(record, make_proxy, traffic_bytes, price, cost):
    proxy = make_proxy(plan=plan_at(price))
    usage = record(proxy, traffic_bytes)
    assert usage.cost == Decimal(cost)
    assert charges(proxy) == Decimal(cost)


def test_a_record_that_rounds_to_nothing_books_no_charge(record, make_proxy):
    proxy = make_proxy()
    record(proxy, 1000, 5)
    assert not Transaction.objects.filter(type=TransactionType.CHARGE).exists()
    assert UsageDaily.objects.get().requests == 5


def test_money_is_decimal_everywhere(funded, record, make_proxy):
    proxy = make_proxy(plan=plan_at("2.50"))
    usage = record(proxy, 333_333_333)
    usage.refresh_from_db()
    entry = Transaction.objects.get(type=TransactionType.CHARGE)
    balance = Balance.objects.get(owner=funded).funds_available
    for value in (usage.cost, entry.amount, balance, usage_cost(1, Decimal("2.50"))):
        assert isinstance(value, Decimal)
    assert (usage.cost, entry.amount) == (Decimal("0.83"), Decimal("-0.83"))


def set_price(proxy, price: str) -> None:
    """An operator edits the plan (as in the admin)."""
    proxy.plan.price_per_gb = Decimal(price)
    proxy.plan.save()


def test_a_raised_price_never_re_prices_the_days_billed_traffic(funded, record, make_proxy):
    """A16, the reported case: $1/GB, then $5/GB, then one more byte."""
    proxy = make_proxy(plan=plan_at("1.00"))
    record(proxy, 80 * GB)  # $80.00 at $1/GB
    set_price(proxy, "5.00")
    usage = record(proxy, 1)  # one byte, at the day's stored $1/GB: rounds to nothing
    assert usage.cost == charges(proxy) == Decimal("80.00")
    usage = record(proxy, GB)  # a whole new GB of the same day: $1.00, not $5.00 and not $400
    assert usage.cost == charges(proxy) == Decimal("81.00")
    assert usage.price_per_gb == Decimal("1.00")
    assert_balance_is_ledger_sum(funded)


def test_a_price_change_applies_from_the_next_day(record, make_proxy):
    proxy = make_proxy(plan=plan_at("8.00"))
    record(proxy, GB)  # $8.00
    set_price(proxy, "1.00")
    today = record(proxy, GB)  # the day was priced at $8.00: no discount on its own traffic
    tomorrow = record(proxy, GB, day=TODAY + timedelta(days=1), now=NOW + timedelta(days=1))
    assert (today.cost, today.price_per_gb) == (Decimal("16.00"), Decimal("8.00"))
    assert (tomorrow.cost, tomorrow.price_per_gb) == (Decimal("1.00"), Decimal("1.00"))
    assert charges(proxy) == Decimal("17.00")
    assert not Transaction.objects.filter(amount__gt=0, type=TransactionType.CHARGE).exists()


def test_a_day_not_yet_billed_takes_the_price_in_force_at_its_first_record(
    funded, record, make_proxy
):
    proxy = make_proxy(plan=plan_at("2.00"))
    record(proxy, GB)
    set_price(proxy, "3.00")
    backdated = record(proxy, GB, day=TODAY - timedelta(days=2))  # first record of that day
    assert (backdated.cost, backdated.price_per_gb) == (Decimal("3.00"), Decimal("3.00"))


def test_charge_description_names_the_proxy_and_day(record, make_proxy):
    proxy = make_proxy(name="shop_scraper")
    record(proxy, GB, day=TODAY - timedelta(days=3))
    assert Transaction.objects.get(type=TransactionType.CHARGE).description == (
        "Traffic of shop_scraper on 2026-03-11"
    )


def test_backdated_records_are_accepted_up_to_the_limit(record, make_proxy):
    proxy = make_proxy()
    oldest = TODAY - timedelta(days=MAX_BACKDATE_DAYS)
    assert record(proxy, GB, day=oldest).date == oldest


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"traffic_bytes": -1}, "traffic_bytes"),
        ({"traffic_bytes": 1.5}, "traffic_bytes"),
        ({"traffic_bytes": "100"}, "traffic_bytes"),
        ({"traffic_bytes": True}, "traffic_bytes"),
        ({"traffic_bytes": None}, "traffic_bytes"),
        ({"traffic_bytes": MAX_BYTES_PER_RECORD + 1}, "traffic_bytes"),
        ({"requests": -5}, "requests"),
        ({"requests": 2.0}, "requests"),
        ({"day": TODAY + timedelta(days=1)}, "date"),
        ({"day": TODAY - timedelta(days=MAX_BACKDATE_DAYS + 1)}, "date"),
        ({"day": "2026-03-14"}, "date"),
        ({"day": NOW}, "date"),
    ],
)
def test_bad_input_raises_and_writes_nothing(funded, make_proxy, fields, field):
    proxy = make_proxy()
    values = {"proxy": proxy, "day": TODAY, "traffic_bytes": GB, "requests": 1, "now": NOW}
    with pytest.raises(ValidationError) as error:
        usage_record(**{**values, **fields})
    assert list(error.value.message_dict) == [field]
    assert not UsageDaily.objects.exists()
    assert not Transaction.objects.filter(type=TransactionType.CHARGE).exists()
    assert Balance.objects.get(owner=funded).funds_available == Decimal("1000.00")


def test_future_is_judged_in_utc(record, make_proxy):
    proxy = make_proxy()
    late_evening = datetime(2026, 3, 14, 23, 59, tzinfo=UTC)
    with pytest.raises(ValidationError):
        record(proxy, 1, day=date(2026, 3, 15), now=late_evening)
    assert record(proxy, 1, day=date(2026, 3, 15), now=late_evening + timedelta(minutes=1))


def test_record_returns_exactly_what_it_charged(make_proxy):
    proxy = make_proxy(plan=plan_at("4.00"))
    charged = [
        usage_record(proxy=proxy, day=TODAY, traffic_bytes=size, requests=1, now=NOW).charged
        for size in (GB, 1_250_000, 1, GB // 3)
    ]
    assert charged == [Decimal("4.00"), Decimal("0.01"), Decimal("0.00"), Decimal("1.33")]
    assert sum(charged) == charges(proxy)


def test_usage_after_the_proxy_was_deleted_is_refused(record, make_proxy):
    proxy = make_proxy()
    proxy_delete(proxy=proxy, now=NOW - timedelta(days=2))
    proxy.refresh_from_db()
    assert record(proxy, GB, day=TODAY - timedelta(days=2)).traffic_bytes == GB
    with pytest.raises(ValidationError) as error:
        record(proxy, GB, day=TODAY - timedelta(days=1))
    assert list(error.value.message_dict) == ["proxy"]
