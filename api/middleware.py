"""Headers every Public API response carries (A14)."""

from django.utils.cache import patch_vary_headers

from common.paths import API_PREFIX


class APICacheHeadersMiddleware:
    """Every `/v1/` response, success or error, JSON or CSV, is `Cache-Control: no-store` and
    varies on the credentials: a shared cache in front must never hand one tenant's balance or
    proxy list to another, nor keep a copy of it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            response["Cache-Control"] = "no-store"
            patch_vary_headers(response, ("X-API-Key", "Authorization"))
        return response
