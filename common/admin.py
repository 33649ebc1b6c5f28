"""Admin pieces shared by the apps' staff views."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A staff view that shows and never changes: for records that move only through the
    services (the ledger, balances, proxies, daily usage)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
