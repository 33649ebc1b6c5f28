"""Prometheus metrics for operators (R3), at `/metrics`, for the addresses in METRICS_ALLOWED_IPS.

Built on prometheus_client directly: django-prometheus (the usual wrapper) declares
`Django<6.1` in its current release, so it cannot be installed beside this project's Django.

- `http_requests_total{view,method,status}` and `http_request_duration_seconds{view}`: per view,
  by URL name (`apikeys:list`, `proxy-list`, ...), never by raw path (ids would explode the set).
- `api_auth_failures_total{reason}`: 401s of the Public API.
- `api_rate_limited_total{limit}`: 429s, by the limit that refused (`key`, `account`, `ip`).
- `cache_fail_open_total`: cache calls answered "empty" because Redis was unreachable.
- `api_database_connection_lost_total{outcome}`: requests whose database connection was dropped
  under them, run again (`retried`) or answered 503 (`refused`); see api/views.py.

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess
mode) so that a scrape sums every worker's figures.
"""

import ipaddress
import os
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

REQUESTS = Counter(
    "http_requests", "HTTP requests by view, method and status.", ["view", "method", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from the first middleware to the response, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
AUTH_FAILURES = Counter(
    "api_auth_failures",
    "Public API authentications refused (401, and 403 ip_not_allowed).",
    ["reason"],
)
RATE_LIMITED = Counter("api_rate_limited", "Public API requests refused with 429.", ["limit"])
DATABASE_CONNECTION_LOST = Counter(
    "api_database_connection_lost",
    "Public API requests whose database connection was dropped under them, by outcome "
    "(`retried` on a new connection, or `refused` with 503).",
    ["outcome"],
)
CACHE_FAIL_OPEN = Counter(
    "cache_fail_open", "Cache calls answered as an empty cache because Redis was unreachable."
)


class MetricsMiddleware:
    """Counts every request and its latency by the view that answered (or `unmatched`)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else None) or "unmatched"
        LATENCY.labels(view).observe(time.perf_counter() - start)
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        return response


def _allowed(address: str) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(entry, strict=False)
        for entry in settings.METRICS_ALLOWED_IPS
    )


@login_not_required
def metrics_view(request) -> HttpResponse:
    """The metrics in Prometheus' text format; 404 to anyone not in METRICS_ALLOWED_IPS (the
    address the server sees: metrics are scraped from the app servers, not through the balancer)."""
    if not _allowed(request.META.get("REMOTE_ADDR", "")):
        raise Http404
    registry = DEFAULT_REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
