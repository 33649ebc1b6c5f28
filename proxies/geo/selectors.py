"""Geo directory reads.  Each filters by country first (indexed), then narrows."""

from django.db.models import Q, QuerySet

from .models import City, Country, State, ZipCode


def country_list(*, search: str = "") -> QuerySet[Country]:
    queryset = Country.objects.all()
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(code__iexact=search))
    return queryset


def country_by_code(code: str) -> Country | None:
    return Country.objects.filter(code=code.upper()).first()


def state_list(*, country: Country, search: str = "") -> QuerySet[State]:
    queryset = State.objects.filter(country=country)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(code__iexact=search))
    return queryset


def city_list(*, country: Country, region: str = "", search: str = "") -> QuerySet[City]:
    """Cities of a country; `region` is a state name (or code), matched case-insensitively."""
    queryset = City.objects.filter(country=country).select_related("state")
    if region:
        queryset = queryset.filter(Q(state__name__iexact=region) | Q(state__code__iexact=region))
    if search:
        queryset = queryset.filter(name__icontains=search)
    return queryset


def zip_list(*, country: Country, city: str = "", search: str = "") -> QuerySet[ZipCode]:
    """ZIP codes of a country; `search` matches a code prefix or part of the city name."""
    queryset = ZipCode.objects.filter(country=country).select_related("state")
    if city:
        queryset = queryset.filter(city__iexact=city)
    if search:
        queryset = queryset.filter(Q(code__startswith=search) | Q(city__icontains=search))
    return queryset
