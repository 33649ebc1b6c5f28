"""Ledger services: top-ups, refunds, charges; the balance is always the sum of the ledger."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import Balance, Transaction, TransactionType
from billing.selectors import balance_get
from billing.services import (
    MAX_TOPUP,
    balance_charge,
    balance_lock,
    balance_refund,
    balance_topup,
    parse_money,
)
from proxies.models import ProxyStatus, SuspensionReason
from tests.factories import PlanFactory, UserFactory, update_proxy
from tests.ledger import assert_balance_is_ledger_sum

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("12.5", Decimal("12.50")),
        (" 7 ", Decimal("7.00")),
        ("0.01", Decimal("0.01")),
        (3, Decimal("3.00")),
        (Decimal("4.2"), Decimal("4.20")),
        (1.1, Decimal("1.10")),  # a float is read by its shortest repr, never its binary value
        ("1000000", MAX_TOPUP),
    ],
)
def test_parse_money_accepts_positive_cents(value, expected):
    amount = parse_money(value)
    assert amount == expected
    assert isinstance(amount, Decimal)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "greater than zero"),
        ("-1", "greater than zero"),
        ("0.00", "greater than zero"),
        ("1.234", "two decimal places"),
        ("0.001", "two decimal places"),
        ("abc", "such as 12.50"),
        ("", "such as 12.50"),
        ("1,50", "such as 12.50"),
        (None, "such as 12.50"),
        (True, "such as 12.50"),
        ("NaN", "greater than zero"),
        ("Infinity", "greater than zero"),
        ("1000000.01", "at most"),
        ("1e30", "at most"),
        ("9" * 40, "at most"),
    ],
)
def test_parse_money_rejects_with_a_field_message(value, message):
    with pytest.raises(ValidationError) as error:
        parse_money(value)
    assert list(error.value.message_dict) == ["amount"]
    assert message in error.value.message_dict["amount"][0]


def test_topup_books_a_transaction_and_raises_the_balance(user):
    entry = balance_topup(owner=user, amount="12.50", description="Invoice 7", now=NOW)
    assert (entry.type, entry.amount, entry.source, entry.description, entry.created_at) == (
        TransactionType.TOP_UP,
        Decimal("12.50"),
        "manual",
        "Invoice 7",
        NOW,
    )
    assert entry.tx_id.startswith("tx_")
    assert len(entry.tx_id) == 19
    assert balance_get(owner_id=user.pk) == Decimal("12.50")
    assert_balance_is_ledger_sum(user)


def test_new_account_has_zero_balance_as_decimal(user):
    assert balance_get(owner_id=user.pk) == Decimal("0.00")
    assert isinstance(balance_get(owner_id=user.pk), Decimal)


@pytest.mark.parametrize("amount", ["0", "-1", "1.234", "abc", "1e30"])
def test_bad_topup_writes_nothing(user, amount):
    balance_topup(owner=user, amount="5.00")
    with pytest.raises(ValidationError):
        balance_topup(owner=user, amount=amount)
    assert Transaction.objects.filter(owner=user).count() == 1
    assert balance_get(owner_id=user.pk) == Decimal("5.00")


def test_refund_is_a_positive_ledger_entry(user):
    balance_topup(owner=user, amount="10")
    entry = balance_refund(owner=user, amount="2.25", description="Outage on 3 March")
    assert (entry.type, entry.amount, entry.source) == (
        TransactionType.REFUND,
        Decimal("2.25"),
        "staff",
    )
    assert balance_get(owner_id=user.pk) == Decimal("12.25")
    assert_balance_is_ledger_sum(user)


def test_charge_is_negative_and_needs_the_locked_balance(user):
    balance_topup(owner=user, amount="10")
    with transaction.atomic():
        balance = balance_lock(user.pk)
        entry = balance_charge(
            balance=balance, amount=Decimal("3.10"), proxy=None, description="x", now=NOW
        )
        assert balance.funds_available == Decimal("6.90")
    assert (entry.type, entry.amount, entry.source) == (
        TransactionType.CHARGE,
        Decimal("-3.10"),
        "usage",
    )
    assert_balance_is_ledger_sum(user)


def test_account_lock_creates_a_missing_balance_row_once(user):
    with transaction.atomic():
        first = balance_lock(user.pk)
        second = balance_lock(user.pk)
    assert first.funds_available == second.funds_available == Decimal("0.00")
    assert Balance.objects.filter(owner=user).count() == 1


def test_locking_an_existing_balance_row_is_one_query(user, django_assert_num_queries):
    balance_topup(owner=user, amount="10")
    with transaction.atomic(), django_assert_num_queries(1):
        assert balance_lock(user.pk).funds_available == Decimal("10.00")


def test_balance_equals_ledger_sum_after_mixed_movements(user, record, make_proxy):
    balance_topup(owner=user, amount="20", now=NOW)
    proxy = make_proxy(user, plan=PlanFactory(price_per_gb=Decimal("3.00")), now=NOW)
    for traffic in (123_456_789, 987_654_321, 5):
        record(proxy, traffic, now=NOW)
    balance_refund(owner=user, amount="1.01", now=NOW)
    balance_topup(owner=user, amount="0.99", now=NOW)
    assert_balance_is_ledger_sum(user)
    # 1,111,111,115 bytes at $3.00/GB = $3.333... -> $3.33, charged once in total.
    assert balance_get(owner_id=user.pk) == Decimal("20") - Decimal("3.33") + Decimal("2.00")


def test_topups_of_one_account_never_touch_another(user, other_user):
    balance_topup(owner=user, amount="9.99")
    assert balance_get(owner_id=other_user.pk) == Decimal("0.00")
    assert not Transaction.objects.filter(owner=other_user).exists()


@pytest.fixture
def balance_suspended_proxy(user, make_proxy):
    """A proxy of `user`, who has no funds: suspended for balance from the start (A10)."""
    proxy = make_proxy(user)
    assert (proxy.status, proxy.suspended_reason) == (
        ProxyStatus.SUSPENDED,
        SuspensionReason.BALANCE,
    )
    return proxy


@pytest.mark.parametrize("book", [balance_topup, balance_refund])
def test_topup_and_refund_resume_proxies_suspended_for_balance(user, balance_suspended_proxy, book):
    proxy = balance_suspended_proxy
    book(owner=user, amount="1.00")
    proxy.refresh_from_db()
    assert (proxy.status, proxy.suspended_reason) == (ProxyStatus.ACTIVE, SuspensionReason.NONE)


def test_topup_does_not_switch_on_a_proxy_the_owner_switched_off(user, balance_suspended_proxy):
    proxy = balance_suspended_proxy
    update_proxy(proxy=proxy, status=ProxyStatus.INACTIVE)
    balance_topup(owner=user, amount="1.00")
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.INACTIVE


def test_topup_of_another_account_resumes_nothing(balance_suspended_proxy):
    proxy = balance_suspended_proxy
    balance_topup(owner=UserFactory(), amount="50")
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.SUSPENDED
