"""API keys: stored as a keyed digest plus a display prefix, never as the key itself (K10)."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .scopes import SCOPES


class Expiration(models.TextChoices):
    """Expiration options offered at creation (K5); kept on the key so a rotation can reuse it."""

    DAYS_30 = "30d", "30 days"
    DAYS_90 = "90d", "90 days"
    MONTHS_6 = "6m", "6 months"
    YEAR_1 = "1y", "1 year"
    NEVER = "never", "No expiration"


class APIKeyQuerySet(models.QuerySet):
    def active(self, now: datetime | None = None) -> "APIKeyQuerySet":
        """Keys that authenticate: not revoked and not expired (the K7 count uses this)."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )

    def expired(self, now: datetime | None = None) -> "APIKeyQuerySet":
        return self.filter(revoked_at__isnull=True, expires_at__lte=now or timezone.now())

    def counted(self, now: datetime | None = None) -> "APIKeyQuerySet":
        """Keys that count against the per-account limit (K7): active and not retiring, so a
        rotation counts as one key while its old key works out its grace period (K25)."""
        return self.active(now).filter(rotated_to__isnull=True)

    def revoked(self) -> "APIKeyQuerySet":
        return self.filter(revoked_at__isnull=False)

    def not_revoked(self) -> "APIKeyQuerySet":
        return self.filter(revoked_at__isnull=True)

    def with_scope(self, scope: str) -> "APIKeyQuerySet":
        """Keys granting `scope`.  Scopes are stored space-separated, so match whole tokens only."""
        return self.filter(
            Q(scopes=scope)
            | Q(scopes__startswith=f"{scope} ")
            | Q(scopes__endswith=f" {scope}")
            | Q(scopes__contains=f" {scope} ")
        )


class APIKey(models.Model):
    """One API key of one account, with its scopes, expiry and usage trail.

    `scopes` is a space-separated list in canonical order (the OAuth convention): portable across
    databases, cheap to split on the authentication hot path, and filterable with `with_scope()`.
    """

    # No index of its own: the (owner, revoked_at) index below serves lookups by owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys", db_index=False
    )
    name = models.CharField(max_length=100)
    display_prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.CharField(max_length=200)
    expiration = models.CharField(max_length=8, choices=Expiration.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # K25: set when the key was rotated; `expires_at` is then the end of its grace period, after
    # which it is refused as retired (401 invalid_api_key), not as expired.
    rotated_to = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rotated_from"
    )
    # K26: when the expiry reminder went out; claimed by a conditional UPDATE, so it goes once.
    expiry_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # K30: the addresses and networks the key works from, normalised and space-separated
    # (apikeys.allowlist); empty: anywhere.  Read by the authentication query itself.
    allowed_ips = models.TextField(blank=True, default="", db_default="")

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        indexes = [
            models.Index(fields=["owner", "revoked_at"], name="apikey_owner_revoked_idx"),
            # K25, K27: the rotated keys whose grace ends in a window, for the minute job that logs
            # their retirement; small, as only rotated keys are in it.
            models.Index(
                fields=["expires_at"],
                condition=Q(rotated_to__isnull=False),
                name="apikey_retiring_idx",
            ),
        ]
        constraints = [
            # A constraint rather than unique=True: on PostgreSQL, unique=True on a CharField also
            # builds a LIKE (varchar_pattern_ops) index that the planner may pick for the lookup.
            models.UniqueConstraint(fields=["digest"], name="apikey_digest_unique"),
            models.CheckConstraint(condition=~Q(scopes=""), name="apikey_has_scope"),
            models.CheckConstraint(condition=~Q(name=""), name="apikey_has_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}...)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def allowed_ip_list(self) -> list[str]:
        return self.allowed_ips.split()

    @property
    def is_retiring(self) -> bool:
        """Rotated: works until `expires_at`, the end of its grace period (K25)."""
        return self.rotated_to_id is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


SCOPE_CHOICES = [(scope.name, scope.name) for scope in SCOPES]


class APIKeyUsageDaily(models.Model):
    """Requests one key made on one UTC day, by outcome (K31): success (2xx/3xx), client error
    (4xx except 429) and rate-limited (429).  Written only by the usage flush
    (`apikeys.usage`), which adds what the counters gathered since its last run."""

    api_key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    success = models.PositiveBigIntegerField(default=0)
    client_error = models.PositiveBigIntegerField(default=0)
    rate_limited = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "API key usage per day"
        verbose_name_plural = "API key usage per day"
        constraints = [
            models.UniqueConstraint(fields=["api_key", "day"], name="apikey_usage_key_day_unique")
        ]
        indexes = [models.Index(fields=["day"], name="apikey_usage_day_idx")]

    def __str__(self) -> str:
        return f"{self.api_key_id} on {self.day}"

    @property
    def total(self) -> int:
        return self.success + self.client_error + self.rate_limited
