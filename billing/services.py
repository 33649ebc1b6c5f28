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

from common.bulk import bulk_insert
from common.money import has_cents_only, round_cents

from .models import Balance, Transaction, TransactionType
from .signals import funds_credited

MAX_TOPUP = Decimal("1000000.00")
_ALPHABET = string.ascii_letters + string.digits


TX_ID_CHARACTERS = 16
# Random bytes below 248 (= 4 x 62) map onto the alphabet four times over, so every character is
# equally likely; the bytes from 248 up are dropped.
_BYTE_TO_CHARACTER = bytes.maketrans(bytes(range(248)), (_ALPHABET * 4).encode())
_DROPPED_BYTES = bytes(range(248, 256))


def new_tx_ids(count: int) -> list[str]:
    """`count` ledger ids: "tx_" and 16 characters drawn uniformly from letters and digits.

    From a few reads of the operating system's random source (`secrets`) for the whole list: one
    read per character cost a batch of 50,000 charges about a second.
    """
    wanted = count * TX_ID_CHARACTERS
    characters = ""
    while len(characters) < wanted:
        # About 3% of the bytes are dropped: ask for a little more than is needed.
        drawn = secrets.token_bytes((wanted - len(characters)) * 17 // 16 + 16)
        characters += drawn.translate(_BYTE_TO_CHARACTER, _DROPPED_BYTES).decode()
    return [
        "tx_" + characters[start : start + TX_ID_CHARACTERS]
        for start in range(0, wanted, TX_ID_CHARACTERS)
    ]


def new_tx_id() -> str:
    return new_tx_ids(1)[0]


def balance_lock(owner_id: int) -> Balance:
    """The account's balance row, created if missing and locked until the transaction ends.

    Must run inside `transaction.atomic`.  Lock order everywhere: balance first, then proxies.
    """
    # Looked for first: nearly every account has its row, so locking it is one query, not an
    # insert attempt and a query (a usage record or a batch chunk takes this lock every time).
    balance = Balance.objects.select_for_update().filter(owner_id=owner_id).first()
    if balance is None:
        Balance.objects.bulk_create([Balance(owner_id=owner_id)], ignore_conflicts=True)
        balance = Balance.objects.select_for_update().get(owner_id=owner_id)
    return balance


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
    entry = Transaction.objects.create(
        owner_id=balance.owner_id,
        tx_id=new_tx_id(),
        type=type,
        source=source,
        amount=amount,
        description=description[:255],
        proxy=proxy,
        created_at=now,
    )
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


def balance_charge_bulk(*, balance: Balance, charges: Sequence[Charge], now: datetime) -> list[str]:
    """Book many usage charges against a balance the caller has locked (`balance_lock`): the
    ledger entries `balance_charge` would book for each, written by one insert per 500 entries
    (no model instance per entry), and the balance moved once by their sum.  Returns the
    entries' `tx_id`s, in the order of `charges`."""
    if not charges:
        return []
    tx_ids = new_tx_ids(len(charges))
    currency = Transaction._meta.get_field("currency").get_default()
    bulk_insert(
        Transaction,
        [
            "owner",
            "tx_id",
            "type",
            "source",
            "amount",
            "currency",
            "description",
            "proxy",
            "created_at",
        ],
        [
            (
                balance.owner_id,
                tx_id,
                TransactionType.CHARGE.value,
                "usage",
                -charge.amount,
                currency,
                charge.description[:255],
                charge.proxy_id,
                charge.created_at,
            )
            for tx_id, charge in zip(tx_ids, charges, strict=True)
        ],
    )
    total = -sum((charge.amount for charge in charges), Decimal("0.00"))
    Balance.objects.filter(pk=balance.pk).update(
        funds_available=F("funds_available") + total, updated_at=now
    )
    balance.funds_available += total
    return tx_ids
