"""/v1/proxy: the account's proxies."""

from api.routes import api_path

from . import views

urlpatterns = [
    *api_path("proxy", views.ProxyListAPIView.as_view(), "proxy-list"),
    *api_path("proxy/<str:id>", views.ProxyDetailAPIView.as_view(), "proxy-detail"),
]
