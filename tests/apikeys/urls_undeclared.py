"""A URLconf with one view that serves DELETE without declaring a scope (K3 tests)."""

from django.urls import path
from rest_framework.response import Response

from api.views import PublicAPIView


class ForgetfulAPIView(PublicAPIView):
    required_scopes = {"GET": "geo:read"}

    def get(self, request):
        return Response({"ok": True})

    def delete(self, request):
        return Response({"deleted": True})


urlpatterns = [path("v1/forgetful", ForgetfulAPIView.as_view())]
