"""Input and output shapes of the proxy endpoints (SPEC 3.2, A8, A9).

Input serializers check the shape of a request: declared fields only, JSON types exactly (a number
is not a name, a string is not a country id).  The values (name pattern, plan, countries, IP syntax,
limit values) are checked by `proxies.inputs`, the dashboard's path too, and the account's rules
(name uniqueness, the cap) by `proxies.services`; their per-field errors come back as 400
`validation_error` through the exception handler.
"""

import re
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.params import (
    ISODateField,
    MoneyField,
    PageParamsSerializer,
    QueryTextField,
    StrictInputSerializer,
    check_date_range,
    range_rules,
)
from billing.models import ProxyType
from common.dates import MAX_REPORT_DAYS, current_month
from proxies.geo.api.serializers import CountryOutputSerializer

from ..inputs import (
    DESCRIPTION_MAX_LENGTH,
    MAX_COUNTRIES,
    MAX_LIMIT,
    MAX_WHITELIST_ENTRIES,
    NAME_MAX_LENGTH,
)
from ..models import NAME_PATTERN, LimitPeriod, LimitType, ProxyStatus
from ..selectors import ORDER_FIELDS

# The traffic figures of a proxy cover at most this many days (a JSON report, as /v1/user/traffic).
MAX_STATISTIC_DAYS = MAX_REPORT_DAYS

# --- Strict input fields ------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A JSON string; DRF's CharField would turn the number 5 into "5"."""

    default_error_messages = {"invalid": "Send a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer; DRF's IntegerField would accept "840", 840.0 and true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.NUMBER)
class JSONNumberField(serializers.Field):
    """A JSON number (integer or decimal), as an exact Decimal of its written digits."""

    default_error_messages = {"invalid": "Send a number."}

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value = Decimal(str(data))
        if not value.is_finite():
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return value


# --- Request bodies -----------------------------------------------------------------------------


@extend_schema_field({"type": "number", "minimum": 0, "maximum": int(MAX_LIMIT)})
class LimitTotalField(JSONNumberField):
    """`total_limit`: the schema states the bounds `proxies.inputs.clean_limits` checks."""


class LimitsInputSerializer(StrictInputSerializer):
    """A usage limit: when the proxy's usage in the current day or month reaches `total_limit`,
    the proxy is suspended until the period resets (00:00 UTC, or the 1st of the month)."""

    limit_type = serializers.ChoiceField(choices=LimitType.choices)
    time_period = serializers.ChoiceField(choices=LimitPeriod.choices)
    total_limit = LimitTotalField(
        help_text="USD (at most two decimals) for a money limit, whole bytes for a traffic limit."
    )


def _whitelist_field() -> serializers.ListField:
    return serializers.ListField(
        child=StrictCharField(),
        max_length=MAX_WHITELIST_ENTRIES,
        required=False,
        help_text="IPv4/IPv6 addresses or CIDR networks (no host bits set); duplicates are dropped.",
    )


def _countries_field() -> serializers.ListField:
    return serializers.ListField(
        # Ids are ISO 3166-1 numeric codes; the bound also keeps absurd integers away from SQL.
        child=StrictIntegerField(min_value=1, max_value=999),
        max_length=MAX_COUNTRIES,
        required=False,
        help_text="Country ids from GET /v1/geo/countries (ISO 3166-1 numeric codes).",
    )


def _description_field() -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH)


class ProxyCreateInputSerializer(StrictInputSerializer):
    """A new proxy.  Fields not listed here are refused."""

    name = StrictCharField(
        max_length=NAME_MAX_LENGTH,
        trim_whitespace=False,
        validators=[
            RegexValidator(
                NAME_PATTERN,
                "Use only lower-case letters, digits and underscores (^[a-z0-9_]+$).",
            )
        ],
        help_text="Unique per account and immutable: ^[a-z0-9_]+$, at most "
        f"{NAME_MAX_LENGTH} characters.",
    )
    proxy_type = serializers.ChoiceField(choices=ProxyType.choices)
    tariff_id = StrictIntegerField(help_text="An enabled plan of the proxy type (GET /v1/plans).")
    countries = _countries_field()
    description = _description_field()
    ip_whitelist = _whitelist_field()
    limits = LimitsInputSerializer(
        required=False, allow_null=True, help_text="A usage limit, or null for none."
    )


class ProxyUpdateInputSerializer(StrictInputSerializer):
    """What may change on a proxy; fields left out keep their value.  `name`, `proxy_type` and
    `tariff_id` cannot change (resending the current value is allowed)."""

    # `context["proxy"]` is the proxy being changed.

    IMMUTABLE_FIELDS = {"name": "name", "proxy_type": "proxy_type", "tariff_id": "plan_id"}

    description = _description_field()
    countries = _countries_field()
    ip_whitelist = _whitelist_field()
    limits = LimitsInputSerializer(
        required=False, allow_null=True, help_text="A new usage limit, or null to remove it."
    )
    status = serializers.ChoiceField(
        choices=[ProxyStatus.ACTIVE, ProxyStatus.INACTIVE],
        required=False,
        help_text="Switch the proxy on (active) or off (inactive).",
    )

    def undeclared_field_errors(self, data: Mapping) -> dict[str, list[str]]:
        proxy = self.context["proxy"]
        errors: dict[str, list[str]] = {}
        for name, attribute in self.IMMUTABLE_FIELDS.items():
            if name not in data:
                continue
            # Resending the current value (a client echoing a GET) is harmless.
            value = data[name]
            if isinstance(value, bool) or value != getattr(proxy, attribute):
                errors[name] = [
                    f"The {name} of a proxy cannot be changed; create a new proxy instead."
                ]
        unknown = super().undeclared_field_errors(
            {k: v for k, v in data.items() if k not in self.IMMUTABLE_FIELDS}
        )
        return {**errors, **unknown}


# --- Query parameters ---------------------------------------------------------------------------


class StatisticPeriodParamsSerializer(serializers.Serializer):
    """The period of `traffic_used` and `total_spent`; by default the current UTC month."""

    statistic_from = ISODateField(
        required=False,
        help_text="First UTC day (YYYY-MM-DD); default: the 1st of the month of `statistic_to`.",
    )
    statistic_to = ISODateField(
        required=False,
        help_text="Last UTC day; default: today. "
        + range_rules(MAX_STATISTIC_DAYS, from_field="statistic_from"),
    )

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        default_from, default_to = current_month()
        date_to = attrs.get("statistic_to") or default_to
        date_from = attrs.get("statistic_from") or (
            date_to.replace(day=1) if "statistic_to" in attrs else default_from
        )
        check_date_range(
            date_from,
            date_to,
            max_span_days=MAX_STATISTIC_DAYS,
            from_field="statistic_from",
            to_field="statistic_to",
        )
        attrs["statistic_from"], attrs["statistic_to"] = date_from, date_to
        return attrs


STATUS_FILTER_MAX_LENGTH = 100


def status_list_pattern(statuses: list[str]) -> str:
    """The comma-separated lists of `statuses` that `validate_status` accepts: blanks around an
    item and empty items are ignored."""
    names = "|".join(re.escape(status) for status in statuses)
    item = rf"(?:(?:{names})\s*)?"
    return rf"^\s*{item}(?:,\s*{item})*$"


@extend_schema_field(
    {
        "type": "string",
        "maxLength": STATUS_FILTER_MAX_LENGTH,
        "pattern": status_list_pattern(ProxyStatus.values),
    }
)
class StatusListField(QueryTextField):
    """A comma-separated list of proxy statuses, as text."""


class ProxyListParamsSerializer(PageParamsSerializer, StatisticPeriodParamsSerializer):
    status = StatusListField(
        max_length=STATUS_FILTER_MAX_LENGTH,
        help_text="Comma-separated statuses: active, pending, inactive, suspended.",
    )
    search = QueryTextField(max_length=100, help_text="Part of the name, any case.")
    order_by = serializers.ChoiceField(
        choices=list(ORDER_FIELDS),
        default="created_at",
        error_messages={
            "invalid_choice": f'"{{input}}" is not a valid order_by. Use one of: '
            f"{', '.join(ORDER_FIELDS)}."
        },
    )

    def validate_status(self, value: str) -> list[str]:
        statuses = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in statuses if part not in ProxyStatus.values]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown status {', '.join(unknown)}. Use any of: "
                f"{', '.join(ProxyStatus.values)}, separated by commas."
            )
        return list(dict.fromkeys(statuses))


# --- Output -------------------------------------------------------------------------------------


class TariffOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="title", help_text="The plan title.")


class LimitsOutputSerializer(serializers.Serializer):
    limit_type = serializers.ChoiceField(choices=LimitType.choices)
    time_period = serializers.ChoiceField(choices=LimitPeriod.choices)
    total_limit = serializers.FloatField(
        help_text="USD with two decimals for a money limit, whole bytes for a traffic limit."
    )


class TrafficUsedOutputSerializer(serializers.Serializer):
    total_used = serializers.IntegerField(help_text="Bytes in the period.")
    requests = serializers.IntegerField()
    period_from = serializers.DateField()
    period_to = serializers.DateField()


class ProxyOutputSerializer(serializers.Serializer):
    """A proxy, with its traffic and spending over a period (`traffic_used.period_from` to
    `period_to`)."""

    # Serialises `proxies.selectors.proxy_list` rows (usage annotated, countries prefetched), with
    # `context["period"] = (date_from, date_to)`.

    id = serializers.CharField(source="public_id", help_text="Short opaque id, e.g. 86Rf07.")
    name = serializers.CharField()
    proxy_type = serializers.ChoiceField(choices=ProxyType.choices)
    status = serializers.ChoiceField(choices=ProxyStatus.choices)
    tariff = TariffOutputSerializer(source="plan")
    countries = serializers.SerializerMethodField()
    description = serializers.CharField()
    ip_whitelist = serializers.ListField(child=serializers.CharField())
    limits = serializers.SerializerMethodField()
    traffic_used = serializers.SerializerMethodField()
    total_spent = MoneyField(help_text="USD charged for the proxy's traffic in the period.")
    created_at = serializers.DateTimeField(default_timezone=UTC)

    @extend_schema_field(CountryOutputSerializer(many=True))
    def get_countries(self, proxy) -> list[dict]:
        countries = sorted(proxy.countries.all(), key=lambda country: country.name)
        return CountryOutputSerializer(countries, many=True).data

    @extend_schema_field(LimitsOutputSerializer(allow_null=True))
    def get_limits(self, proxy) -> dict | None:
        if not proxy.has_limit:
            return None
        total = proxy.limit_total
        return {
            "limit_type": proxy.limit_type,
            "time_period": proxy.limit_period,
            "total_limit": int(total) if proxy.limit_type == LimitType.TRAFFIC else total,
        }

    @extend_schema_field(TrafficUsedOutputSerializer)
    def get_traffic_used(self, proxy) -> dict:
        date_from, date_to = self.context["period"]
        return TrafficUsedOutputSerializer(
            {
                "total_used": proxy.total_used,
                "requests": proxy.total_requests,
                "period_from": date_from,
                "period_to": date_to,
            }
        ).data


class DeletedEnvelopeSerializer(serializers.Serializer):
    """The success envelope of a deletion: there is nothing left to return."""

    result = serializers.BooleanField(default=True)
    data = serializers.JSONField(allow_null=True, default=None, help_text="Always null.")
    error = serializers.CharField(default="", help_text="Empty on success.")
    error_type = serializers.CharField(default="", help_text="Empty on success.")
    meta = serializers.DictField()
