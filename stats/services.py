"""Recording traffic (SPEC 3.3): the gateway's one entry point into usage and billing."""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import CENTS
from billing.services import account_lock, balance_charge
from proxies.models import Proxy, UsageDaily
from proxies.services import proxies_refresh_for_account, proxy_refresh_status

BYTES_PER_GB = Decimal(10**9)
MAX_BYTES_PER_RECORD = 10**15
MAX_REQUESTS_PER_RECORD = 10**12
MAX_BACKDATE_DAYS = 400


def _whole(value: object, field: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValidationError({field: f"Send a whole number from 0 to {maximum}."})
    return value


def usage_cost(traffic_bytes: int, price_per_gb: Decimal) -> Decimal:
    """Exact (unrounded) cost of traffic at a price per GB (10^9 bytes)."""
    return Decimal(traffic_bytes) * price_per_gb / BYTES_PER_GB


def usage_record(
    *,
    proxy: Proxy,
    day: date,
    traffic_bytes: int,
    requests: int,
    now: datetime | None = None,
) -> UsageDaily:
    """Add traffic to the proxy's daily total, charge the account, apply limits and balance (A10).

    One database transaction.  The account is locked first, then the proxy, so concurrent records
    for the same proxy or account apply one after the other: nothing is counted twice or lost.
    Money is rounded to cents once per proxy and day: each record charges the difference between
    the day's rounded running total and what was already charged, so small records are billed too.
    The day is priced once (A16): its first record stores the plan's price with the day, and every
    later record of that day is charged at the stored price, whatever the plan costs by then.
    """
    now = now or timezone.now()
    traffic_bytes = _whole(traffic_bytes, "traffic_bytes", MAX_BYTES_PER_RECORD)
    requests = _whole(requests, "requests", MAX_REQUESTS_PER_RECORD)
    today = now.astimezone(UTC).date()
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError({"date": "Send a date (YYYY-MM-DD)."})
    if day > today:
        raise ValidationError({"date": "Usage cannot be recorded for a future date."})
    if day < today - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationError(
            {"date": f"Usage older than {MAX_BACKDATE_DAYS} days cannot be recorded."}
        )

    with transaction.atomic():
        balance = account_lock(proxy.owner_id)
        locked = (
            Proxy.objects.select_related("tariff").select_for_update(of=("self",)).get(pk=proxy.pk)
        )
        usage, _ = UsageDaily.objects.get_or_create(
            proxy=locked,
            date=day,
            defaults={"owner_id": locked.owner_id, "price_per_gb": locked.tariff.price_per_gb},
        )
        exact_total = usage_cost(usage.traffic_bytes + traffic_bytes, usage.price_per_gb)
        # `usage.cost` is what was already charged for the day, so the day's charges always sum to
        # its rounded total; a lowered price never turns into a negative charge.
        charge = max(exact_total.quantize(CENTS, ROUND_HALF_UP) - usage.cost, Decimal("0.00"))
        UsageDaily.objects.filter(pk=usage.pk).update(
            traffic_bytes=F("traffic_bytes") + traffic_bytes,
            requests=F("requests") + requests,
            cost=F("cost") + charge,
        )
        if charge:
            balance_charge(
                balance=balance,
                amount=charge,
                proxy=locked,
                description=f"Traffic of {locked.name} on {day:%Y-%m-%d}",
                now=now,
            )
        if balance.funds_available <= 0:
            proxies_refresh_for_account(owner_id=locked.owner_id, balance=balance, now=now)
        else:
            proxy_refresh_status(locked, balance=balance, now=now)
        usage.refresh_from_db()
        return usage
