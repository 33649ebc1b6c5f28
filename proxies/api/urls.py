"""Public API routes under /v1/.  Paths are the documented ones; a trailing slash is tolerated."""

from django.urls import re_path

from proxies.geo.api import views as geo

urlpatterns = [
    re_path(r"^geo/countries/?$", geo.GeoCountryListAPIView.as_view(), name="geo-countries"),
    re_path(r"^geo/states/?$", geo.GeoStateListAPIView.as_view(), name="geo-states"),
    re_path(r"^geo/cities/?$", geo.GeoCityListAPIView.as_view(), name="geo-cities"),
    re_path(r"^geo/zip/?$", geo.GeoZipListAPIView.as_view(), name="geo-zip"),
]
