"""Staff view of every account's proxies (read-only: owners change them through the services)."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import Proxy


@admin.register(Proxy)
class ProxyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "public_id",
        "owner",
        "proxy_type",
        "plan",
        "status",
        "suspended_reason",
        "created_at",
        "deleted_at",
    )
    list_filter = ("status", "proxy_type", "suspended_reason")
    search_fields = ("name", "public_id", "owner__username", "owner__email")
    list_select_related = ("owner", "plan")
