"""Top-level routes: dashboard, accounts, admin, and the Public API under /v1/."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts.views import SecurityEventListView
from api.schema_view import PublicSchemaView
from api.views import EndpointNotFoundView
from common.metrics import metrics_view
from config.health import HealthView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="apikeys:list", permanent=False)),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api-keys/", include("apikeys.urls")),
    path("proxies/", include("proxies.urls")),
    path("statistics/", include("stats.urls")),
    path("billing/", include("billing.urls")),
    path("security-log/", SecurityEventListView.as_view(), name="security_log"),
    path("v1/schema", PublicSchemaView.as_view(), name="api-schema"),
    path("v1/docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The Public API: each app owns its routes.
    path("v1/", include("proxies.api.urls")),
    path("v1/", include("stats.api.urls")),
    path("v1/", include("billing.api.urls")),
    path("v1/", include("proxies.geo.api.urls")),
    path("v1/", include("apikeys.api.urls")),
    re_path(r"^v1/", extend_schema(exclude=True)(EndpointNotFoundView).as_view()),
]

handler400 = "api.envelope.bad_request"
handler403 = "api.envelope.permission_denied"
handler404 = "api.envelope.page_not_found"
handler500 = "api.envelope.server_error"
