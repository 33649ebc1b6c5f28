"""The admin site: no sign-in of its own, and staff only with a second factor (AS3, AS4).

`/admin/login/` never shows Django's password form.  Visitors are sent to the dashboard's sign-in
(allauth: rate limits, lockout, the second-factor step), then back; staff without TOTP or a
security key are sent to enrol one first.  So the admin has no side door around AS3 or AS4.
"""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def has_second_factor(user) -> bool:
    """Whether `user` signs in with TOTP or a security key (recovery codes alone do not count)."""
    return is_mfa_enabled(user, types=SECOND_FACTORS)


class SecureAdminSite(admin.AdminSite):
    """Django's admin for active staff who have enrolled a second factor."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and has_second_factor(request.user)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, resolve_url(settings.LOGIN_URL))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("The admin is for staff accounts.")
        if not has_second_factor(user):
            messages.warning(
                request,
                "Staff accounts need two-factor authentication before the admin opens. "
                "Set up an authenticator app below, then return to the admin.",
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return HttpResponseRedirect(next_url)
