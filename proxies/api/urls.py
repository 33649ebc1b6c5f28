"""Public API routes under /v1/, as published.  A trailing slash is tolerated on every path; the
schema documents only the published spelling (see `config.schema.published_paths_only`)."""

from django.urls import path

from proxies.geo.api import views as geo


def api_path(route: str, view, name: str) -> list:
    return [path(route, view, name=name), path(f"{route}/", view)]


urlpatterns = [
    *api_path("geo/countries", geo.GeoCountryListAPIView.as_view(), "geo-countries"),
    *api_path("geo/states", geo.GeoStateListAPIView.as_view(), "geo-states"),
    *api_path("geo/cities", geo.GeoCityListAPIView.as_view(), "geo-cities"),
    *api_path("geo/zip", geo.GeoZipListAPIView.as_view(), "geo-zip"),
]
