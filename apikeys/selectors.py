"""Reads of API keys for the dashboard: always scoped to one owner."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .filters import APIKeyFilter
from .models import APIKey, APIKeyUsageDaily

USAGE_TABLE_DAYS = 7


def api_key_list(*, owner, params: Mapping[str, str] | None = None) -> QuerySet[APIKey]:
    """The owner's keys that are not revoked (K12) or retired after a rotation (K25, gone like a
    revoked key), searched by name and sorted per `params` (K13).  Each carries `requests_7d`,
    its requests of every outcome over the last 7 UTC days, today included (K31; a subquery, so
    the table stays one query)."""
    now = timezone.now()
    first_day = now.astimezone(UTC).date() - timedelta(days=USAGE_TABLE_DAYS - 1)
    requests = (
        APIKeyUsageDaily.objects.filter(api_key=OuterRef("pk"), day__gte=first_day)
        .values("api_key")
        .annotate(requests=Sum(F("success") + F("client_error") + F("rate_limited")))
        .values("requests")
    )
    base = (
        APIKey.objects.filter(owner=owner)
        .not_revoked()
        .exclude(rotated_to__isnull=False, expires_at__lte=now)
        .annotate(
            requests_7d=Coalesce(
                Subquery(requests, output_field=IntegerField()),
                Value(0),
                output_field=IntegerField(),
            )
        )
    )
    filterset = APIKeyFilter(params or {}, queryset=base)
    if not filterset.is_valid():
        # Only an over-long search can be invalid: show the unfiltered, default-sorted table.
        filterset = APIKeyFilter({}, queryset=base)
    return filterset.qs


def api_key_get_for_owner(*, owner, key_id: int) -> APIKey:
    """One of the owner's keys that is not revoked; 404 for anybody else's id (K19)."""
    return get_object_or_404(APIKey.objects.not_revoked(), pk=key_id, owner=owner)


def api_key_active_count(*, owner) -> int:
    """The keys that count against the limit (K7): a key retiring after a rotation does not."""
    return APIKey.objects.filter(owner=owner).counted().count()


def api_keys_expiring(*, within: timedelta, now: datetime) -> QuerySet[APIKey]:
    """Keys whose expiry reminder is due (K26): working, not retiring after a rotation (their
    end is chosen), expiring within `within`, and not reminded yet."""
    return (
        APIKey.objects.active(now)
        .filter(
            rotated_to__isnull=True,
            expires_at__lte=now + within,
            expiry_reminder_sent_at__isnull=True,
        )
        .select_related("owner")
        .order_by("expires_at", "pk")
    )


USAGE_DAYS_KEPT = 90


def api_key_usage_days(*, api_key_id: int, today: date, days: int = 30) -> list[dict]:
    """K31: the key's requests per UTC day for the `days` days up to `today`, oldest first, every
    day present (zeros where nothing was counted): `day`, `success`, `client_error`,
    `rate_limited`, `total`.  What the usage flush has written so far; one query."""
    first = today - timedelta(days=days - 1)
    stored = {
        row.day: row
        for row in APIKeyUsageDaily.objects.filter(
            api_key_id=api_key_id, day__gte=first, day__lte=today
        )
    }
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = stored.get(day)
        counts = {
            "success": row.success if row else 0,
            "client_error": row.client_error if row else 0,
            "rate_limited": row.rate_limited if row else 0,
        }
        result.append({"day": day, **counts, "total": sum(counts.values())})
    return result
