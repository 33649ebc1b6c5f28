"""Base classes of the Public API views (see config/api.py for the envelope conventions)."""

from rest_framework import exceptions
from rest_framework.views import APIView

from apikeys import ratelimit

EXPIRY_HEADER = "X-API-Key-Expires-At"


class PublicAPIView(APIView):
    """Base of every Public API view.  Subclasses declare `required_scopes` (K3)."""

    required_scopes: dict[str, str | tuple[str, ...]] = {}
    # No OPTIONS: there is no metadata to serve, and `Allow` then lists only what is served.
    http_method_names = ["get", "post", "put", "patch", "delete", "head"]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # A11: the limiter's state, on successes and on 429 alike.
        verdict = getattr(request, "rate_limit", None)
        if verdict is not None:
            for header, value in ratelimit.headers(verdict).items():
                response[header] = value
        principal = getattr(request, "_auth", None)
        expires_at = getattr(principal, "expires_at", False)
        if response.status_code < 400 and expires_at is not False:
            # K23: integrations can warn before their key expires.
            response[EXPIRY_HEADER] = (
                expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if expires_at else "never"
            )
        return response


class EndpointNotFoundView(APIView):
    """Any unknown path under /v1/: 404 in the envelope, whoever asks."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound("No API endpoint at this path.")

    get = post = put = patch = delete = head = options = _not_found
