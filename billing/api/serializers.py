"""Input and output shapes of the balance and plan endpoints (SPEC 3.2)."""

from datetime import UTC

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.params import DateRangeParamsSerializer, MoneyField, PageParamsSerializer

from ..models import ProxyType


@extend_schema_field(OpenApiTypes.BOOL)
class QueryBooleanField(serializers.Field):
    """`true`/`false`/`1`/`0` in a query string; absent means "either" (None).

    DRF's BooleanField reads an absent query parameter as false, which would silently filter.
    """

    default_error_messages = {"invalid": "Use true, false, 1 or 0."}
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", None)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> bool:
        value = self.VALUES.get(str(data).strip().lower())
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return value


class PlanParamsSerializer(serializers.Serializer):
    proxy_type = serializers.ChoiceField(choices=ProxyType.choices)
    enabled = QueryBooleanField(help_text="Only enabled (true) or disabled (false) plans.")
    popular = QueryBooleanField(help_text="Only popular (true) or other (false) plans.")


class PlanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Use as `tariff_id` when creating a proxy.")
    title = serializers.CharField()
    description = serializers.CharField()
    amount = MoneyField(source="price_per_gb", help_text="Price per `price_unit`, in `currency`.")
    currency = serializers.CharField()
    proxy_type = serializers.ChoiceField(choices=ProxyType.choices)
    price_unit = serializers.SerializerMethodField(help_text="Always GB (10^9 bytes).")
    enabled = serializers.BooleanField()
    popular = serializers.BooleanField()

    def get_price_unit(self, plan) -> str:
        return "GB"


class PlanListEnvelopeSerializer(serializers.Serializer):
    """The plans list is short and not paged: `meta` holds only `total`."""

    result = serializers.BooleanField(default=True)
    data = PlanOutputSerializer(many=True)
    error = serializers.CharField(default="", help_text="Empty on success.")
    error_type = serializers.CharField(default="", help_text="Empty on success.")
    meta = serializers.DictField(help_text="`total`: the number of plans.")


class BalanceOutputSerializer(serializers.Serializer):
    funds_available = MoneyField(help_text="USD: the sum of the account's ledger.")


class BalanceHistoryParamsSerializer(DateRangeParamsSerializer, PageParamsSerializer):
    """A range of UTC days (at most 366) and A4 paging; sorted by `created_at`."""


class TransactionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tx_id = serializers.CharField()
    type = serializers.CharField(source="get_type_display", help_text="Top-up, Charge or Refund.")
    source = serializers.CharField(help_text="Where it came from, e.g. usage, manual, staff.")
    amount = MoneyField(help_text="Signed USD: charges are negative.")
    currency = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField(default_timezone=UTC)
