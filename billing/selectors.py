"""Reads of plans, the ledger and the balance."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from .models import Balance, Plan, ProxyType, Transaction


def plan_list(
    *, proxy_type: str, enabled: bool | None = None, popular: bool | None = None
) -> QuerySet[Plan]:
    plans = Plan.objects.filter(proxy_type=proxy_type)
    if enabled is not None:
        plans = plans.filter(enabled=enabled)
    if popular is not None:
        plans = plans.filter(popular=popular)
    return plans


def enabled_plans_by_type() -> list[tuple[str, list[Plan]]]:
    """(proxy type label, its enabled plans from the cheapest) for each proxy type, as the
    dashboard shows them (Billing page, proxy create and edit forms)."""
    return [
        (label, list(plan_list(proxy_type=value, enabled=True).order_by("price_per_gb", "title")))
        for value, label in ProxyType.choices
    ]


def balance_get(*, owner_id: int) -> Decimal:
    """Funds available; an account that never had a transaction has 0.00."""
    value = (
        Balance.objects.filter(owner_id=owner_id).values_list("funds_available", flat=True).first()
    )
    return value if value is not None else Decimal("0.00")


def transaction_list(*, owner_id: int, date_from: date, date_to: date) -> QuerySet[Transaction]:
    """The account's ledger entries created on the days of the range (UTC)."""
    # Bounds on the column itself (not on its date part) so the (owner, created_at) index applies.
    start = datetime.combine(date_from, time.min, tzinfo=UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
    return Transaction.objects.filter(owner_id=owner_id, created_at__gte=start, created_at__lt=end)
