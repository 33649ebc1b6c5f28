"""Dashboard forms for proxies (SPEC D2).

They only turn browser input into raw values (a list of country ids, a list of whitelist entries,
a `limits` dict or None) and hand them to `proxies.inputs`, the same path the Public API takes, so
both check every value once and report the same messages.  The checked input (`proxy_input`,
`proxy_changes`) goes to the services; their account-level errors (a taken name, the cap) come
back through `add_service_errors`.
"""

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from billing.models import ProxyType
from common import forms as common_forms

from . import inputs
from .models import LimitPeriod, LimitType, Proxy, ProxyStatus

BYTES_PER_GB = Decimal(10**9)
# `proxies.inputs` caps a limit at 10^15 (bytes for traffic); the dashboard asks for GB.
MAX_TRAFFIC_GB = Decimal(10**6)

# Service error keys -> form fields; nested `limits.*` keys land on the matching limit input.
SERVICE_ERROR_FIELDS: dict[str, str] = {
    "tariff_id": "plan",
    "limits": "limit_type",
    "limits.limit_type": "limit_type",
    "limits.time_period": "limit_period",
    "limits.total_limit": "limit_total",
}


# Form field -> its key in `proxies.inputs`; the three limit fields become one `limits` value.
INPUT_KEYS: dict[str, str] = {
    "name": "name",
    "proxy_type": "proxy_type",
    "plan": "tariff_id",
    "countries": "countries",
    "description": "description",
    "ip_whitelist": "ip_whitelist",
    "status": "status",
}


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a proxy service's ValidationError on the form (its keys mapped to the form's)."""
    common_forms.add_service_errors(form, error, fields=SERVICE_ERROR_FIELDS)


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
        # and checked by `proxies.inputs` in bytes, so the conversion and its bounds live here.
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

    def check_open_whitelist(self, entries: list[str]) -> None:
        """A whitelist that admits every address needs the explicit confirmation box."""
        if inputs.whitelist_allows_everyone(entries) and not self.cleaned_data.get(
            "allow_everyone"
        ):
            self.add_error(
                "ip_whitelist",
                "0.0.0.0/0 or ::/0 lets every address use this proxy. Tick the box below to "
                "confirm that is intended, or list your own addresses.",
            )

    def raw_values(self) -> dict[str, object]:
        """The fields that parsed, under the names `proxies.inputs` (and the API) use."""
        raw: dict[str, object] = {
            key: self.cleaned_data[field]
            for field, key in INPUT_KEYS.items()
            if field in self.fields and field in self.cleaned_data
        }
        raw["limits"] = self.limits()
        return raw

    def checked_input[T](self, make: Callable[[dict[str, object]], T]) -> T | None:
        """`make` (a `proxies.inputs` function) over the parsed fields; its problems are added to
        fields that have none yet, so one submission reports everything at once."""
        try:
            return make(self.raw_values())
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                field = SERVICE_ERROR_FIELDS.get(key, key)
                if field in self.fields and self.has_error(field):
                    continue  # the form's own message about this field is already shown
                self.add_error(field if field in self.fields else None, messages)
            return None

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
    plan = forms.IntegerField(
        label="Plan",
        error_messages={"required": "Choose a plan.", "invalid": "Choose a plan."},
    )
    countries = CountryIdsField(required=False, label="Countries")
    description = forms.CharField(
        required=False, max_length=2000, strip=True, widget=forms.Textarea, label="Description"
    )
    ip_whitelist = WhitelistField(required=False, max_length=10_000, label="IP whitelist")
    allow_everyone = forms.BooleanField(required=False, label="Allow every address")

    field_order = ["name", "proxy_type", "plan", "countries", "description", "ip_whitelist"]

    proxy_input: inputs.ProxyCreateInput | None = None

    def clean(self):
        cleaned = super().clean()
        self.proxy_input = self.checked_input(inputs.proxy_create_input)
        if self.proxy_input:
            self.check_open_whitelist(self.proxy_input.ip_whitelist)
        return cleaned


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

    proxy_changes: inputs.ProxyUpdateInput | None = None

    def clean(self):
        cleaned = super().clean()
        self.proxy_changes = self.checked_input(inputs.proxy_update_input)
        if self.proxy_changes and isinstance(self.proxy_changes.ip_whitelist, list):
            self.check_open_whitelist(self.proxy_changes.ip_whitelist)
        return cleaned

    @classmethod
    def initial_for(cls, proxy: Proxy) -> dict:
        return {
            "description": proxy.description,
            "countries": [country.pk for country in proxy.countries.all()],
            "ip_whitelist": whitelist_text(proxy.ip_whitelist),
            "allow_everyone": inputs.whitelist_allows_everyone(proxy.ip_whitelist),
            "limit_type": proxy.limit_type,
            "limit_period": proxy.limit_period,
            "limit_total": limit_total_text(proxy),
            "status": ProxyStatus.ACTIVE if proxy.enabled else ProxyStatus.INACTIVE,
        }
