"""Figures as the dashboard shows them."""

from decimal import Decimal

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB")


def human_bytes(value: int) -> str:
    """Traffic in decimal units, `1.25 GB` for 1,250,000,000 bytes.

    Decimal (10^3) rather than binary units because plans are priced per GB of 10^9 bytes: a figure
    on the page multiplied by the plan's price must give the cost on the same page.
    """
    amount, unit = Decimal(value), 0
    while abs(amount) >= 1000 and unit < len(_UNITS) - 1:
        amount /= 1000
        unit += 1
    if unit == 0:
        return f"{value} B"
    return f"{amount:.2f} {_UNITS[unit]}"
