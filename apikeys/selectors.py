"""Reads of API keys for the dashboard: always scoped to one owner."""

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .filters import APIKeyFilter
from .models import APIKey


def api_key_list(*, owner, params: Mapping[str, str] | None = None) -> QuerySet[APIKey]:
    """The owner's keys that are not revoked (K12) or retired after a rotation (K25, gone like a
    revoked key), searched by name and sorted per `params` (K13)."""
    base = (
        APIKey.objects.filter(owner=owner)
        .not_revoked()
        .exclude(rotated_to__isnull=False, expires_at__lte=timezone.now())
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
