"""Ledger checks: an account's balance is always the sum of its transactions."""

from decimal import Decimal

from billing.models import Balance, Transaction


def ledger_sum(**filters) -> Decimal:
    """The sum of the matching transactions' amounts.

    Summed in Python: SQLite's SUM() over a decimal column adds floats."""
    amounts = Transaction.objects.filter(**filters).values_list("amount", flat=True)
    return sum(amounts, Decimal("0.00"))


def assert_balance_is_ledger_sum(owner) -> Decimal:
    """The stored balance is a Decimal equal to the sum of the owner's ledger.  Returns it."""
    balance = Balance.objects.get(owner=owner).funds_available
    assert isinstance(balance, Decimal)
    assert balance == ledger_sum(owner=owner)
    return balance
