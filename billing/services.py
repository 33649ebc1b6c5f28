"""Every money movement: top-ups, refunds and usage charges, each a ledger transaction.

The account's `Balance` row is locked first in every workflow that touches money or usage
(`balance_lock`), so concurrent charges and top-ups of one account apply one after the other and
the balance always equals the sum of the ledger.
"""

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.money import has_cents_only, round_cents

from .models import Balance, Transaction, TransactionType
from .signals import funds_credited

MAX_TOPUP = Decimal("1000000.00")
_ALPHABET = string.ascii_letters + string.digits


def new_tx_id() -> str:
    return "tx_" + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def balance_lock(owner_id: int) -> Balance:
    """The account's balance row, created if missing and locked until the transaction ends.

    Must run inside `transaction.atomic`.  Lock order everywhere: balance first, then proxies.
    """
    Balance.objects.bulk_create([Balance(owner_id=owner_id)], ignore_conflicts=True)
    return Balance.objects.select_for_update().get(owner_id=owner_id)


def parse_money(value: object, *, field: str = "amount") -> Decimal:
    """A positive amount with at most two decimals, as Decimal; ValidationError otherwise."""
    if isinstance(value, float | bool):
        value = str(value) if isinstance(value, float) else None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise ValidationError({field: "Enter an amount such as 12.50."}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({field: "The amount must be greater than zero."})
    # Checked before quantize(): quantizing a huge value (1e30) raises InvalidOperation.
    if amount > MAX_TOPUP:
        raise ValidationError({field: f"The amount must be at most {MAX_TOPUP}."})
    if not has_cents_only(amount):
        raise ValidationError({field: "Use at most two decimal places."})
    return round_cents(amount)


def _ledger_entry(
    balance: Balance,
    *,
    type: str,
    amount: Decimal,
    source: str,
    description: str,
    created_at: datetime,
    proxy_id: int | None,
) -> Transaction:
    """An unsaved ledger row of the balance's account."""
    return Transaction(
        owner_id=balance.owner_id,
        tx_id=new_tx_id(),
        type=type,
        source=source,
        amount=amount,
        description=description[:255],
        proxy_id=proxy_id,
        created_at=created_at,
    )


def _book(
    balance: Balance,
    *,
    type: str,
    amount: Decimal,
    source: str,
    description: str,
    now: datetime,
    proxy=None,
) -> Transaction:
    entry = _ledger_entry(
        balance,
        type=type,
        amount=amount,
        source=source,
        description=description,
        created_at=now,
        proxy_id=proxy.pk if proxy else None,
    )
    entry.save(force_insert=True)
    Balance.objects.filter(pk=balance.pk).update(
        funds_available=F("funds_available") + amount, updated_at=now
    )
    balance.funds_available += amount
    return entry


def _credit(*, owner, type: str, amount: object, description: str, source: str, now) -> Transaction:
    """Book money in and announce it (`billing.signals.funds_credited`) within the transaction:
    proxies suspended for lack of balance resume at once (A10)."""
    now = now or timezone.now()
    value = parse_money(amount)
    with transaction.atomic():
        balance = balance_lock(owner.pk)
        entry = _book(
            balance, type=type, amount=value, source=source, description=description, now=now
        )
        funds_credited.send(sender=Balance, owner_id=owner.pk, balance=balance, now=now)
    return entry


def balance_topup(
    *,
    owner,
    amount: object,
    description: str = "",
    source: str = "manual",
    now: datetime | None = None,
) -> Transaction:
    """Add funds; proxies suspended for lack of balance resume at once (A10)."""
    return _credit(
        owner=owner,
        type=TransactionType.TOP_UP,
        amount=amount,
        description=description or "Balance top-up",
        source=source,
        now=now,
    )


def balance_refund(
    *,
    owner,
    amount: object,
    description: str = "",
    source: str = "staff",
    now: datetime | None = None,
) -> Transaction:
    """Give money back (e.g. for a failed delivery); like a top-up, it can resume proxies."""
    return _credit(
        owner=owner,
        type=TransactionType.REFUND,
        amount=amount,
        description=description or "Refund",
        source=source,
        now=now,
    )


def balance_charge(
    *, balance: Balance, amount: Decimal, proxy, description: str, now: datetime
) -> Transaction:
    """Book a usage charge against a balance the caller has locked (`balance_lock`)."""
    return _book(
        balance,
        type=TransactionType.CHARGE,
        amount=-amount,
        source="usage",
        description=description,
        now=now,
        proxy=proxy,
    )


@dataclass(frozen=True)
class Charge:
    """A usage charge to book: a positive amount for a proxy's traffic, dated `created_at`."""

    amount: Decimal
    proxy_id: int | None
    description: str
    created_at: datetime


def balance_charge_bulk(
    *, balance: Balance, charges: Sequence[Charge], now: datetime
) -> list[Transaction]:
    """Book many usage charges against a balance the caller has locked (`balance_lock`): the
    ledger entries `balance_charge` would book for each, written in one insert, and the balance
    moved once by their sum."""
    entries = [
        _ledger_entry(
            balance,
            type=TransactionType.CHARGE,
            amount=-charge.amount,
            source="usage",
            description=charge.description,
            created_at=charge.created_at,
            proxy_id=charge.proxy_id,
        )
        for charge in charges
    ]
    if not entries:
        return []
    Transaction.objects.bulk_create(entries)
    total = sum((entry.amount for entry in entries), Decimal("0.00"))
    Balance.objects.filter(pk=balance.pk).update(
        funds_available=F("funds_available") + total, updated_at=now
    )
    balance.funds_available += total
    return entries
