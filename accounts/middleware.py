"""Dashboard-wide privacy defaults (AS7, AS8)."""

from django.utils.cache import add_never_cache_headers

from common.paths import API_PREFIX


class DashboardPrivacyMiddleware:
    """Keeps signed-in pages out of every cache and POSTed values out of error reports.

    - AS8: a response to a signed-in session is `Cache-Control: no-store, private`, so neither a
      shared cache nor the browser's history can show an account's pages to someone else.
    - AS7: every POST is marked as carrying sensitive parameters before its view runs, so an
      error report or log never shows a password (sign-in, sign-up, reset, change, re-auth, or
      any form added later).  Views that name their sensitive fields narrow this themselves.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST":
            request.sensitive_post_parameters = "__ALL__"
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # The Public API sets its own, stricter headers (api.middleware, A14).
        if (
            user is not None
            and user.is_authenticated
            and not request.path_info.startswith(API_PREFIX)
        ):
            add_never_cache_headers(response)
        return response
