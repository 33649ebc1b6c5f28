"""/v1/user/traffic and a proxy's usage export."""

from api.routes import api_path

from . import views

urlpatterns = [
    *api_path(
        "proxy/<str:id>/usage/export", views.ProxyUsageExportAPIView.as_view(), "proxy-usage-export"
    ),
    *api_path("user/traffic", views.UserTrafficAPIView.as_view(), "user-traffic"),
]
