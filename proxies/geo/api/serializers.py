"""Input and output shapes of the geo directory endpoints (SPEC 3.2)."""

from rest_framework import serializers

from api.params import PageParamsSerializer, QueryTextField


class CountryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    name = serializers.CharField()


class StateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="ISO 3166-2 subdivision code without the country part")
    name = serializers.CharField()
    extract_parameter = serializers.CharField(help_text="Lower-case slug used in gateway usernames")


class CityOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="GeoNames id")
    name = serializers.CharField()
    state = serializers.CharField(source="state.name", allow_null=True, default=None)
    extract_parameter = serializers.CharField()


class ZipOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField(source="state.name", allow_null=True, default=None)


class SearchParamsSerializer(PageParamsSerializer):
    search = QueryTextField(max_length=100)


class CountryScopedParamsSerializer(SearchParamsSerializer):
    country_code = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        max_length=2,
        # As sent, as the schema's pattern says: " us" is not a code.
        trim_whitespace=False,
        error_messages={"invalid": "Use an ISO 3166-1 alpha-2 code, e.g. US."},
        help_text="ISO 3166-1 alpha-2 code, any case, of a country in GET /v1/geo/countries "
        "(e.g. US); a code the directory does not hold is refused with 400 `validation_error`.",
    )


class CityParamsSerializer(CountryScopedParamsSerializer):
    region = QueryTextField(max_length=150)


class ZipParamsSerializer(CountryScopedParamsSerializer):
    city = QueryTextField(max_length=200)
