"""Staff view of daily usage, per proxy and per account (read-only: written only by
`usage_record`)."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin
from proxies.models import AccountUsageDaily, UsageDaily


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin):
    list_display = ("date", "proxy", "owner", "traffic_bytes", "requests", "cost")
    search_fields = ("proxy__name", "proxy__public_id", "owner__username")
    list_select_related = ("proxy", "owner")
    date_hierarchy = "date"


@admin.register(AccountUsageDaily)
class AccountUsageDailyAdmin(ReadOnlyAdmin):
    list_display = ("date", "owner", "traffic_bytes", "requests", "cost")
    search_fields = ("owner__username", "owner__email")
    list_select_related = ("owner",)
    date_hierarchy = "date"
