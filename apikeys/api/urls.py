"""/v1/credentials/revoke."""

from api.routes import api_path

from . import views

urlpatterns = [
    *api_path("credentials/revoke", views.CredentialsRevokeAPIView.as_view(), "credentials-revoke"),
]
