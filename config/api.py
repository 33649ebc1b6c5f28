"""Conventions shared by every Public API view (SPEC A1-A4).

- `EnvelopeJSONRenderer` wraps every successful body as {result, data, error, error_type, meta}.
- `envelope_exception_handler` turns every failure into the same envelope with a stable
  `error_type` (A3), including unhandled exceptions (500 `internal_error`, no traceback).
- `PagePagination` implements `limit`/`page`/`order` (A4).

Views live in config/views.py: DRF's settings import this module, so it must not import APIView.
"""

import logging
import math
import re
from datetime import date

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

logger = logging.getLogger("config.api")

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
    response.is_envelope = True
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


class PageParamsSerializer(serializers.Serializer):
    """Paging parameters of A4: `limit` 1-1000 (default 100), zero-based `page`, `order`."""

    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    page = serializers.IntegerField(min_value=0, max_value=10_000_000, default=0)
    order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")


def paginate(queryset, params: dict, *, order_field: str):
    """Apply `order` on `order_field` (id breaks ties) and slice one page.

    Returns (items, meta) with `total`, `page`, `limit` for the envelope's `meta` (A4).
    """
    limit, page = params["limit"], params["page"]
    prefix = "-" if params["order"] == "desc" else ""
    ordered = queryset.order_by(f"{prefix}{order_field}", f"{prefix}pk")
    total = queryset.count()
    items = list(ordered[page * limit : (page + 1) * limit])
    return items, {"total": total, "page": page, "limit": limit}


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


# --- Query parameters, date ranges and money (A4, A5), shared by the proxy, stats and billing
# endpoints.


def query_params(serializer_class: type[serializers.Serializer], request) -> dict:
    """The request's query string validated by `serializer_class`; 400 `validation_error` else."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ISODateField(serializers.DateField):
    """A UTC day written exactly `YYYY-MM-DD` (A5); other spellings DRF would parse are refused.

    Days are bounded so that every day of a range, and the day after it, is a valid `date` that
    renders with a four-digit year.
    """

    MIN_DATE = date(1970, 1, 1)
    MAX_DATE = date(9998, 12, 31)
    default_error_messages = {
        "out_of_range": "Use a date from 1970-01-01 to 9998-12-31.",
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("format", "%Y-%m-%d")
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        if not self.MIN_DATE <= day <= self.MAX_DATE:
            self.fail("out_of_range")
        return day


def check_date_range(
    date_from: date,
    date_to: date,
    *,
    max_span_days: int,
    from_field: str = "date_from",
    to_field: str = "date_to",
) -> None:
    """Both ends inclusive; `date_from` <= `date_to`; at most `max_span_days` days in all.

    The cap keeps one request's work bounded (one row per day is computed or streamed).
    """
    if date_from > date_to:
        raise exceptions.ValidationError(
            {from_field: [f"{from_field} must be on or before {to_field}."]}
        )
    span = (date_to - date_from).days + 1
    if span > max_span_days:
        message = f"The range may cover at most {max_span_days} days; this one covers {span}."
        raise exceptions.ValidationError({to_field: [message]})


class DateRangeParamsSerializer(serializers.Serializer):
    """`date_from` and `date_to`, both required; subclasses set `max_span_days` (366 for JSON)."""

    max_span_days = 366

    date_from = ISODateField(help_text="First UTC day of the range, YYYY-MM-DD (inclusive).")
    date_to = ISODateField(help_text="Last UTC day of the range, YYYY-MM-DD (inclusive).")

    def validate(self, attrs: dict) -> dict:
        check_date_range(attrs["date_from"], attrs["date_to"], max_span_days=self.max_span_days)
        return attrs


class MoneyField(serializers.DecimalField):
    """USD as a JSON number with two decimals (A5): the stored Decimal, never a string."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


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
