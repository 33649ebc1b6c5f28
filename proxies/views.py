"""Dashboard pages for proxies (SPEC D2): list, create, edit, delete.

Plain pages and forms that work without JavaScript (K8); static/js/dashboard.js only turns the
delete confirmation into a dialog.  Every write goes through `proxies.services`, the same functions
the Public API calls; their per-field ValidationErrors are shown on the form fields.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView

from billing import selectors as billing_selectors
from billing.models import ProxyType
from common.dates import current_month
from common.sorting import search_param, sort_by_column
from proxies.geo import selectors as geo_selectors

from . import selectors, services
from .forms import ProxyCreateForm, ProxyUpdateForm, add_service_errors
from .models import Proxy, ProxyStatus

# Sort keys accepted in `?sort=` (a leading '-' reverses), mapped to model or annotated fields.
SORT_FIELDS: dict[str, str] = {
    "name": "name",
    "type": "proxy_type",
    "status": "status",
    "plan": "plan__title",
    "traffic": "total_used",
    "spent": "total_spent",
    "created": "created_at",
}
DEFAULT_SORT = "-created"
SORT_CHOICES = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("name", "Name A-Z"),
    ("-name", "Name Z-A"),
    ("-traffic", "Most traffic this month"),
    ("-spent", "Most spent this month"),
    ("status", "Status"),
    ("type", "Type"),
    ("plan", "Plan A-Z"),
]
# (sort key or None for a column that does not sort, header label)
COLUMNS = [
    ("name", "Name"),
    ("type", "Type"),
    ("status", "Status"),
    ("plan", "Plan"),
    (None, "Countries"),
    ("traffic", "Traffic this month"),
    ("spent", "Spent this month"),
    ("created", "Created"),
]


def gateway_username(proxy: Proxy, country_codes: list[str]) -> str:
    """What a client sends as the gateway username, with the proxy's first country as example."""
    username = f"user-{proxy.name}"
    if country_codes:
        username += f"-country-{country_codes[0].lower()}"
    return username


def _form_context() -> dict:
    """The plan and country choices of the create and edit forms."""
    return {
        "plan_groups": billing_selectors.enabled_plans_by_type(),
        "countries": list(geo_selectors.country_list().order_by("name")),
    }


class ProxyListView(View):
    """The Proxies page: search, status filter and sort in the query string, like API Keys."""

    template_name = "proxies/proxy_list.html"

    def get(self, request):
        params = request.GET
        search = search_param(params)
        status = params.get("status", "")
        if status not in ProxyStatus.values:
            status = ""
        sorting = sort_by_column(
            params,
            fields=SORT_FIELDS,
            default=DEFAULT_SORT,
            columns=COLUMNS,
            path=reverse("proxies:list"),
            keep={"search": search, "status": status},
        )
        date_from, date_to = current_month()
        # A limit suspension ends at the period reset even if the cron job has not run yet.
        field = F(sorting.field)
        descending = sorting.descending
        proxies = services.proxy_list_current(
            owner_id=request.user.pk,
            date_from=date_from,
            date_to=date_to,
            statuses=[status] if status else None,
            search=search,
        ).order_by(field.desc() if descending else field.asc(), "-pk" if descending else "pk")
        rows = []
        for proxy in proxies:
            countries = sorted(proxy.countries.all(), key=lambda country: country.code)
            rows.append(
                {
                    "proxy": proxy,
                    "countries": countries,
                    "username": gateway_username(proxy, [country.code for country in countries]),
                }
            )
        context = {
            "rows": rows,
            "search": search,
            "status": status,
            "sort": sorting.sort,
            "columns": sorting.columns,
            "sort_choices": SORT_CHOICES,
            "status_choices": ProxyStatus.choices,
            "month_start": date_from,
            "filtered": bool(search or status),
        }
        return render(request, self.template_name, context)


class ProxyCreateView(FormView):
    """GET: the create form.  POST: create through `proxy_create`, or show its errors."""

    form_class = ProxyCreateForm
    template_name = "proxies/proxy_create.html"

    def get_initial(self):
        return {"proxy_type": ProxyType.RESIDENTIAL}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_form_context()}

    def form_valid(self, form):
        try:
            proxy = services.proxy_create(owner_id=self.request.user.pk, data=form.proxy_input)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Proxy “{proxy.name}” was created. Gateway username: user-{proxy.name}",
        )
        return redirect(reverse("proxies:list"))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProxyUpdateView(View):
    """Edit description, countries, IP whitelist, limits and the on/off switch (not the name)."""

    template_name = "proxies/proxy_edit.html"

    def _proxy(self, request, public_id: str) -> Proxy:
        date_from, date_to = current_month()
        return services.proxy_get_current(
            owner_id=request.user.pk, public_id=public_id, date_from=date_from, date_to=date_to
        )

    def _render(self, request, proxy: Proxy, form: ProxyUpdateForm, status: int = 200):
        countries = sorted(proxy.countries.all(), key=lambda country: country.code)
        context = {
            "proxy": proxy,
            "proxy_countries": countries,
            "form": form,
            "username": gateway_username(proxy, [country.code for country in countries]),
            **_form_context(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, public_id: str):
        proxy = self._proxy(request, public_id)
        return self._render(
            request, proxy, ProxyUpdateForm(initial=ProxyUpdateForm.initial_for(proxy))
        )

    def post(self, request, public_id: str):
        proxy = self._proxy(request, public_id)
        form = ProxyUpdateForm(request.POST)
        if form.is_valid():
            try:
                updated = services.proxy_update(proxy=proxy, changes=form.proxy_changes)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Proxy “{updated.name}” was updated.")
                return redirect(reverse("proxies:list"))
        return self._render(request, proxy, form, status=400)


class ProxyDeleteView(View):
    """GET: confirmation page naming the proxy.  POST: delete it; its history stays."""

    template_name = "proxies/proxy_delete.html"

    def get(self, request, public_id: str):
        proxy = selectors.proxy_get_without_usage(owner_id=request.user.pk, public_id=public_id)
        return render(request, self.template_name, {"proxy": proxy})

    def post(self, request, public_id: str):
        proxy = selectors.proxy_get_without_usage(owner_id=request.user.pk, public_id=public_id)
        services.proxy_delete(proxy=proxy)
        messages.success(
            request,
            f"Proxy “{proxy.name}” was deleted. Its traffic and charges stay in Statistics "
            "and Billing.",
        )
        return redirect(reverse("proxies:list"))
