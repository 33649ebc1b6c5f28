"""What benchmarks/auth.py drives, and everything in it that needs a configured Django.

The four protected versions of one tiny view, their credentials, the loops that send requests
through them, and the filler rows for the key-table-size runs.  Imported only after auth.py has
configured settings: DRF reads them at import time.
"""

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection, transaction
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_api_key.models import APIKey as DRFAPIKey
from rest_framework_api_key.permissions import HasAPIKey

from apikeys.authentication import APIKeyAuthentication
from apikeys.models import APIKey, Expiration
from apikeys.permissions import HasScope
from apikeys.scopes import GEO_READ
from apikeys.services import api_key_create

PING_PATH = "/bench/ping"
PING_CONTENT = b'{"ok":true}'
ROWS_PER_INSERT = 100  # rows per INSERT statement: fewer round trips, same rows


class BenchmarkError(RuntimeError):
    """A scheme did not behave as the comparison assumes (wrong status or body)."""


class PingView(APIView):
    """A fixed tiny JSON body.  Subclasses differ only in authentication and permission."""

    renderer_classes = [JSONRenderer]
    throttle_classes = []

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class FloorPingView(PingView):
    authentication_classes = []
    permission_classes = [AllowAny]


class TokenPingView(PingView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]


class HasAPIKeyPingView(PingView):
    authentication_classes = []
    permission_classes = [HasAPIKey]


class ProjectPingView(PingView):
    authentication_classes = [APIKeyAuthentication]
    permission_classes = [HasScope]
    required_scopes = {"GET": GEO_READ}


class Scheme:
    """One protected view and the request headers (WSGI environ names) that get through it."""

    def __init__(self, label: str, view_class: type[PingView], headers: dict[str, str]) -> None:
        self.label = label
        self.view: Callable = view_class.as_view()
        self.headers = headers
        self._factory = APIRequestFactory()

    def send(self, headers: dict[str, str] | None = None) -> Response:
        request = self._factory.get(PING_PATH, **(self.headers if headers is None else headers))
        response = self.view(request)
        response.render()
        return response

    def check(self) -> None:
        """Fail unless the view serves the ping with the credentials and refuses it without."""
        response = self.send()
        if response.status_code != 200 or response.content != PING_CONTENT:
            raise BenchmarkError(f"{self.label}: {response.status_code} {response.content!r}")
        if self.headers and self.send(headers={}).status_code not in (401, 403):
            raise BenchmarkError(f"{self.label}: a request without credentials got through")

    def time_requests(self, count: int) -> list[int]:
        """Nanoseconds per request for `count` requests: the view call and render only."""
        view, factory, headers = self.view, self._factory, self.headers
        durations = []
        for _ in range(count):
            request: HttpRequest = factory.get(PING_PATH, **headers)
            # What Django's handler does as each request starts (request_started): with
            # CONN_HEALTH_CHECKS, as configured, the connection is checked again before the
            # request's first statement, as in production.
            close_old_connections()
            start = time.perf_counter_ns()
            response = view(request)
            response.render()
            durations.append(time.perf_counter_ns() - start)
            if response.status_code != 200:
                raise BenchmarkError(f"{self.label}: {response.status_code} in a timed batch")
        return durations

    def captured_sql(self, count: int) -> list[str]:
        """The SQL statements run by `count` requests."""
        with CaptureQueriesContext(connection) as captured:
            for _ in range(count):
                self.send()
        return [query["sql"] for query in captured.captured_queries]

    def before_batch(self) -> None:
        """Hook run, untimed, before every timed batch or SQL sample."""

    def after_batch(self) -> None:
        """Hook run, untimed, after every timed batch."""


class ProjectScheme(Scheme):
    """This project's scheme, kept in the steady state of the once-a-minute last-used write (K15).

    Before each batch the key is marked as used now, so no request in the batch is due to write;
    after it, a changed last-used time means a write landed in the timed loop anyway.
    """

    def __init__(self, label: str, key: str, key_id: int) -> None:
        super().__init__(label, ProjectPingView, {"HTTP_X_API_KEY": key})
        self.key_id = key_id
        self.writes_in_timed_batches = 0
        self._marked_at: datetime | None = None

    def before_batch(self) -> None:
        self._marked_at = set_last_used(self.key_id, timezone.now())

    def after_batch(self) -> None:
        if last_used(self.key_id) != self._marked_at:
            self.writes_in_timed_batches += 1

    def sql_when_last_used_is_due(self) -> list[str]:
        """The SQL of one request whose key was last used two minutes ago: lookup plus write."""
        set_last_used(self.key_id, timezone.now() - timedelta(minutes=2))
        return self.captured_sql(1)


class RoundTripScheme(Scheme):
    """The floor's view followed by one bare round trip (`SELECT 1`, or a Redis PING), timed
    together: what a round trip costs at the point in a request where authentication makes its
    own, rather than back to back in a tight loop, where the servers never go idle."""

    def __init__(self, label: str, round_trip: Callable[[], object]) -> None:
        super().__init__(label, FloorPingView, {})
        self.round_trip = round_trip

    def time_requests(self, count: int) -> list[int]:
        view, factory, round_trip = self.view, self._factory, self.round_trip
        durations = []
        for _ in range(count):
            request: HttpRequest = factory.get(PING_PATH)
            start = time.perf_counter_ns()
            response = view(request)
            response.render()
            round_trip()
            durations.append(time.perf_counter_ns() - start)
        return durations


def _select_1() -> None:
    """A bare `SELECT 1` on the request's connection.  Django may have closed the connection since
    the last request (CONN_MAX_AGE reached as a request started): open it again first, as its
    cursor() would."""
    connection.ensure_connection()
    connection.connection.execute("SELECT 1")


def round_trip_schemes() -> list[RoundTripScheme]:
    """A PostgreSQL `SELECT 1` (as Django's connection health check sends it) and, when the cache
    is Redis, a PING on the limiter's client."""
    from apikeys import ratelimit

    schemes = [RoundTripScheme("floor + SELECT 1", _select_1)]
    client = ratelimit.redis_client()
    if client is not None:
        schemes.append(RoundTripScheme("floor + Redis PING", client.ping))
    return schemes


def required_round_trips_scheme() -> RoundTripScheme | None:
    """The floor's view, then the two round trips that every authenticated request makes on
    PostgreSQL with Redis whatever the implementation: one to the limiter, which must answer
    before the database is asked (A12, A11), and one for the key, read on every request so that a
    revocation holds at once in every process (K17, K22).  Bare (a PING, a `SELECT 1`): the lowest
    cost any implementation of the spec can reach on this machine, timed alongside the schemes.
    None without Redis."""
    from apikeys import ratelimit

    client = ratelimit.redis_client()
    if client is None:
        return None

    def both() -> None:
        client.ping()
        _select_1()

    return RoundTripScheme("floor + PING + SELECT 1", both)


def set_last_used(key_id: int, moment: datetime) -> datetime:
    APIKey.objects.filter(pk=key_id).update(last_used_at=moment)
    return moment


def last_used(key_id: int) -> datetime | None:
    return APIKey.objects.values_list("last_used_at", flat=True).get(pk=key_id)


@dataclass(frozen=True)
class Schemes:
    """The four schemes of the comparison, each with a real credential of a fresh user."""

    floor: Scheme
    token: Scheme
    has_api_key: Scheme
    project: ProjectScheme

    @property
    def all(self) -> list[Scheme]:
        return [self.floor, self.token, self.has_api_key, self.project]


BENCH_ALLOWLIST = "203.0.113.0/24, 198.51.100.0/24, 2001:db8::/32, 10.0.0.0/8, 127.0.0.0/8"


def create_schemes() -> Schemes:
    user = get_user_model().objects.create_user(username="bench")
    token = Token.objects.create(user=user)
    _, drf_api_key = DRFAPIKey.objects.create_key(name="bench")
    # K30 in the path: an allowlist of several networks, the client's (APIRequestFactory's
    # 127.0.0.1) last, so the check walks the whole list.
    created = api_key_create(
        owner=user, name="bench", scopes=[GEO_READ], allowed_ips=BENCH_ALLOWLIST
    )
    return Schemes(
        floor=Scheme("floor: no auth, AllowAny", FloorPingView, {}),
        token=Scheme(
            "DRF TokenAuthentication", TokenPingView, {"HTTP_AUTHORIZATION": f"Token {token.key}"}
        ),
        has_api_key=Scheme(
            "drf-api-key HasAPIKey",
            HasAPIKeyPingView,
            {"HTTP_AUTHORIZATION": f"Api-Key {drf_api_key}"},
        ),
        project=ProjectScheme("apikeys: APIKeyAuth + HasScope", created.key, created.api_key.pk),
    )


def api_key_count() -> int:
    return APIKey.objects.count()


def insert_filler_keys(count: int) -> float:
    """Add `count` active keys with random digests, owned by one filler account.  Returns seconds.

    Raw multi-row INSERTs through executemany, in one transaction: the ORM would take minutes for a
    million rows.  Digests go in sorted, so the unique index grows at its right edge instead of
    dirtying a random page per row; it ends up holding the same entries either way.
    """
    started = time.perf_counter()
    owner, _ = get_user_model().objects.get_or_create(username="bench-filler")
    now = connection.ops.adapt_datetimefield_value(timezone.now())

    def values(digests: list[str]) -> list:
        flat: list = []
        for digest in digests:
            flat += (owner.pk, "filler", "2xt_fill", digest, GEO_READ, Expiration.NEVER.value, now)
        return flat

    digests = random_digests(count)
    whole = count - count % ROWS_PER_INSERT
    with transaction.atomic(), connection.cursor() as cursor, _sqlite_cache_for_bulk_insert(cursor):
        if whole:
            cursor.executemany(
                _filler_insert_sql(ROWS_PER_INSERT),
                (
                    values(digests[start : start + ROWS_PER_INSERT])
                    for start in range(0, whole, ROWS_PER_INSERT)
                ),
            )
        if whole < count:
            cursor.execute(_filler_insert_sql(count - whole), values(digests[whole:]))
    _settle_after_bulk_insert()
    return time.perf_counter() - started


def _settle_after_bulk_insert() -> None:
    # Leave the database as it would be a while after such a load, so that no background work
    # from the insert (checkpoint writes, first-read hint bits, stale statistics) runs during, and
    # is billed to, the timed requests that follow.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(APIKey._meta.db_table)}")
            cursor.execute("CHECKPOINT")  # needs superuser or pg_checkpoint, like creating the db


def random_digests(count: int) -> list[str]:
    """`count` random 64-character hex strings, sorted."""
    hex_digits = random.randbytes(32 * count).hex()
    return sorted(hex_digits[start : start + 64] for start in range(0, 64 * count, 64))


def _filler_insert_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ("owner_id", "name", "display_prefix", "digest", "scopes", "expiration", "created_at")
    row = f"({', '.join(['%s'] * len(columns))})"
    return (
        f"INSERT INTO {quote(APIKey._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"VALUES {', '.join([row] * rows)}"
    )


@contextmanager
def _sqlite_cache_for_bulk_insert(cursor) -> Iterator[None]:
    # SQLite's default 2 MB page cache makes a million index inserts spill constantly; the timed
    # runs afterwards get the default back, as the project runs with it.
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    (previous,) = cursor.fetchone()
    cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")
