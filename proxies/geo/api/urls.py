"""/v1/geo/*: the geo directory."""

from api.routes import api_path

from . import views

urlpatterns = [
    *api_path("geo/countries", views.GeoCountryListAPIView.as_view(), "geo-countries"),
    *api_path("geo/states", views.GeoStateListAPIView.as_view(), "geo-states"),
    *api_path("geo/cities", views.GeoCityListAPIView.as_view(), "geo-cities"),
    *api_path("geo/zip", views.GeoZipListAPIView.as_view(), "geo-zip"),
]
