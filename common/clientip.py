"""The client's address as the product records it (A13): with no proxy in front, REMOTE_ADDR; behind
`NUM_PROXIES` reverse proxies, DRF's reading of X-Forwarded-For.  Used for last-used, the security
log and the limiter alike, so all three name the same address."""

import ipaddress

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str | None:
    """The client address, normalised (`::1`, `203.0.113.7`); None when it is not an IP address."""
    # DRF's ident honours the NUM_PROXIES setting for deployments behind a load balancer.
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident.strip()))
    except (ValueError, AttributeError):
        return None


def client_address(request) -> str:
    """The client address as the limiter keys it (A13), unvalidated, for the hot path: with no
    proxy in front, REMOTE_ADDR as the server saw it; behind proxies, DRF's reading of
    X-Forwarded-For."""
    if not api_settings.NUM_PROXIES:
        # The Django request's META directly (a DRF Request would proxy the read).
        return getattr(request, "_request", request).META.get("REMOTE_ADDR") or "?"
    return BaseThrottle().get_ident(request) or "?"
