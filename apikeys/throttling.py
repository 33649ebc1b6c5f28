"""Per-key rate limit for the Public API (A7), counted in the shared Django cache.

A fixed window of `burst / rate` seconds admits `burst` requests: a sustained `rate` per second,
with bursts up to `burst`.  Counters live in the cache (Redis in production) so every worker and
every app server agrees; `add` and `incr` are atomic there.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .authentication import APIKeyPrincipal


class APIKeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        principal = request.auth
        if not isinstance(principal, APIKeyPrincipal):
            return True
        rate, burst = settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_BURST
        window = burst / rate
        now = time.time()
        slot = int(now // window)
        cache_key = f"ratelimit:{principal.rate_limit_id}:{slot}"
        timeout = math.ceil(window) + 1
        if cache.add(cache_key, 1, timeout):
            return True
        try:
            count = cache.incr(cache_key)
        except ValueError:  # the window expired between add and incr
            cache.add(cache_key, 1, timeout)
            return True
        if count <= burst:
            return True
        self._wait = (slot + 1) * window - now
        return False

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
