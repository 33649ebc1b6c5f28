"""Base classes of the Public API views (see api/envelope.py for the envelope conventions)."""

import functools
import logging
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError, connection
from rest_framework import exceptions
from rest_framework.views import APIView

from apikeys import ratelimit, usage
from common.metrics import DATABASE_CONNECTION_LOST

logger = logging.getLogger(__name__)

EXPIRY_HEADER = "X-API-Key-Expires-At"
# Methods whose effect does not change when they run twice (RFC 9110): a request of one of these
# that lost its database connection half-way is run again once.  POST only with an Idempotency-Key.
RETRYABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class DatabaseUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "The service is briefly unavailable. Please retry in a moment."
    error_type = "service_unavailable"
    wait = 1  # Retry-After


class _ConnectionLost(Exception):
    """Raised out of `handle_exception` to run the request again on a new connection."""


# PostgreSQL's "the server ended this session": admin_shutdown (pg_terminate_backend, a fast
# shutdown), crash_shutdown, cannot_connect_now (starting up, or a standby being promoted).
DROPPED_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def connection_lost(error: BaseException) -> bool:
    """True when `error` came from the database dropping the connection (a failover, a restart,
    pg_terminate_backend, the server going away), not from the statement that was running.

    psycopg says which: a server error of class 08 (connection exception) or 57P01-57P03, or an
    error raised by the client library itself with no SQLSTATE (the socket closed under it, the
    server unreachable).  By the time the view sees the error, an atomic block may already have
    replaced the dead connection with a fresh one, so the driver's error is what counts.  For any
    other driver the connection is asked: gone, or not answering.  A failing statement (a lock or
    statement timeout, a locked SQLite file) is an ordinary error and stays one."""
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    cause = error.__cause__
    if type(cause).__module__.startswith("psycopg"):
        state = getattr(cause, "sqlstate", None)
        return state is None or state.startswith("08") or state in DROPPED_SQLSTATES
    return connection.connection is None or not connection.is_usable()


class PublicAPIView(APIView):
    """Base of every Public API view.  Subclasses declare `required_scopes` (K3)."""

    required_scopes: dict[str, str | tuple[str, ...]] = {}
    # No OPTIONS: there is no metadata to serve, and `Allow` then lists only what is served.
    http_method_names = ["get", "post", "put", "patch", "delete", "head"]
    _retry_lost_connection = False

    def dispatch(self, request, *args, **kwargs):
        """R3: a request whose database connection was dropped under it is run once more on a
        new connection when running it twice is harmless: GET, HEAD, PUT and DELETE, and a POST
        with an Idempotency-Key (A15 answers a retry of a create that did commit with its first
        answer).  Anything else, or a second loss, gets 503 `service_unavailable` with
        Retry-After instead of a 500: the client cannot know whether a plain POST took effect,
        and is told to retry.  (The run again passes authentication and the rate limiter once
        more.)"""
        self._retry_lost_connection = request.method in RETRYABLE_METHODS or (
            request.method == "POST" and "HTTP_IDEMPOTENCY_KEY" in request.META
        )
        if self._retry_lost_connection and request.method not in ("GET", "HEAD"):
            try:
                request.body  # kept, so the second run parses the same body  # noqa: B018
            except RequestDataTooBig:
                self._retry_lost_connection = False  # refused with 413 by the parser anyway
        try:
            return super().dispatch(request, *args, **kwargs)
        except _ConnectionLost:
            self._retry_lost_connection = False
            # K31: the run again is counted again; the first run is not a request of its own.
            verdict = getattr(self.request, "rate_limit", None)
            if verdict is not None:
                ratelimit.usage_move(verdict=verdict, to=None)
            DATABASE_CONNECTION_LOST.labels("retried").inc()
            logger.warning(
                "Database connection lost during %s %s; running it again.",
                request.method,
                request.path,
            )
            return super().dispatch(request, *args, **kwargs)

    def handle_exception(self, exc):
        if connection_lost(exc):
            connection.close()  # the next query opens a new connection
            if self._retry_lost_connection:
                raise _ConnectionLost from exc
            DATABASE_CONNECTION_LOST.labels("refused").inc()
            logger.error(
                "Database connection lost during %s %s (%s); answered 503.",
                self.request.method,
                self.request.path,
                type(exc).__name__,
            )
            exc = DatabaseUnavailable()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # A11: the limiter's state, on successes and on 429 alike.
        verdict = getattr(request, "rate_limit", None)
        if verdict is not None:
            for header, value in ratelimit.headers(verdict).items():
                response[header] = value
        principal: Any = getattr(request, "_auth", None)
        status = response.status_code
        if verdict is not None and status >= 400 and hasattr(principal, "key_id"):
            # K31: the limiter counted an authenticated request as a success; a 4xx (429 apart)
            # is a client error, and a 5xx is no outcome the usage counts.
            if status >= 500:
                ratelimit.usage_move(verdict=verdict, to=None)
            else:
                outcome = ratelimit.RATE_LIMITED if status == 429 else ratelimit.CLIENT_ERROR
                ratelimit.usage_move(verdict=verdict, to=outcome)
        usage.usage_flush_when_due()
        if response.status_code < 400 and hasattr(principal, "expires_at"):
            # K23: integrations can warn before their key expires.
            response[EXPIRY_HEADER] = expiry_header(principal.expires_at)
        return response


@functools.lru_cache(maxsize=4096)
def expiry_header(expires_at: datetime | None) -> str:
    """K23's header value; a key's expiry rarely changes, so each is formatted once."""
    return expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if expires_at else "never"


class EndpointNotFoundView(APIView):
    """Any unknown path under /v1/: 404 in the envelope, whoever asks."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound("No API endpoint at this path.")

    get = post = put = patch = delete = head = options = _not_found
