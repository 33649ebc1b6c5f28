"""Money is USD as `Decimal` with two places; this module is the one place that rounds it."""

from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")


def round_cents(amount: Decimal) -> Decimal:
    """`amount` rounded to whole cents, halves away from zero (0.005 -> 0.01), as billing does."""
    return amount.quantize(CENTS, ROUND_HALF_UP)


def has_cents_only(amount: Decimal) -> bool:
    """Whether `amount` is already a whole number of cents (no third decimal)."""
    return amount == amount.quantize(CENTS)
