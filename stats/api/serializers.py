"""Input and output shapes of the statistics endpoints (SPEC 3.2)."""

from decimal import Decimal

from rest_framework import serializers

from api.params import DateRangeParamsSerializer, MoneyField
from common.money import CENTS
from stats.csv import MAX_EXPORT_DAYS


class UsageExportParamsSerializer(DateRangeParamsSerializer):
    max_span_days = MAX_EXPORT_DAYS


class DayUsageListSerializer(serializers.ListSerializer):
    """A report's days, each rendered as `DayUsageOutputSerializer` renders it, but built
    directly: a year is 365 entries, and DRF's field-by-field path spent 3.5 ms of the 6 ms
    `/v1/user/traffic` took on them.  tests/stats/test_serializers.py holds the two equal, field
    names and values, over random days."""

    def to_representation(self, data) -> list[dict]:
        return [
            {
                "date": day.date.isoformat(),
                "traffic_bytes": int(day.traffic_bytes),
                "requests": int(day.requests),
                # What MoneyField does with a Decimal: two places, the context's rounding.
                "cost": Decimal(day.cost).quantize(CENTS),
            }
            for day in data
        ]


class DayUsageOutputSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="UTC day, YYYY-MM-DD.")
    traffic_bytes = serializers.IntegerField()
    requests = serializers.IntegerField()
    cost = MoneyField(help_text="USD charged for the day.")

    class Meta:
        list_serializer_class = DayUsageListSerializer


class TrafficTotalsOutputSerializer(serializers.Serializer):
    traffic_bytes = serializers.IntegerField()
    requests = serializers.IntegerField()
    cost = MoneyField(help_text="USD.")


class UserTrafficOutputSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    totals = TrafficTotalsOutputSerializer(help_text="The sum of `days`.")
    days = DayUsageOutputSerializer(
        many=True, help_text="Every day of the range, in order; days without traffic are zero."
    )
