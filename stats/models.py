"""Per-proxy daily traffic totals, added to by `usage_record` (SPEC 3.3)."""

from decimal import Decimal

from django.conf import settings
from django.db import models


class UsageDaily(models.Model):
    """Traffic, requests and cost of one proxy on one UTC day.

    `owner` is copied from the proxy so account-wide reports read one index range, with no join.
    `cost` is the sum of the (cent-rounded) charges booked for this day, so it matches the ledger.
    `price_per_gb` is the plan's price when the day was first billed (A16): every later record of
    the day is charged at it, so a price change never re-prices traffic already charged.
    """

    proxy = models.ForeignKey("proxies.Proxy", on_delete=models.PROTECT, related_name="usage")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    traffic_bytes = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    price_per_gb = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        verbose_name_plural = "daily usage"
        constraints = [
            models.UniqueConstraint(fields=["proxy", "date"], name="usage_proxy_date_unique")
        ]
        indexes = [
            # Covering: account reports (sums per day over a date range) read only this index.
            models.Index(
                fields=["owner", "date", "traffic_bytes", "requests", "cost"],
                name="usage_owner_date_cover_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.proxy_id} {self.date}: {self.traffic_bytes} B"
