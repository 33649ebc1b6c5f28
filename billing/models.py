"""Plans, the ledger and the balance it sums to (SPEC 3.3).

Money is `Decimal` with two places, in USD.  The balance changes only together with a ledger
transaction, in one database transaction, so `Balance.funds_available` always equals the sum of
the account's `Transaction.amount` (charges are negative).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class ProxyType(models.TextChoices):
    RESIDENTIAL = "residential", "Residential"
    MOBILE = "mobile", "Mobile"


class Plan(models.Model):
    """A pay-as-you-go tariff for one proxy type: a price per GB of traffic (10^9 bytes)."""

    proxy_type = models.CharField(max_length=16, choices=ProxyType.choices)
    title = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    price_per_gb = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    enabled = models.BooleanField(default=True)
    popular = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["proxy_type", "enabled"], name="plan_type_enabled_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_per_gb__gte=0), name="plan_price_not_negative"
            ),
            models.UniqueConstraint(fields=["proxy_type", "title"], name="plan_type_title_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.proxy_type}, ${self.price_per_gb}/GB)"


class TransactionType(models.TextChoices):
    TOP_UP = "top_up", "Top-up"
    CHARGE = "charge", "Charge"
    REFUND = "refund", "Refund"


class Transaction(models.Model):
    """One ledger entry.  Append-only: `amount` is positive for top-ups and refunds, negative
    for charges."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transactions"
    )
    tx_id = models.CharField(max_length=24, unique=True)
    type = models.CharField(max_length=8, choices=TransactionType.choices)
    source = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    description = models.CharField(max_length=255, blank=True)
    proxy = models.ForeignKey(
        "proxies.Proxy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["owner", "created_at"], name="tx_owner_created_idx")]

    def __str__(self) -> str:
        return f"{self.tx_id} {self.get_type_display()} {self.amount} {self.currency}"


class Balance(models.Model):
    """The account's funds: the running sum of its ledger, and the lock that serialises every
    money-moving or usage-recording workflow of one account."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="balance"
    )
    funds_available = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.owner}: {self.funds_available} USD"
