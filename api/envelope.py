"""The envelope every Public API answer comes in (SPEC A1-A3).

- `EnvelopeJSONRenderer` wraps every successful body as {result, data, error, error_type, meta}.
- `envelope_exception_handler` turns every failure into the same envelope with a stable
  `error_type` (A3), including unhandled exceptions (500 `internal_error`, no traceback).
- `server_error`, `bad_request`, ...: Django's error handlers, enveloped under /v1/.

Views live in api/views.py: DRF's settings import this module, so it must not import APIView.
"""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

logger = logging.getLogger(__name__)

# Stable error types (A3), documented in the README.  Exceptions may carry their own `error_type`.
ERROR_TYPES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_json",
    exceptions.NotAuthenticated: "missing_api_key",
    exceptions.AuthenticationFailed: "invalid_api_key",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def envelope(*, data=None, error: str = "", error_type: str = "", meta: dict | None = None) -> dict:
    return {
        "result": not error_type,
        "data": data,
        "error": error,
        "error_type": error_type,
        "meta": meta or {},
    }


class APIResponse(Response):
    """A successful response with `meta` alongside the data in the envelope."""

    def __init__(self, data=None, *, meta: dict | None = None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.meta = meta or {}


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps successful bodies in the envelope; error bodies arrive already wrapped."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and not getattr(response, "is_envelope", False):
            data = envelope(data=data, meta=getattr(response, "meta", None))
        return super().render(data, accepted_media_type, renderer_context)


def _flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Per-field messages for `meta.fields`: {"name": ["..."], "limits.total_limit": ["..."]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            fields.update(_flatten_errors(value, "" if name == "non_field_errors" else name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            fields.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        fields.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return fields


def error_response(
    status: int, error: str, error_type: str, *, meta: dict | None = None, headers=None
) -> Response:
    response = Response(
        envelope(error=error, error_type=error_type, meta=meta), status=status, headers=headers
    )
    response.is_envelope = True  # type: ignore[attr-defined]  # read by the renderer
    return response


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF exception handler: every failure becomes an envelope; nothing leaks a traceback."""
    from rest_framework.views import set_rollback  # imported late: DRF settings load this module

    if isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError; the API reports it field by field.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return error_response(413, "The request body is too large.", "payload_too_large")
    elif isinstance(exc, SuspiciousOperation):
        return error_response(400, "The request could not be understood.", "bad_request")

    if not isinstance(exc, exceptions.APIException):
        set_rollback()
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
        return error_response(
            500, "An internal error occurred. Please try again later.", "internal_error"
        )

    headers = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = str(math.ceil(wait))

    error_type = getattr(exc, "error_type", None) or next(
        (name for cls, name in ERROR_TYPES.items() if isinstance(exc, cls)), "api_error"
    )
    meta: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        meta["fields"] = _flatten_errors(exc.detail)
        error = "Some fields are invalid: " + ", ".join(sorted(meta["fields"])) + "."
    elif isinstance(exc, exceptions.Throttled):
        error = str(exc.detail)
        meta["retry_after"] = math.ceil(wait) if wait else None
    else:
        error = str(exc.detail)
    if required := getattr(exc, "required_scopes", None):
        meta["required_scopes"] = list(required)
    set_rollback()
    return error_response(exc.status_code, error, error_type, meta=meta, headers=headers)


def server_error(request, *args, **kwargs):
    """handler500: JSON envelope under /v1/, Django's plain page elsewhere."""
    if request.path.startswith("/v1/"):
        body = envelope(
            error="An internal error occurred. Please try again later.", error_type="internal_error"
        )
        return JsonResponse(body, status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request, *args, **kwargs)


def bad_request(request, exception, *args, **kwargs):
    """handler400: JSON envelope under /v1/ (e.g. a disallowed Host header)."""
    if request.path.startswith("/v1/"):
        return JsonResponse(envelope(error="Bad request.", error_type="bad_request"), status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception, *args, **kwargs)


def permission_denied(request, exception, *args, **kwargs):
    """handler403: JSON envelope under /v1/."""
    if request.path.startswith("/v1/"):
        return JsonResponse(envelope(error="Forbidden.", error_type="forbidden"), status=403)
    from django.views.defaults import permission_denied as html_permission_denied

    return html_permission_denied(request, exception, *args, **kwargs)


def page_not_found(request, exception, *args, **kwargs):
    """handler404: JSON envelope under /v1/, Django's page elsewhere."""
    if request.path.startswith("/v1/"):
        return JsonResponse(envelope(error="Not found.", error_type="not_found"), status=404)
    from django.views.defaults import page_not_found as html_page_not_found

    return html_page_not_found(request, exception, *args, **kwargs)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, also refusing pathologically nested documents with a 400 (the decoder
    raises RecursionError on them, which would otherwise surface as a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                "JSON parse error - the document is nested too deeply."
            ) from None
