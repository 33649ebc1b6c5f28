"""Input and output shapes of the statistics endpoints (SPEC 3.2)."""

from rest_framework import serializers

from api.params import DateRangeParamsSerializer, MoneyField
from stats.csv import MAX_EXPORT_DAYS


class UsageExportParamsSerializer(DateRangeParamsSerializer):
    max_span_days = MAX_EXPORT_DAYS


class DayUsageOutputSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="UTC day, YYYY-MM-DD.")
    traffic_bytes = serializers.IntegerField()
    requests = serializers.IntegerField()
    cost = MoneyField(help_text="USD charged for the day.")


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
