"""/v1/user/balance, /v1/user/balance-history and /v1/plans."""

from api.routes import api_path

from . import views

urlpatterns = [
    *api_path("user/balance", views.UserBalanceAPIView.as_view(), "user-balance"),
    *api_path(
        "user/balance-history", views.BalanceHistoryListAPIView.as_view(), "user-balance-history"
    ),
    *api_path("plans", views.PlanListAPIView.as_view(), "plans"),
]
