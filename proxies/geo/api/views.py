"""Geo directory endpoints: /v1/geo/countries, states, cities, zip (scope geo:read)."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions

from api.envelope import APIResponse
from api.params import paginate
from api.schema import enveloped
from api.views import PublicAPIView
from apikeys.scopes import GEO_READ

from .. import selectors
from . import serializers as s


def _params(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _country(params: dict):
    country = selectors.country_by_code(params["country_code"])
    if country is None:
        raise exceptions.ValidationError(
            {"country_code": [f"Unknown country code {params['country_code']!r}."]}
        )
    return country


class GeoCountryListAPIView(PublicAPIView):
    """Countries (ISO 3166-1); `search` matches part of the name or the exact code."""

    required_scopes = {"GET": GEO_READ}

    @extend_schema(
        operation_id="geo_countries",
        parameters=[s.SearchParamsSerializer],
        responses=enveloped(s.CountryOutputSerializer, many=True),
        summary="List countries",
    )
    def get(self, request):
        params = _params(s.SearchParamsSerializer, request)
        items, meta = paginate(
            selectors.country_list(search=params["search"]), params, order_field="name"
        )
        return APIResponse(s.CountryOutputSerializer(items, many=True).data, meta=meta)


class GeoStateListAPIView(PublicAPIView):
    """Top-level subdivisions (ISO 3166-2) of a country, with their `extract_parameter`."""

    required_scopes = {"GET": GEO_READ}

    @extend_schema(
        operation_id="geo_states",
        parameters=[s.CountryScopedParamsSerializer],
        responses=enveloped(s.StateOutputSerializer, many=True),
        summary="List states of a country",
    )
    def get(self, request):
        params = _params(s.CountryScopedParamsSerializer, request)
        queryset = selectors.state_list(country=_country(params), search=params["search"])
        items, meta = paginate(queryset, params, order_field="name")
        return APIResponse(s.StateOutputSerializer(items, many=True).data, meta=meta)


class GeoCityListAPIView(PublicAPIView):
    """Cities of a country (GeoNames); `region` narrows to a state by name or code."""

    required_scopes = {"GET": GEO_READ}

    @extend_schema(
        operation_id="geo_cities",
        parameters=[s.CityParamsSerializer],
        responses=enveloped(s.CityOutputSerializer, many=True),
        summary="List cities of a country",
    )
    def get(self, request):
        params = _params(s.CityParamsSerializer, request)
        queryset = selectors.city_list(
            country=_country(params), region=params["region"], search=params["search"]
        )
        items, meta = paginate(queryset, params, order_field="name")
        return APIResponse(s.CityOutputSerializer(items, many=True).data, meta=meta)


class GeoZipListAPIView(PublicAPIView):
    """ZIP codes of a country; `search` matches a code prefix or part of the city name."""

    required_scopes = {"GET": GEO_READ}

    @extend_schema(
        operation_id="geo_zip",
        parameters=[s.ZipParamsSerializer],
        responses=enveloped(s.ZipOutputSerializer, many=True),
        summary="List ZIP codes of a country",
    )
    def get(self, request):
        params = _params(s.ZipParamsSerializer, request)
        queryset = selectors.zip_list(
            country=_country(params), city=params["city"], search=params["search"]
        )
        items, meta = paginate(queryset, params, order_field="code")
        return APIResponse(s.ZipOutputSerializer(items, many=True).data, meta=meta)
