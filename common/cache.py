"""The production cache (Redis), failing open (R3).

Everything the product keeps in the cache is a counter or a hint: rate limits, sign-in failure
counts, one-time form tokens.  When Redis cannot be reached the cache answers as an empty one
that accepts every write (reads miss, `add` succeeds), so the API and the dashboard keep serving
and limits simply do not bite until Redis is back.  Operators are told: an ERROR log line at most
once a minute per process, never per request.  After a failure the cache is not asked again for
`RETRY_AFTER_SECONDS`, so an unreachable host costs one short timeout a second, not one per
request; then the next call tries again, and limits resume by themselves.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from common.metrics import CACHE_FAIL_OPEN

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1.0
LOG_INTERVAL_SECONDS = 60.0
FAILURES = (RedisError, OSError)


class CacheHealth:
    """Per-process state of the cache connection: when to try again, when we last logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_until = 0.0
        self.last_logged = -LOG_INTERVAL_SECONDS
        self.fail_open_events = 0

    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, error: BaseException) -> None:
        CACHE_FAIL_OPEN.inc()
        now = time.monotonic()
        with self._lock:
            self.down_until = now + RETRY_AFTER_SECONDS
            self.fail_open_events += 1
            log = now - self.last_logged >= LOG_INTERVAL_SECONDS
            if log:
                self.last_logged = now
        if log:
            logger.error(
                "Cache unreachable (%s: %s); rate limits fail open until it answers again.",
                type(error).__name__,
                error,
            )


health = CacheHealth()


def _fail_open(default):
    def decorate(method):
        def wrapper(self, *args, **kwargs):
            if not health.available():
                return default() if callable(default) else default
            try:
                return method(self, *args, **kwargs)
            except FAILURES as error:
                health.failed(error)
                return default() if callable(default) else default

        wrapper.__name__ = method.__name__
        wrapper.__doc__ = method.__doc__
        return wrapper

    return decorate


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache that answers like an empty cache while Redis is unreachable."""

    @_fail_open(True)
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return super().add(key, value, timeout, version)

    def get(self, key, default=None, version=None):
        if not health.available():
            return default
        try:
            return super().get(key, default, version)
        except FAILURES as error:
            health.failed(error)
            return default

    @_fail_open(None)
    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return super().set(key, value, timeout, version)

    @_fail_open(False)
    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return super().touch(key, timeout, version)

    @_fail_open(False)
    def delete(self, key, version=None):
        return super().delete(key, version)

    @_fail_open(dict)
    def get_many(self, keys, version=None):
        return super().get_many(keys, version)

    @_fail_open(False)
    def has_key(self, key, version=None):
        return super().has_key(key, version)

    def incr(self, key, delta=1, version=None):
        if not health.available():
            return delta
        try:
            return super().incr(key, delta, version)
        except FAILURES as error:
            health.failed(error)
            return delta

    @_fail_open(list)
    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return super().set_many(data, timeout, version)

    @_fail_open(None)
    def delete_many(self, keys, version=None):
        return super().delete_many(keys, version)

    @_fail_open(None)
    def clear(self):
        return super().clear()
