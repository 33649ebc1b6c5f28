"""Public API routes under /v1/, as published.  A trailing slash is tolerated on every path; the
schema documents only the published spelling (see `config.schema.published_paths_only`)."""

from django.urls import path

from billing.api import views as billing
from proxies.geo.api import views as geo
from stats.api import views as stats

from . import views as proxies


def api_path(route: str, view, name: str) -> list:
    return [path(route, view, name=name), path(f"{route}/", view)]


urlpatterns = [
    *api_path("proxy", proxies.ProxyListAPIView.as_view(), "proxy-list"),
    *api_path("proxy/<str:id>", proxies.ProxyDetailAPIView.as_view(), "proxy-detail"),
    *api_path(
        "proxy/<str:id>/usage/export", stats.ProxyUsageExportAPIView.as_view(), "proxy-usage-export"
    ),
    *api_path("user/traffic", stats.UserTrafficAPIView.as_view(), "user-traffic"),
    *api_path("user/balance", billing.UserBalanceAPIView.as_view(), "user-balance"),
    *api_path(
        "user/balance-history", billing.BalanceHistoryListAPIView.as_view(), "user-balance-history"
    ),
    *api_path("plans", billing.PlanListAPIView.as_view(), "plans"),
    *api_path("geo/countries", geo.GeoCountryListAPIView.as_view(), "geo-countries"),
    *api_path("geo/states", geo.GeoStateListAPIView.as_view(), "geo-states"),
    *api_path("geo/cities", geo.GeoCityListAPIView.as_view(), "geo-cities"),
    *api_path("geo/zip", geo.GeoZipListAPIView.as_view(), "geo-zip"),
]
