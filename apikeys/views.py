"""Dashboard pages for API keys (SPEC 2.2-2.5).

Plain forms and pages that work without JavaScript (K8); static/js/dashboard.js turns the create,
shown-once and revoke steps into dialogs.  The full key appears only in the response to the create
POST, which is marked `no-store` so neither reload nor the back button can show it again (K6).

Creating, rotating, revoking and editing a key ask for the password (or a second factor) again
when the session's last authentication is older than 15 minutes (AS5), and creating needs a
verified e-mail address (AS6).  A create form sent while re-authentication is due is kept in the
session and shown again, filled in, once the user has confirmed it is them; a revocation, a
rotation or an edit is carried out right after.  Each key has its own page (K32): its details,
daily usage, security log, and the name and allowlist form.
"""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.decorators import reauthentication_required, verified_email_required
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import FormView

from accounts.models import SecurityActor
from accounts.reauthentication import reauthentication_url, recently_authenticated
from accounts.selectors import security_event_list
from accounts.services import Origin
from common.forms import add_service_errors
from common.sorting import search_param, sort_by_column

from . import selectors, services
from .filters import DEFAULT_SORT, SORT_FIELDS
from .forms import APIKeyCreateForm, APIKeyEditForm, APIKeyRotateForm
from .models import APIKey
from .scopes import scope_groups

DRAFT_SESSION_KEY = "apikeys:create:draft"

SORT_CHOICES = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("name", "Name A-Z"),
    ("-name", "Name Z-A"),
    ("-last_used", "Recently used"),
    ("last_used", "Least recently used"),
    ("expires", "Expiring soonest"),
    ("-expires", "Expiring latest"),
    ("key", "Key A-Z"),
    ("-key", "Key Z-A"),
    ("permissions", "Permissions A-Z"),
    ("-permissions", "Permissions Z-A"),
    ("-requests", "Most requests (7 days)"),
    ("requests", "Fewest requests (7 days)"),
]
COLUMNS = [
    ("name", "Name"),
    ("key", "Key"),
    ("permissions", "Permissions"),
    ("requests", "Requests (7 days)"),
    ("last_used", "Last used"),
    ("expires", "Expires"),
    ("created", "Created"),
]


def _list_context(request, **extra) -> dict:
    """Everything the API Keys page needs, in a constant number of queries (K14)."""
    params = request.GET
    search = search_param(params)
    sorting = sort_by_column(
        params,
        fields=SORT_FIELDS,
        default=DEFAULT_SORT,
        columns=COLUMNS,
        # Absolute: the list is also rendered in answer to a POST to the create URL.
        path=reverse("apikeys:list"),
        keep={"search": search},
    )
    keys = list(
        selectors.api_key_list(owner=request.user, params={"search": search, "sort": sorting.sort})
    )
    active_count = selectors.api_key_active_count(owner=request.user)
    limit = settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT
    context = {
        "keys": keys,
        "search": search,
        "sort": sorting.sort,
        "columns": sorting.columns,
        "sort_choices": SORT_CHOICES,
        "active_count": active_count,
        "key_limit": limit,
        "limit_reached": active_count >= limit,
        "scope_groups": scope_groups(),
        "form": APIKeyCreateForm(),
        "rotate_form": APIKeyRotateForm(),
        "show_create": False,
    }
    context.update(extra)
    return context


def _draft_from_post(data) -> dict:
    """What was typed into the create form, bounded, to show again after re-authentication."""
    return {
        "name": str(data.get("name", ""))[:100],
        "scopes": [str(scope)[:40] for scope in data.getlist("scopes")[:20]],
        "expiration": str(data.get("expiration", ""))[:20],
        "allowed_ips": str(data.get("allowed_ips", ""))[:10_000],
        "submission": str(data.get("submission", ""))[:64],
    }


def api_key_created_notify(request, api_key: APIKey) -> None:
    """E-mail the owner that a key was made on their account (K29): name, display prefix, scopes,
    expiry and the client address.  Never the key itself.  A mail failure is logged by the
    adapter, not raised: the key exists and its one showing must not be lost."""
    get_account_adapter(request).send_notification_mail(
        "account/email/api_key_created", request.user, {"api_key": api_key}
    )


def _show_new_key(request, created: services.CreatedAPIKey, **extra):
    """The API Keys page with the new key shown once (K6), after a create or a rotation (K25)."""
    response = render(
        request,
        "apikeys/apikey_list.html",
        _list_context(request, created=created, created_key=created.key, **extra),
    )
    api_key_created_notify(request, created.api_key)
    # K6: the key must not survive in any cache, so reload/back cannot bring it back.
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True)
    return response


class APIKeyListView(View):
    """The API Keys page: the table, the create dialog, the revoke dialogs."""

    template_name = "apikeys/apikey_list.html"

    def get(self, request):
        return render(request, self.template_name, _list_context(request))


@method_decorator(verified_email_required, name="dispatch")
class APIKeyCreateView(FormView):
    """GET: the create form on its own page (no JavaScript).  POST: create and show the key once."""

    form_class = APIKeyCreateForm
    template_name = "apikeys/apikey_create.html"

    def dispatch(self, request, *args, **kwargs):
        if not recently_authenticated(request):
            if request.method == "POST":
                request.session[DRAFT_SESSION_KEY] = _draft_from_post(request.POST)
            next_url = reverse("apikeys:create")
            return redirect(reauthentication_url(request, next_url=next_url))
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict:
        return self.request.session.pop(DRAFT_SESSION_KEY, None) or super().get_initial()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        active_count = selectors.api_key_active_count(owner=self.request.user)
        context.update(
            scope_groups=scope_groups(),
            active_count=active_count,
            key_limit=settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT,
            limit_reached=active_count >= settings.API_KEY_MAX_ACTIVE_PER_ACCOUNT,
        )
        return context

    def form_valid(self, form):
        token = form.cleaned_data.get("submission")
        # Reloading the result page re-posts the form; the one-time token turns that into a no-op
        # instead of a second key (the first one is never shown again either way).
        if token and not cache.add(f"apikeys:create:{self.request.user.pk}:{token}", 1, 86400):
            messages.info(self.request, "That form was already submitted. Its key was shown once.")
            return redirect(reverse("apikeys:list"))
        try:
            created = services.api_key_create(
                owner=self.request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expiration=form.cleaned_data["expiration"],
                allowed_ips=form.cleaned_data.get("allowed_ips") or "",
                origin=Origin.from_request(self.request, actor=SecurityActor.OWNER),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        return _show_new_key(self.request, created)

    def form_invalid(self, form):
        return render(
            self.request,
            "apikeys/apikey_list.html",
            _list_context(self.request, form=form, show_create=True),
            status=400,
        )


@method_decorator(reauthentication_required(allow_get=True, app="apikeys"), name="dispatch")
class APIKeyRevokeView(View):
    """GET: confirmation page naming the key.  POST: revoke it (K16-K19), after re-authentication
    when the last one is older than 15 minutes (AS5)."""

    template_name = "apikeys/apikey_revoke.html"

    def get(self, request, pk: int):
        api_key = selectors.api_key_get_for_owner(owner=request.user, key_id=pk)
        return render(request, self.template_name, {"api_key": api_key})

    def post(self, request, pk: int):
        api_key = selectors.api_key_get_for_owner(owner=request.user, key_id=pk)
        services.api_key_revoke(
            api_key=api_key,
            revoked_by=request.user,
            origin=Origin.from_request(request, actor=SecurityActor.OWNER),
        )
        messages.success(
            request, f"API key “{api_key.name}” ({api_key.display_prefix}...) was revoked."
        )
        return redirect(reverse("apikeys:list"))


@method_decorator(reauthentication_required(allow_get=True, app="apikeys"), name="dispatch")
class APIKeyRotateView(View):
    """GET: confirmation page with the grace choice (no JavaScript).  POST: make the replacement,
    show it once like a new key, and retire the old key when the grace period ends (K25).
    Re-authentication as for creating a key (AS5)."""

    template_name = "apikeys/apikey_rotate.html"

    def get(self, request, pk: int):
        api_key = selectors.api_key_get_for_owner(owner=request.user, key_id=pk)
        return render(request, self.template_name, {"api_key": api_key, "form": APIKeyRotateForm()})

    def post(self, request, pk: int):
        api_key = selectors.api_key_get_for_owner(owner=request.user, key_id=pk)
        form = APIKeyRotateForm(request.POST)
        if not form.is_valid():
            return render(
                request, self.template_name, {"api_key": api_key, "form": form}, status=400
            )
        try:
            created = services.api_key_rotate(
                owner_id=request.user.pk,
                key_id=api_key.pk,
                grace=form.cleaned_data["grace"],
                origin=Origin.from_request(request, actor=SecurityActor.OWNER),
            )
        except APIKey.DoesNotExist:
            raise Http404("No such API key.") from None
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(reverse("apikeys:list"))
        api_key.refresh_from_db()
        return _show_new_key(request, created, rotated=api_key)


# K32: the key page shows this many days of usage and at most this many log entries.
KEY_PAGE_USAGE_DAYS = 30
KEY_PAGE_EVENTS = 50


def _detail_context(request, api_key: APIKey, form: APIKeyEditForm | None = None) -> dict:
    """The key page: the key, its daily usage (table and chart data) and its own security log
    entries.  Two queries after the key's, whatever the number of days or entries."""
    days = selectors.api_key_usage_days(
        api_key_id=api_key.pk, today=timezone.now().date(), days=KEY_PAGE_USAGE_DAYS
    )
    events = list(
        security_event_list(account_id=request.user.pk, key_id=api_key.pk)[:KEY_PAGE_EVENTS]
    )
    if form is None:
        form = APIKeyEditForm(
            initial={"name": api_key.name, "allowed_ips": "\n".join(api_key.allowed_ip_list)}
        )
    return {
        "api_key": api_key,
        "days": days,
        "has_usage": any(day["total"] for day in days),
        "chart": {
            "dates": [day["day"].isoformat() for day in days],
            "success": [day["success"] for day in days],
            "client_error": [day["client_error"] for day in days],
            "rate_limited": [day["rate_limited"] for day in days],
        },
        "events": events,
        "events_limit": KEY_PAGE_EVENTS,
        "form": form,
    }


class APIKeyDetailView(View):
    """The key page (K32): what the key is and may do, where it was last used, its requests per
    day for 30 days and its security log; the name and allowlist form posts to APIKeyEditView.
    Another account's key, or a revoked one, is 404."""

    template_name = "apikeys/apikey_detail.html"

    def get(self, request, pk: int):
        api_key = selectors.api_key_get_for_owner(owner=request.user, key_id=pk)
        return render(request, self.template_name, _detail_context(request, api_key))


@method_decorator(reauthentication_required(allow_get=True, app="apikeys"), name="dispatch")
class APIKeyEditView(View):
    """POST: rename the key and/or replace its allowlist (K32), after re-authentication when the
    last one is older than 15 minutes (AS5).  Bad input shows the key page again with the errors
    next to their fields (400) and changes nothing.  GET (the page after re-authentication, a
    bookmark) goes to the key page, where the form is."""

    template_name = "apikeys/apikey_detail.html"

    def get(self, request, pk: int):
        api_key = selectors.api_key_get_for_owner(owner=request.user, key_id=pk)
        return redirect(reverse("apikeys:detail", args=[api_key.pk]))

    def post(self, request, pk: int):
        api_key = selectors.api_key_get_for_owner(owner=request.user, key_id=pk)
        form = APIKeyEditForm(request.POST)
        if form.is_valid():
            try:
                updated = services.api_key_update(
                    owner_id=request.user.pk,
                    key_id=api_key.pk,
                    name=form.cleaned_data["name"],
                    allowed_ips=form.cleaned_data["allowed_ips"],
                    origin=Origin.from_request(request, actor=SecurityActor.OWNER),
                )
            except APIKey.DoesNotExist:
                raise Http404("No such API key.") from None
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"API key “{updated.name}” ({updated.display_prefix}...) was saved.",
                )
                return redirect(reverse("apikeys:detail", args=[updated.pk]))
        return render(
            request, self.template_name, _detail_context(request, api_key, form=form), status=400
        )
