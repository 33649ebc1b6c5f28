"""Rate limits of the Public API (A11, A12, R3): one cache round trip per request.

GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp per bucket): a
bucket admits `burst` requests at once and refills at `rate` a second, with no window edge at
which twice the burst gets through.  Two buckets apply to each request: the key's, keyed by the
key's digest so that a hammered key is refused before the database, and its account's ceiling
across all its keys.  Failed authentications are counted per client address per minute and,
past API_AUTH_FAILURE_LIMIT, refused before the key lookup.

With Redis (production) everything a request needs is one Lua script: atomic, so exact across
processes and app servers.  The account a key belongs to is remembered next to the buckets (it
never changes), so only a key's first request of the day costs a second round trip.  Without
Redis (development) the same arithmetic runs over a dict of this process, under a lock.  If Redis
cannot be reached, limits fail open (common/cache.py: logged, retried, resumed by themselves).

The same round trip counts the request for K31 (per-key usage per UTC day): speculatively as a
success when allowed, as rate-limited when the key's or account's bucket refuses it, in a hash per
UTC day (`ku:YYYYMMDD`, fields `<digest>:s`, `<digest>:c`, `<digest>:r`).  The rare outcomes are
corrected afterwards on the same day (the verdict remembers it): a failed authentication takes the
success back in its failure count's round trip, a refused address (403 ip_not_allowed) and a 4xx
answer from the view cost one more (`usage_move`).  `apikeys.usage` moves the counts into the
database.
"""

import functools
import math
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from common import cache as fail_open
from common.cache import FAILURES

OWNER_MEMORY_SECONDS = 86_400
FAILURE_WINDOW_SECONDS = 60
# A bucket is kept this much longer than it takes to refill: cheap, and robust to clock skew
# between app servers (each sends its own time; GCRA absorbs small differences).  The Lua scripts
# spell it in milliseconds (60000).
BUCKET_SLACK_SECONDS = 60
# Longer than any IPv6 address: a forwarded address is the client's own text behind proxies.
MAX_ADDRESS_LENGTH = 64
clock = time.time  # seconds; tests replace it
# K31: a day's usage hash outlives the days the flush looks at (apikeys.usage.FLUSH_DAYS) by one.
USAGE_HASH_SECONDS = 4 * 86_400
SUCCESS, CLIENT_ERROR, RATE_LIMITED = "s", "c", "r"


@dataclass(frozen=True, slots=True)
class Policy:
    """One bucket's terms: `burst` requests at once, refilled at `rate` per second."""

    name: str
    rate: float
    burst: float

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.rate

    @property
    def window_seconds(self) -> int:
        return max(1, math.ceil(self.burst / self.rate))


@dataclass(frozen=True, slots=True)
class BucketState:
    policy: Policy
    remaining: int
    reset_seconds: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """The limiter's answer.  `refused_by` is "ip", "key", "account" or "leak_report" when
    refused."""

    allowed: bool
    retry_after: float = 0.0
    refused_by: str = ""
    buckets: tuple[BucketState, ...] = ()
    owner_known: bool = True
    # K31: set when this request was counted (as a success if allowed, else as rate-limited),
    # so that a correction goes to the same key and UTC day ("YYYYMMDD").
    usage_digest: str = ""
    usage_day: str = ""


@dataclass(frozen=True, slots=True)
class _Config:
    key: Policy
    account: Policy
    failure_limit: int
    redis: bool


@functools.cache
def _config() -> _Config:
    """The settings this module reads, read once: the hot path then touches no lazy settings
    object (each access costs about a microsecond).  Cleared when a test changes a setting."""
    backend = settings.CACHES["default"]["BACKEND"]
    return _Config(
        key=Policy("key", float(settings.API_KEY_RATE_LIMIT), float(settings.API_KEY_RATE_BURST)),
        account=Policy(
            "account",
            float(settings.API_ACCOUNT_RATE_LIMIT),
            float(settings.API_ACCOUNT_RATE_BURST),
        ),
        failure_limit=int(settings.API_AUTH_FAILURE_LIMIT),
        redis=backend.rsplit(".", 1)[-1] in ("RedisCache", "FailOpenRedisCache"),
    )


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith(("API_", "CACHES")):
        _config.cache_clear()
        _key_maker.cache_clear()
        _before_lookup_arguments.cache_clear()


def key_policy() -> Policy:
    return _config().key


def account_policy() -> Policy:
    return _config().account


def _names(ip: str | None, digest: str, now: float) -> tuple[str, str, str]:
    minute = int(now // FAILURE_WINDOW_SECONDS)
    return (
        f"rl:authfail:{(ip or '?')[:MAX_ADDRESS_LENGTH]}:{minute}",
        f"rl:key:{digest[:32]}",
        f"rl:owner:{digest[:32]}",
    )


def _account_name(owner_id: int | str) -> str:
    return f"rl:account:{owner_id}"


_day_names: tuple[int, str] = (-1, "")


def usage_day(now_s: float) -> str:
    """The UTC day of `now_s` as counters name it: "YYYYMMDD"."""
    global _day_names
    number, name = _day_names
    if int(now_s // 86_400) != number:  # formatting a day costs more than the rest of counting
        number = int(now_s // 86_400)
        name = time.strftime("%Y%m%d", time.gmtime(number * 86_400))
        _day_names = (number, name)
    return name


def usage_day_name(day: date) -> str:
    """A date as counters name its day: "YYYYMMDD"."""
    return day.strftime("%Y%m%d")


def usage_hash_name(day: str) -> str:
    """The cache key (before the cache's prefix) of one UTC day's usage counters."""
    return f"ku:{day}"


# KEYS: failure counter, key bucket, owner memory, the day's usage hash.  ARGV: now (ms), failure
# limit, then the key's and the account's interval (ms) and burst, the account bucket's name
# prefix, the digest (usage field prefix) and the usage hash's lifetime (s).
_BEFORE_LOOKUP = """
local now = tonumber(ARGV[1])
local fail_limit = tonumber(ARGV[2])
if fail_limit > 0 then
  local fails = tonumber(redis.call("GET", KEYS[1]) or "0")
  if fails >= fail_limit then
    return "0,0,ip,-1,-1,-1,-1,"
  end
end
local function gcra(name, interval, burst)
  local tat = tonumber(redis.call("GET", name) or "0")
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - burst * interval
  if now < allow_at then
    return false, allow_at - now, 0, tat - now, tat
  end
  return true, 0, math.floor((now - allow_at) / interval), new_tat - now, new_tat
end
local ok1, wait1, rem1, reset1, tat1 = gcra(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
local owner = redis.call("GET", KEYS[3])
local ok2, wait2, rem2, reset2, tat2 = true, 0, -1, -1, 0
local account = ""
if owner then
  account = ARGV[7] .. owner
  ok2, wait2, rem2, reset2, tat2 = gcra(account, tonumber(ARGV[5]), tonumber(ARGV[6]))
end
-- One text line rather than an array: a reply of eight elements costs the client more to read.
local function reply(allowed, wait, refused_by, owner_id)
  return string.format("%d,%d,%s,%d,%d,%d,%d,%s", allowed, math.ceil(wait), refused_by, rem1,
    math.ceil(reset1), rem2, math.ceil(reset2), owner_id)
end
local function count(outcome)
  redis.call("HINCRBY", KEYS[4], ARGV[8] .. outcome, 1)
  redis.call("EXPIRE", KEYS[4], tonumber(ARGV[9]))
end
if ok1 and ok2 then
  redis.call("SET", KEYS[2], string.format("%.3f", tat1), "PX", math.ceil(tat1 - now) + 60000)
  if owner then
    redis.call("SET", account, string.format("%.3f", tat2), "PX", math.ceil(tat2 - now) + 60000)
  end
  count(":s")
  return reply(1, 0, "", owner or "")
end
count(":r")
if not ok1 then
  return reply(0, wait1, "key", owner or "")
end
return reply(0, wait2, "account", owner)
"""

# KEYS: owner memory, account bucket, the day's usage hash (or none).  ARGV: now (ms), owner id,
# memory (s), interval, burst, then the usage field prefix (digest) and the hash's lifetime (s).
_ACCOUNT = """
local now = tonumber(ARGV[1])
redis.call("SET", KEYS[1], ARGV[2], "EX", tonumber(ARGV[3]))
local interval, burst = tonumber(ARGV[4]), tonumber(ARGV[5])
local tat = tonumber(redis.call("GET", KEYS[2]) or "0")
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  if KEYS[3] then
    redis.call("HINCRBY", KEYS[3], ARGV[6] .. ":s", -1)
    redis.call("HINCRBY", KEYS[3], ARGV[6] .. ":r", 1)
    redis.call("EXPIRE", KEYS[3], tonumber(ARGV[7]))
  end
  return {0, math.ceil(allow_at - now), 0, math.ceil(tat - now)}
end
redis.call("SET", KEYS[2], string.format("%.3f", new_tat), "PX", math.ceil(new_tat - now) + 60000)
return {1, 0, math.floor((now - allow_at) / interval), math.ceil(new_tat - now)}
"""

# KEYS: failure counter, then the day's usage hash (or none).  ARGV: window (s), "1" to count the
# failure ("0" when the failure limit is off), the usage field to take one from, its lifetime (s).
_FAILURE = """
if ARGV[2] == "1" then
  local count = redis.call("INCR", KEYS[1])
  if count == 1 then redis.call("EXPIRE", KEYS[1], tonumber(ARGV[1]) + 1) end
end
if KEYS[2] then
  if redis.call("HINCRBY", KEYS[2], ARGV[3], -1) == 0 then
    redis.call("HDEL", KEYS[2], ARGV[3])
  end
  redis.call("EXPIRE", KEYS[2], tonumber(ARGV[4]))
end
return 0
"""

# KEYS: the day's usage hash.  ARGV: the field to take one from, the field to add it to ("" for
# none), the hash's lifetime (s).
_USAGE_MOVE = """
if redis.call("HINCRBY", KEYS[1], ARGV[1], -1) == 0 then
  redis.call("HDEL", KEYS[1], ARGV[1])
end
if ARGV[2] ~= "" then
  redis.call("HINCRBY", KEYS[1], ARGV[2], 1)
end
redis.call("EXPIRE", KEYS[1], tonumber(ARGV[3]))
return 0
"""


def redis_client():
    """The raw Redis client when the cache is Redis, else None (the local store is used)."""
    return _redis_client()


def _redis_client():
    if not _config().redis:
        return None
    # Django's RedisCache keeps its client factory private; the scripts need the raw client.
    return cast(Any, cache)._cache.get_client(write=True)


class _Scripts:
    """Lua scripts, each registered once (redis-py sends EVALSHA, loading it on first use), then
    run on whichever client the cache hands out."""

    def __init__(self) -> None:
        self._scripts: dict[str, Any] = {}

    def run(self, client, source: str, *, keys: list, args: list):
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = client.register_script(source)
        return script(keys=keys, args=args, client=client)


_scripts = _Scripts()


class _LocalStore:
    """Buckets of this process when the cache is not Redis (development, tests): a dict under a
    lock.  Django's local-memory cache would do, at several times the cost per request (key
    validation, pickling), and it is per process too."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._values: dict[str, tuple[float, float]] = {}
        # K31: (UTC day "YYYYMMDD", digest) -> [success, client_error, rate_limited], counted
        # under `lock` and taken whole by `take_usage` (apikeys.usage flushes it).
        self.usage: dict[tuple[str, str], list[int]] = {}

    def get(self, name: str, now: float):
        item = self._values.get(name)
        if item is None or item[1] <= now:
            return None
        return item[0]

    def set(self, name: str, value: float, *, expires_at: float) -> None:
        if len(self._values) > 100_000:  # drop what has expired, now and then
            now = time.time()
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
        self._values[name] = (value, expires_at)

    def count(self, day: str, digest: str, outcome: str, delta: int = 1) -> None:
        """Add `delta` to one usage counter; the caller holds `lock`."""
        counts = self.usage.get((day, digest))
        if counts is None:
            counts = self.usage[(day, digest)] = [0, 0, 0]
        counts[_OUTCOME_INDEX[outcome]] += delta
        if delta < 0 and not any(counts):
            # Taken back to nothing (a failed authentication): forget it, as Redis's HDEL does,
            # so a flood of unknown keys leaves nothing behind.
            del self.usage[(day, digest)]

    def take_usage(self) -> dict[tuple[str, str], list[int]]:
        """Every usage count gathered so far, leaving none behind (a swap under the lock)."""
        with self.lock:
            taken, self.usage = self.usage, {}
        return taken

    def clear(self) -> None:
        with self.lock:
            self._values.clear()
            self.usage = {}


_OUTCOME_INDEX = {SUCCESS: 0, CLIENT_ERROR: 1, RATE_LIMITED: 2}
local = _LocalStore()


def _state(policy: Policy, remaining: float, reset_ms: float) -> BucketState:
    return BucketState(policy, max(0, int(remaining)), max(0, math.ceil(reset_ms / 1000)))


def _local_gcra(name: str, policy: Policy, now: float):
    tat = max(local.get(name, now / 1000) or 0.0, now)
    new_tat = tat + policy.interval_ms
    allow_at = new_tat - policy.burst * policy.interval_ms
    if now < allow_at:
        return False, allow_at - now, 0, tat - now, tat
    return True, 0.0, math.floor((now - allow_at) / policy.interval_ms), new_tat - now, new_tat


@functools.cache
def _key_maker():
    """The cache's key function, bound once: the `cache` proxy looks its backend up per thread on
    every attribute read, which the hot path would pay five times a request."""
    return cache.make_key


@functools.cache
def _before_lookup_arguments() -> tuple[bytes, ...]:
    """ARGV[2] to ARGV[7] of the before-lookup script, which only change with the settings:
    encoded once instead of on every request."""
    config = _config()
    kp, ap = config.key, config.account
    values = (config.failure_limit, kp.interval_ms, kp.burst, ap.interval_ms, ap.burst)
    return (*(repr(value).encode() for value in values), cache.make_key(_account_name("")).encode())


def before_lookup(*, ip: str | None, digest: str) -> Verdict:
    """Check the client address's failures and charge the key's (and, when known, its
    account's) bucket, before the database is asked about the key."""
    now_s = clock()
    now = now_s * 1000.0
    config = _config()
    fail_limit, kp, ap = config.failure_limit, config.key, config.account
    fail_name, key_name, owner_name = _names(ip, digest, now_s)
    day = usage_day(now_s)
    client = _redis_client()
    if client is not None:
        if not fail_open.health.available():
            return Verdict(True, owner_known=True)
        make_key = _key_maker()
        names = (fail_name, key_name, owner_name, usage_hash_name(day))
        try:
            result = _scripts.run(
                client,
                _BEFORE_LOOKUP,
                keys=[make_key(name) for name in names],
                args=[f"{now:.3f}", *_before_lookup_arguments(), digest, USAGE_HASH_SECONDS],
            )
        except FAILURES as error:
            fail_open.health.failed(error)
            return Verdict(True, owner_known=True)
        allowed, wait_ms, refused_by, rem1, reset1, rem2, reset2, owner = (
            result.decode() if isinstance(result, bytes) else result
        ).split(",")
        wait_ms, rem1, reset1, rem2, reset2 = (
            int(n) for n in (wait_ms, rem1, reset1, rem2, reset2)
        )
        if refused_by == "ip":  # until the minute is over
            wait_ms = (FAILURE_WINDOW_SECONDS - now_s % FAILURE_WINDOW_SECONDS) * 1000
        buckets = [_state(kp, rem1, reset1)] if refused_by != "ip" else []
        if owner:
            buckets.append(_state(ap, rem2, reset2))
        counted = refused_by != "ip"
        return Verdict(
            allowed == "1",
            wait_ms / 1000,
            refused_by,
            tuple(buckets),
            owner_known=bool(owner),
            usage_digest=digest if counted else "",
            usage_day=day if counted else "",
        )
    with local.lock:
        if fail_limit > 0 and (local.get(fail_name, now_s) or 0) >= fail_limit:
            wait = FAILURE_WINDOW_SECONDS - (now_s % FAILURE_WINDOW_SECONDS)
            return Verdict(False, wait, "ip")
        ok1, wait1, rem1, reset1, tat1 = _local_gcra(key_name, kp, now)
        owner = local.get(owner_name, now_s)
        ok2, wait2, rem2, reset2, tat2 = True, 0.0, 0, 0.0, 0.0
        if owner is not None:
            ok2, wait2, rem2, reset2, tat2 = _local_gcra(_account_name(owner), ap, now)
        buckets = [_state(kp, rem1, reset1)]
        if owner is not None:
            buckets.append(_state(ap, rem2, reset2))
        if ok1 and ok2:
            local.set(key_name, tat1, expires_at=tat1 / 1000 + BUCKET_SLACK_SECONDS)
            if owner is not None:
                local.set(_account_name(owner), tat2, expires_at=tat2 / 1000 + BUCKET_SLACK_SECONDS)
            local.count(day, digest, SUCCESS)
            return Verdict(
                True,
                buckets=tuple(buckets),
                owner_known=owner is not None,
                usage_digest=digest,
                usage_day=day,
            )
        local.count(day, digest, RATE_LIMITED)
        refused_by, wait = ("key", wait1) if not ok1 else ("account", wait2)
        return Verdict(
            False,
            wait / 1000,
            refused_by,
            tuple(buckets),
            owner is not None,
            usage_digest=digest,
            usage_day=day,
        )


def charge_account(*, digest: str, owner_id: int, verdict: Verdict) -> Verdict:
    """After the first lookup of a key (its account not yet remembered): remember the account
    and charge its bucket.  Returns the verdict with the account's state added."""
    now = clock() * 1000.0
    ap = account_policy()
    owner_name = _names(None, digest, now / 1000)[2]
    account_name = _account_name(owner_id)
    client = _redis_client()
    if client is not None:
        if not fail_open.health.available():
            return verdict
        keys = [cache.make_key(owner_name), cache.make_key(account_name)]
        if verdict.usage_day:  # a refusal turns the speculative success into rate-limited
            keys.append(cache.make_key(usage_hash_name(verdict.usage_day)))
        try:
            allowed, wait_ms, remaining, reset_ms = _scripts.run(
                client,
                _ACCOUNT,
                keys=keys,
                args=[
                    f"{now:.3f}",
                    owner_id,
                    OWNER_MEMORY_SECONDS,
                    ap.interval_ms,
                    ap.burst,
                    verdict.usage_digest,
                    USAGE_HASH_SECONDS,
                ],
            )
        except FAILURES as error:
            fail_open.health.failed(error)
            return verdict
    else:
        with local.lock:
            local.set(owner_name, owner_id, expires_at=now / 1000 + OWNER_MEMORY_SECONDS)
            ok, wait, remaining, reset_ms, tat = _local_gcra(account_name, ap, now)
            if ok:
                local.set(account_name, tat, expires_at=tat / 1000 + BUCKET_SLACK_SECONDS)
            elif verdict.usage_day:
                local.count(verdict.usage_day, verdict.usage_digest, SUCCESS, -1)
                local.count(verdict.usage_day, verdict.usage_digest, RATE_LIMITED)
            allowed, wait_ms = ok, wait
    buckets = (*verdict.buckets, _state(ap, remaining, reset_ms))
    digest, day = verdict.usage_digest, verdict.usage_day
    if allowed:
        return Verdict(True, buckets=buckets, usage_digest=digest, usage_day=day)
    return Verdict(False, wait_ms / 1000, "account", buckets, usage_digest=digest, usage_day=day)


def record_failure(*, ip: str | None, verdict: Verdict | None = None) -> None:
    """Count a failed authentication (401) against the client address for this minute, and take
    back the success `verdict` counted for the key (K31: a failed authentication is not usage of
    any key), in the same round trip."""
    count_failure = _config().failure_limit > 0
    day, digest = "", ""
    if verdict is not None and verdict.allowed:  # a refused request was counted as refused
        day, digest = verdict.usage_day, verdict.usage_digest
    if not (count_failure or day):
        return
    now_s = clock()
    fail_name = _names(ip, "", now_s)[0]
    client = _redis_client()
    if client is not None:
        if not fail_open.health.available():
            return
        keys = [cache.make_key(fail_name)]
        if day:
            keys.append(cache.make_key(usage_hash_name(day)))
        try:
            _scripts.run(
                client,
                _FAILURE,
                keys=keys,
                args=[
                    FAILURE_WINDOW_SECONDS,
                    "1" if count_failure else "0",
                    f"{digest}:{SUCCESS}",
                    USAGE_HASH_SECONDS,
                ],
            )
        except FAILURES as error:
            fail_open.health.failed(error)
        return
    with local.lock:
        if count_failure:
            count = (local.get(fail_name, now_s) or 0) + 1
            local.set(fail_name, count, expires_at=now_s + FAILURE_WINDOW_SECONDS + 1)
        if day:
            local.count(day, digest, SUCCESS, -1)


def usage_move(*, verdict: Verdict, to: str | None) -> None:
    """K31, the rare paths: move the request `verdict` counted as a success to outcome `to`
    (CLIENT_ERROR or RATE_LIMITED), or take it back when `to` is None (the request is no usage of
    the key).  Same key and UTC day as counted; one round trip; fails open like the limits."""
    if not (verdict.allowed and verdict.usage_day):
        return
    client = _redis_client()
    if client is None:
        with local.lock:
            local.count(verdict.usage_day, verdict.usage_digest, SUCCESS, -1)
            if to is not None:
                local.count(verdict.usage_day, verdict.usage_digest, to)
        return
    if not fail_open.health.available():
        return
    try:
        _scripts.run(
            client,
            _USAGE_MOVE,
            keys=[cache.make_key(usage_hash_name(verdict.usage_day))],
            args=[
                f"{verdict.usage_digest}:{SUCCESS}",
                f"{verdict.usage_digest}:{to}" if to else "",
                USAGE_HASH_SECONDS,
            ],
        )
    except FAILURES as error:
        fail_open.health.failed(error)


@functools.lru_cache(maxsize=16)
def _policy_header(policies: tuple[Policy, ...]) -> str:
    return ", ".join(f'"{p.name}";q={p.burst:g};w={p.window_seconds}' for p in policies)


def headers(verdict: Verdict) -> dict[str, str]:
    """The IETF draft's `RateLimit-Policy` and `RateLimit` fields for this verdict."""
    if not verdict.buckets:
        return {}
    policy = _policy_header(tuple(b.policy for b in verdict.buckets))
    state = ", ".join(
        f'"{b.policy.name}";r={b.remaining};t={b.reset_seconds}' for b in verdict.buckets
    )
    return {"RateLimit-Policy": policy, "RateLimit": state}


def ip_blocked(*, ip: str | None) -> Verdict | None:
    """A refusal when the client address is past its failed-authentication limit, else None.
    For requests that fail before a digest exists (a malformed key)."""
    fail_limit = _config().failure_limit
    if fail_limit <= 0:
        return None
    now_s = clock()
    fail_name = _names(ip, "", now_s)[0]
    if _redis_client() is None:
        with local.lock:
            failures = local.get(fail_name, now_s)
    else:
        failures = cache.get(fail_name)  # the fail-open cache: a miss while Redis is away
    if failures is not None and int(failures) >= fail_limit:
        return Verdict(False, FAILURE_WINDOW_SECONDS - (now_s % FAILURE_WINDOW_SECONDS), "ip")
    return None


LEAK_REPORT_WINDOW_SECONDS = 60


def leak_report(*, ip: str | None) -> Verdict:
    """K28: a client address may send API_LEAK_REPORT_LIMIT leak reports a minute, a budget of
    their own (a fixed window in the shared cache: exact across processes with Redis).  Fails
    open when the cache is away, like every limit here."""
    limit = int(settings.API_LEAK_REPORT_LIMIT)
    now_s = clock()
    window = int(now_s // LEAK_REPORT_WINDOW_SECONDS)
    name = f"rl:leak:{(ip or '?')[:MAX_ADDRESS_LENGTH]}:{window}"
    cache.add(name, 0, LEAK_REPORT_WINDOW_SECONDS + 1)
    try:
        count = int(cache.incr(name))
    except ValueError:
        return Verdict(True)
    retry_after = LEAK_REPORT_WINDOW_SECONDS - now_s % LEAK_REPORT_WINDOW_SECONDS
    policy = Policy("leak_report", limit / LEAK_REPORT_WINDOW_SECONDS, limit)
    state = BucketState(policy, max(limit - count, 0), math.ceil(retry_after))
    if count > limit:
        return Verdict(False, retry_after, "leak_report", (state,))
    return Verdict(True, buckets=(state,))
