"""Proxies of an account (SPEC 3.2, A8-A10).

A proxy is addressed by a short opaque `public_id`, never by its sequential primary key.  Deleting
a proxy only marks it deleted, so its usage and charges stay in reports and the ledger.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.models import ProxyType

NAME_PATTERN = r"^[a-z0-9_]+$"


class ProxyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PENDING = "pending", "Pending"
    INACTIVE = "inactive", "Inactive"
    SUSPENDED = "suspended", "Suspended"


class SuspensionReason(models.TextChoices):
    NONE = "", "-"
    LIMIT = "limit", "Usage limit reached"
    BALANCE = "balance", "Balance exhausted"


class LimitType(models.TextChoices):
    MONEY = "money", "Money (USD)"
    TRAFFIC = "traffic", "Traffic (bytes)"


class LimitPeriod(models.TextChoices):
    DAILY = "daily", "Daily"
    MONTHLY = "monthly", "Monthly"


class ProxyQuerySet(models.QuerySet):
    def alive(self) -> "ProxyQuerySet":
        """Not deleted."""
        return self.filter(deleted_at__isnull=True)


class Proxy(models.Model):
    """One proxy endpoint of an account, billed by its plan, optionally capped by a limit.

    `status` is stored so lists can filter on it: `inactive` when the owner switched it off
    (`enabled` false), `suspended` while `suspended_reason` holds (limit reached until
    `suspended_until`, or balance exhausted until a top-up), `active` otherwise.
    """

    public_id = models.CharField(max_length=12, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proxies"
    )
    name = models.CharField(max_length=64, validators=[RegexValidator(NAME_PATTERN)])
    proxy_type = models.CharField(max_length=16, choices=ProxyType.choices)
    # The Public API calls the plan a tariff (`tariff`, `tariff_id`); inside, it is the plan.
    plan = models.ForeignKey(
        "billing.Plan", on_delete=models.PROTECT, related_name="proxies", db_column="tariff_id"
    )
    countries = models.ManyToManyField("geo.Country", blank=True, related_name="+")
    description = models.CharField(max_length=500, blank=True)
    ip_whitelist = models.JSONField(default=list, blank=True)
    limit_type = models.CharField(max_length=8, choices=LimitType.choices, blank=True)
    limit_period = models.CharField(max_length=8, choices=LimitPeriod.choices, blank=True)
    limit_total = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    enabled = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=ProxyStatus.choices, default=ProxyStatus.ACTIVE
    )
    suspended_reason = models.CharField(max_length=8, choices=SuspensionReason.choices, blank=True)
    suspended_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ProxyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "proxies"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=Q(deleted_at__isnull=True),
                name="proxy_owner_name_unique",
            ),
            models.CheckConstraint(
                condition=Q(limit_type="", limit_period="", limit_total__isnull=True)
                | (~Q(limit_type="") & ~Q(limit_period="") & Q(limit_total__gte=0)),
                name="proxy_limit_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "deleted_at", "status"], name="proxy_owner_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    @property
    def has_limit(self) -> bool:
        return bool(self.limit_type)


class IdempotencyRecord(models.Model):
    """The first answer to a `POST /v1/proxy` sent with an `Idempotency-Key` (A15): replayed to a
    retry with the same key and body for IDEMPOTENCY_TTL, refused (409) with a different body."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The JSON text as first sent: a jsonb column would reorder its keys, and a replay must be
    # the same answer to the byte.
    response = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.key}"


class UsageDaily(models.Model):
    """Traffic, requests and cost of one proxy on one UTC day.

    `owner` is copied from the proxy so account-wide reports read one index range, with no join.
    `cost` is the sum of the (cent-rounded) charges booked for this day, so it matches the ledger.
    `price_per_gb` is the plan's price when the day was first billed (A16): every later record of
    the day is charged at it, so a price change never re-prices traffic already charged.
    """

    proxy = models.ForeignKey(Proxy, on_delete=models.PROTECT, related_name="usage")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    traffic_bytes = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    price_per_gb = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        # Kept from when the model lived in `stats` (moved without touching the table).
        db_table = "stats_usagedaily"
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


class AccountUsageDaily(models.Model):
    """Traffic, requests and cost of a whole account on one UTC day: the sum of that account's
    `UsageDaily` rows of the day (deleted proxies included), with a row exactly when there are any.

    Written in the same transaction as the proxy rows it sums (`stats.services.usage_record_bulk`,
    under the account's lock), so the two never disagree; account reports read one row per day
    instead of one per proxy and day.  `manage.py check_usage_rollup` verifies the promise.
    """

    # No index of its own: the unique (owner, date) constraint's index serves every lookup.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    date = models.DateField()
    traffic_bytes = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    # The sum of many UsageDaily.cost (numeric(14,2)) of one day: room for 10^6 proxies at the
    # largest cost one of them can hold (exact on PostgreSQL; SQLite keeps decimals as floats,
    # exact to the cent up to 15 significant digits, $10^13 a day, like every decimal there).
    cost = models.DecimalField(max_digits=20, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        verbose_name_plural = "account daily usage"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "date"], name="account_usage_owner_date_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.date}: {self.traffic_bytes} B"
