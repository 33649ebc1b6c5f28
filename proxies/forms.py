"""Dashboard forms for proxies (SPEC D2).

They only turn browser input into the shapes `proxies.services` takes (a list of country ids, a
list of whitelist entries, a `limits` dict or None).  Every rule (name pattern, plans, IPs, limit
values) is checked by the services; `add_service_errors` copies their per-field messages back onto
these fields so the dashboard and the Public API report the same things.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from billing.models import ProxyType

from . import services
from .models import LimitPeriod, LimitType, Proxy, ProxyStatus

BYTES_PER_GB = Decimal(10**9)
# The services cap a limit at 10^15 (bytes for traffic); the dashboard asks for GB.
MAX_TRAFFIC_GB = Decimal(10**6)

# Service error keys -> form fields; nested `limits.*` keys land on the matching limit input.
SERVICE_ERROR_FIELDS: dict[str, str] = {
    "tariff_id": "tariff",
    "limits": "limit_type",
    "limits.limit_type": "limit_type",
    "limits.time_period": "limit_period",
    "limits.total_limit": "limit_total",
}


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, field by field where a field matches."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        field = SERVICE_ERROR_FIELDS.get(key, key)
        form.add_error(field if field in form.fields else None, messages)


class CountryIdsField(forms.Field):
    """The ids picked in a `<select multiple>`; whether they exist is the service's question."""

    widget = forms.SelectMultiple

    def to_python(self, value) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return [int(item) for item in values]
        except (TypeError, ValueError):
            raise ValidationError("Choose countries from the list.", code="invalid") from None


class WhitelistField(forms.CharField):
    """A textarea with one IP address or CIDR network per line (commas and spaces also separate)."""

    widget = forms.Textarea

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [entry for entry in re.split(r"[\s,]+", text) if entry]


def whitelist_text(entries: list[str]) -> str:
    return "\n".join(entries)


def limit_total_text(proxy: Proxy) -> str:
    """The stored limit as the form shows it: USD, or GB for traffic limits."""
    if not proxy.has_limit or proxy.limit_total is None:
        return ""
    if proxy.limit_type == LimitType.TRAFFIC:
        gb = proxy.limit_total / BYTES_PER_GB
        return f"{gb.normalize():f}"
    return f"{proxy.limit_total:.2f}"


class LimitFieldsForm(forms.Form):
    """Limit type, period and total; `limits()` gives the service's `limits` argument."""

    def selected_countries(self) -> set[str]:
        """Country ids to mark selected, as strings (bound data and initial ids alike)."""
        if "countries" not in self.fields:
            return set()
        return {str(value) for value in self["countries"].value() or []}

    limit_type = forms.ChoiceField(
        choices=[
            ("", "No limit"),
            (LimitType.MONEY, "Money (USD)"),
            (LimitType.TRAFFIC, "Traffic (GB)"),
        ],
        required=False,
        label="Limit",
    )
    limit_period = forms.ChoiceField(
        choices=[("", "Choose a period"), *LimitPeriod.choices], required=False, label="Period"
    )
    limit_total = forms.CharField(required=False, max_length=40, label="Total")

    def clean(self):
        cleaned = super().clean()
        total = cleaned.get("limit_total", "")
        # Traffic limits are typed in GB (10^9 bytes, the unit plans are priced in) but stored
        # and validated by the services in bytes, so the conversion and its bounds live here.
        if cleaned.get("limit_type") == LimitType.TRAFFIC and total:
            try:
                gb = Decimal(total.replace(",", ""))
            except InvalidOperation:
                gb = None
            if gb is None or not gb.is_finite():
                self.add_error("limit_total", "Enter a number of GB, e.g. 50 or 2.5.")
            elif gb < 0 or gb > MAX_TRAFFIC_GB:
                self.add_error("limit_total", "Enter from 0 up to 1,000,000 GB.")
            elif (gb * BYTES_PER_GB) != (gb * BYTES_PER_GB).to_integral_value():
                self.add_error("limit_total", "Use at most 9 decimal places (whole bytes).")
            else:
                cleaned["limit_total"] = (gb * BYTES_PER_GB).to_integral_value()
        return cleaned

    def check_open_whitelist(self) -> None:
        """A whitelist that admits every address needs the explicit confirmation box."""
        entries = self.cleaned_data.get("ip_whitelist")
        if self.has_error("ip_whitelist") or not entries:
            return
        try:
            cleaned = services.clean_ip_whitelist(entries)
        except ValidationError:
            return  # reported by check_with_services
        if services.whitelist_allows_everyone(cleaned) and not self.cleaned_data.get(
            "allow_everyone"
        ):
            self.add_error(
                "ip_whitelist",
                "0.0.0.0/0 or ::/0 lets every address use this proxy. Tick the box below to "
                "confirm that is intended, or list your own addresses.",
            )

    def check_with_services(self, fields: tuple[str, ...]) -> None:
        """Run the services' own checks on every field that parsed, so one submission reports all
        problems at once (the service call repeats them; they are cheap)."""
        cleaners = {
            "name": services.clean_name,
            "description": services.clean_description,
            "ip_whitelist": services.clean_ip_whitelist,
            "countries": services.clean_countries,
        }
        for field in fields:
            if field in self.cleaned_data and not self.has_error(field):
                try:
                    cleaners[field](self.cleaned_data[field])
                except ValidationError as error:
                    add_service_errors(self, error)
        limit_fields = ("limit_type", "limit_period", "limit_total")
        if not any(self.has_error(field) for field in limit_fields):
            try:
                services.clean_limits(self.limits())
            except ValidationError as error:
                add_service_errors(self, error)

    def limits(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("limit_type"):
            return None
        return {
            "limit_type": data["limit_type"],
            "time_period": data.get("limit_period", ""),
            "total_limit": data.get("limit_total", ""),
        }


class ProxyCreateForm(LimitFieldsForm):
    """Create a proxy.  Field order is the page's order."""

    name = forms.CharField(required=False, max_length=200, strip=True, label="Name")
    proxy_type = forms.ChoiceField(
        choices=ProxyType.choices,
        label="Type",
        error_messages={"required": "Choose residential or mobile."},
    )
    tariff = forms.IntegerField(
        label="Plan",
        error_messages={"required": "Choose a plan.", "invalid": "Choose a plan."},
    )
    countries = CountryIdsField(required=False, label="Countries")
    description = forms.CharField(
        required=False, max_length=2000, strip=True, widget=forms.Textarea, label="Description"
    )
    ip_whitelist = WhitelistField(required=False, max_length=10_000, label="IP whitelist")
    allow_everyone = forms.BooleanField(required=False, label="Allow every address")

    field_order = ["name", "proxy_type", "tariff", "countries", "description", "ip_whitelist"]

    def clean(self):
        cleaned = super().clean()
        self.check_with_services(("name", "description", "ip_whitelist", "countries"))
        self.check_open_whitelist()
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "proxy_type": data["proxy_type"],
            "tariff_id": data["tariff"],
            "countries": data["countries"],
            "description": data["description"],
            "ip_whitelist": data["ip_whitelist"],
            "limits": self.limits(),
        }


class ProxyUpdateForm(LimitFieldsForm):
    """Change what may change; the name and type are fixed (shown read-only)."""

    description = forms.CharField(
        required=False, max_length=2000, strip=True, widget=forms.Textarea, label="Description"
    )
    countries = CountryIdsField(required=False, label="Countries")
    ip_whitelist = WhitelistField(required=False, max_length=10_000, label="IP whitelist")
    allow_everyone = forms.BooleanField(required=False, label="Allow every address")
    status = forms.ChoiceField(
        choices=[(ProxyStatus.ACTIVE, "Active"), (ProxyStatus.INACTIVE, "Inactive (switched off)")],
        label="Status",
    )

    def clean(self):
        cleaned = super().clean()
        self.check_with_services(("description", "ip_whitelist", "countries"))
        self.check_open_whitelist()
        return cleaned

    @classmethod
    def initial_for(cls, proxy: Proxy) -> dict:
        return {
            "description": proxy.description,
            "countries": [country.pk for country in proxy.countries.all()],
            "ip_whitelist": whitelist_text(proxy.ip_whitelist),
            "allow_everyone": services.whitelist_allows_everyone(proxy.ip_whitelist),
            "limit_type": proxy.limit_type,
            "limit_period": proxy.limit_period,
            "limit_total": limit_total_text(proxy),
            "status": ProxyStatus.ACTIVE if proxy.enabled else ProxyStatus.INACTIVE,
        }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "description": data["description"],
            "countries": data["countries"],
            "ip_whitelist": data["ip_whitelist"],
            "limits": self.limits(),
            "status": data["status"],
        }
