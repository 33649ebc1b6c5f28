"""Reads of API keys for the dashboard: always scoped to one owner."""

from collections.abc import Mapping

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .filters import APIKeyFilter
from .models import APIKey


def api_key_list(*, owner, params: Mapping[str, str] | None = None) -> QuerySet[APIKey]:
    """The owner's keys that are not revoked (K12), searched by name and sorted per `params` (K13)."""
    base = APIKey.objects.filter(owner=owner).not_revoked()
    filterset = APIKeyFilter(params or {}, queryset=base)
    if not filterset.is_valid():
        # Only an over-long search can be invalid: show the unfiltered, default-sorted table.
        filterset = APIKeyFilter({}, queryset=base)
    return filterset.qs


def api_key_get_for_owner(*, owner, key_id: int) -> APIKey:
    """One of the owner's keys that is not revoked; 404 for anybody else's id (K19)."""
    return get_object_or_404(APIKey.objects.not_revoked(), pk=key_id, owner=owner)


def api_key_active_count(*, owner) -> int:
    return APIKey.objects.filter(owner=owner).active().count()
