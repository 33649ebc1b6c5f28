"""balance_charge_bulk: many usage charges booked as `balance_charge` books one, in one insert;
the ledger ids it draws in bulk."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import Balance, Transaction, TransactionType
from billing.services import (
    Charge,
    balance_charge,
    balance_charge_bulk,
    balance_lock,
    balance_topup,
    new_tx_ids,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=2)


@pytest.fixture
def now():
    return NOW


def booked(owner) -> list[tuple]:
    return list(
        Transaction.objects.filter(owner=owner, type=TransactionType.CHARGE)
        .order_by("created_at", "amount")
        .values_list("type", "source", "amount", "description", "proxy", "created_at", "currency")
    )


def test_the_same_entries_as_one_charge_each_and_the_balance_moved_by_their_sum(
    fund, make_proxy, other_user
):
    proxy = make_proxy()
    single, bulk = proxy.owner, fund(other_user, "10.00")
    charges = [
        Charge(Decimal("3.10"), proxy.pk, "Traffic of shop_scraper on 2026-03-08", EARLIER),
        Charge(Decimal("0.01"), proxy.pk, "x" * 300, NOW),
    ]
    with transaction.atomic():
        balance = balance_lock(single.pk)
        for charge in charges:
            balance_charge(
                balance=balance,
                amount=charge.amount,
                proxy=proxy,
                description=charge.description,
                now=charge.created_at,
            )
    with transaction.atomic():
        balance = balance_lock(bulk.pk)
        tx_ids = balance_charge_bulk(balance=balance, charges=charges, now=NOW)
        assert balance.funds_available == Decimal("6.89")

    assert booked(bulk) == booked(single)
    assert [Transaction.objects.get(tx_id=tx_id).amount for tx_id in tx_ids] == [
        Decimal("-3.10"),
        Decimal("-0.01"),
    ]
    assert len(set(tx_ids)) == 2
    stored = Balance.objects.get(owner=bulk)
    assert (stored.funds_available, stored.updated_at) == (Decimal("6.89"), NOW)
    ledger = Transaction.objects.filter(owner=bulk).values_list("amount", flat=True)
    assert stored.funds_available == sum(ledger, Decimal("0.00"))


def test_one_insert_and_one_update_for_many_charges(user):
    balance_topup(owner=user, amount="100", now=NOW)
    charges = [Charge(Decimal("1.00"), None, f"c{n}", NOW) for n in range(50)]
    with transaction.atomic():
        balance = balance_lock(user.pk)
        with CaptureQueriesContext(connection) as captured:
            balance_charge_bulk(balance=balance, charges=charges, now=NOW)
    assert len(captured) == 2
    assert Balance.objects.get(owner=user).funds_available == Decimal("50.00")


def test_no_charges_write_nothing(user):
    with transaction.atomic():
        balance = balance_lock(user.pk)
        with CaptureQueriesContext(connection) as captured:
            assert balance_charge_bulk(balance=balance, charges=[], now=NOW) == []
    assert len(captured) == 0


def test_charges_past_one_statement_are_all_booked(user):
    balance_topup(owner=user, amount="10000", now=NOW)
    charges = [Charge(Decimal("0.01") * (n + 1), None, f"c{n}", NOW) for n in range(1203)]
    with transaction.atomic():
        balance = balance_lock(user.pk)
        tx_ids = balance_charge_bulk(balance=balance, charges=charges, now=NOW)
    stored = dict(
        Transaction.objects.filter(owner=user, type="charge").values_list("tx_id", "amount")
    )
    assert [stored[tx_id] for tx_id in tx_ids] == [-charge.amount for charge in charges]
    assert Balance.objects.get(owner=user).funds_available == Decimal("10000") - sum(
        charge.amount for charge in charges
    )


def test_ledger_ids_are_drawn_uniformly_from_letters_and_digits():
    ids = new_tx_ids(20_000)
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"tx_[A-Za-z0-9]{16}", tx_id) for tx_id in ids)
    counts: dict[str, int] = {}
    for tx_id in ids:
        for character in tx_id[3:]:
            counts[character] = counts.get(character, 0) + 1
    # 320,000 characters over 62: about 5,161 each; a biased mapping (bytes modulo 62 without
    # dropping the top 8 values) would give the first 8 characters about 25% more.
    assert len(counts) == 62
    assert max(counts.values()) < 5_161 * 1.08
    assert min(counts.values()) > 5_161 * 0.92
