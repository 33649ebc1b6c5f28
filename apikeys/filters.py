"""Search and sort for the API key table (K13), driven by the query string."""

import django_filters
from django.db.models import F, QuerySet

from common.sorting import sort_parse

from .models import APIKey

# Sort keys accepted in `?sort=` (a leading '-' reverses), mapped to model fields.
SORT_FIELDS: dict[str, str] = {
    "name": "name",
    "key": "display_prefix",
    "permissions": "scopes",
    "last_used": "last_used_at",
    "expires": "expires_at",
    "created": "created_at",
    "requests": "requests_7d",  # annotated by selectors.api_key_list (K31)
}
DEFAULT_SORT = "-created"


def parse_sort(value: str | None) -> str:
    """A valid sort key (optionally '-'-prefixed); anything unknown falls back to the default."""
    return sort_parse(value, fields=SORT_FIELDS, default=DEFAULT_SORT)


class LenientSortFilter(django_filters.CharFilter):
    """Orders by one column.  Unknown keys are ignored rather than rejected: a stale bookmark or a
    hand-edited URL shows the default order, never an error page.

    Empty values go last when sorting descending and first ascending, except expiry, where an empty
    value means "Never" and therefore sorts as the latest date.
    """

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        sort = parse_sort(value)
        descending = sort.startswith("-")
        field = SORT_FIELDS[sort.removeprefix("-")]
        if field == "expires_at":
            order = F(field).desc(nulls_first=True) if descending else F(field).asc(nulls_last=True)
        else:
            order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_first=True)
        return qs.order_by(order, "-id" if descending else "id")


class APIKeyFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)
    sort = LenientSortFilter()

    class Meta:
        model = APIKey
        fields: list[str] = []

    @property
    def qs(self) -> QuerySet:
        queryset = super().qs
        if not self.form.cleaned_data.get("sort"):
            # The default order applies when `sort` is absent too.
            queryset = self.filters["sort"].filter(queryset, DEFAULT_SORT)
        return queryset
