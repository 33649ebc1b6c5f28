"""Accounts in the admin.  An account an operator adds here is trusted as verified (AS6)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm

from common.admin import ReadOnlyAdmin

from .models import SecurityEvent, User


class UserCreationForm(DjangoUserCreationForm):
    class Meta(DjangoUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class UserChangeForm(DjangoUserChangeForm):
    class Meta(DjangoUserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the e-mail address asked for when an account is added."""

    form = UserChangeForm
    add_form = UserCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            User.objects.trust_email(obj)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Every account's security log (K27): read-only, searchable by account, key prefix and
    address, filterable by event type and actor."""

    list_display = ("created_at", "account", "event", "actor", "actor_user", "key_prefix", "ip")
    list_filter = ("event", "actor")
    search_fields = ("account__username", "account__email", "key_prefix", "ip")
    list_select_related = ("account", "actor_user")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "account",
        "event",
        "actor",
        "actor_user",
        "key_id",
        "key_prefix",
        "ip",
        "user_agent",
        "summary",
        "details",
    )
    readonly_fields = fields
