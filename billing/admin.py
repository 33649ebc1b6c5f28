"""Staff views of plans (editable) and of the ledger and balances (read-only: money moves only
through the services, e.g. `manage.py topup`)."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import Balance, Plan, Transaction


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("title", "proxy_type", "price_per_gb", "currency", "enabled", "popular")
    list_filter = ("proxy_type", "enabled", "popular")
    search_fields = ("title",)


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("tx_id", "owner", "type", "source", "amount", "currency", "created_at")
    list_filter = ("type", "source")
    search_fields = ("tx_id", "owner__username", "owner__email", "description")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("owner", "funds_available", "updated_at")
    search_fields = ("owner__username", "owner__email")
    list_select_related = ("owner",)
