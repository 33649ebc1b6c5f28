"""Staff oversight of every key (K24): search, filter by state and scope, revoke in bulk.

Read-only by design: the digest is never shown, nothing edits a key's secret or scopes, and no
action un-revokes.  Keys are created by their owners (dashboard) or by `create_api_key`.
"""

from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import SecurityActor, SecurityEvent
from accounts.services import Origin

from .models import APIKey
from .scopes import SCOPES
from .services import api_key_revoke


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        match self.value():
            case "active":
                return queryset.active()
            case "expired":
                return queryset.expired()
            case "revoked":
                return queryset.revoked()
        return queryset


class ScopeFilter(admin.SimpleListFilter):
    title = "scope"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [(scope.name, scope.name) for scope in SCOPES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.with_scope(self.value())
        return queryset


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "display_prefix",
        "scopes",
        "state",
        "last_used_at",
        "expires_at",
        "created_at",
        "revoked_at",
    )
    list_filter = (StateFilter, ScopeFilter)
    search_fields = ("name", "display_prefix", "owner__username", "owner__email")
    list_select_related = ("owner",)
    ordering = ("-created_at",)
    actions = ("revoke_selected",)
    fields = (
        "name",
        "owner",
        "display_prefix",
        "scopes",
        "expiration",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
        "revoked_by",
        "rotated_to",
        "expiry_reminder_sent_at",
        "security_log",
    )
    readonly_fields = fields

    @admin.display(description="state")
    def state(self, obj: APIKey) -> str:
        if obj.is_revoked:
            return "revoked"
        if obj.is_retiring:
            return "retired" if obj.is_expired() else "retiring"
        return "expired" if obj.is_expired() else "active"

    @admin.display(description="security log")
    def security_log(self, obj: APIKey) -> str:
        """The key's own entries of its owner's security log (K27), newest first."""
        entries = (
            SecurityEvent.objects.filter(account_id=obj.owner_id, key_id=obj.pk)
            .select_related("actor_user")
            .order_by("-created_at", "-id")[:100]
        )
        return render_to_string("admin/apikeys/security_log.html", {"entries": entries})

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        now = timezone.now()
        origin = Origin.from_request(request, actor=SecurityActor.STAFF)
        revoked = sum(
            api_key_revoke(api_key=api_key, revoked_by=request.user, now=now, origin=origin)
            for api_key in queryset.not_revoked()
        )
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoked keys stay for audit (K18)
