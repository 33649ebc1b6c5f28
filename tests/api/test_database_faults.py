"""R3: a database connection dropped in the middle of a Public API request (a failover, a restart,
pg_terminate_backend) never turns into a 500.  Requests that may run twice are run again on a new
connection; the rest are answered 503 with Retry-After, having changed nothing."""

import logging

import pytest
from django.db import OperationalError, connection
from prometheus_client import REGISTRY

from proxies.models import Proxy
from tests.concurrency import skip_unless_postgres, terminate_backend
from tests.envelope import assert_error, assert_ok
from tests.factories import PlanFactory, ProxyFactory


def lost(outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("api_database_connection_lost_total", {"outcome": outcome}) or 0.0
    )


class Terminator:
    """An execute wrapper that has PostgreSQL end this connection's backend just before a
    statement matching `before` runs (the first `times` such statements), as a failover would."""

    def __init__(self, before: str = "", times: int = 1) -> None:
        self.before, self.times, self.terminated = before, times, []

    def __call__(self, execute, sql, params, many, context):
        if len(self.terminated) < self.times and sql.startswith(self.before):
            pid = context["connection"].connection.info.backend_pid
            terminate_backend(pid)
            self.terminated.append(pid)
        return execute(sql, params, many, context)


@pytest.fixture
def postgres_only():
    skip_unless_postgres()


pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_read_whose_connection_is_dropped_is_answered_from_a_new_one(
    postgres_only, api_client, make_key, caplog
):
    key = make_key("balance:read").key
    before = lost("retried")
    terminator = Terminator()  # the very first statement: the key lookup
    with caplog.at_level(logging.WARNING, "api.views"), connection.execute_wrapper(terminator):
        response = api_client.get("/v1/user/balance", HTTP_X_API_KEY=key)
    assert terminator.terminated, "the fault was injected"
    assert_ok(response)
    assert connection.connection.info.backend_pid != terminator.terminated[0]
    assert lost("retried") == before + 1
    assert "running it again" in caplog.text
    assert key not in caplog.text


def test_an_update_dropped_half_way_is_applied_once(postgres_only, api_client, make_key, user):
    key = make_key("proxies:read proxies:write").key
    proxy = ProxyFactory(owner=user, description="before")
    terminator = Terminator(before='UPDATE "proxies_proxy"')
    with connection.execute_wrapper(terminator):
        response = api_client.put(
            f"/v1/proxy/{proxy.public_id}",
            {"description": "after"},
            format="json",
            HTTP_X_API_KEY=key,
        )
    assert terminator.terminated
    assert response.status_code == 200, response.content
    assert response.json()["data"]["description"] == "after"
    proxy.refresh_from_db()
    assert proxy.description == "after"


def create_body(plan) -> dict:
    return {"name": "fresh", "proxy_type": plan.proxy_type, "tariff_id": plan.pk}


def test_a_plain_create_dropped_half_way_is_503_and_creates_nothing(
    postgres_only, api_client, make_key, user
):
    """Without an Idempotency-Key the client could not tell a retry from a second proxy."""
    key = make_key("proxies:write").key
    plan = PlanFactory()
    before = lost("refused")
    terminator = Terminator(before='INSERT INTO "proxies_proxy"')
    with connection.execute_wrapper(terminator):
        response = api_client.post(
            "/v1/proxy", create_body(plan), format="json", HTTP_X_API_KEY=key
        )
    assert terminator.terminated
    assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "1"
    assert "Traceback" not in response.content.decode()
    assert not Proxy.objects.filter(owner=user).exists()
    assert lost("refused") == before + 1


def test_an_idempotent_create_dropped_half_way_creates_one_proxy(
    postgres_only, api_client, make_key, user
):
    key = make_key("proxies:write").key
    plan = PlanFactory()
    terminator = Terminator(before='INSERT INTO "proxies_proxy"')
    with connection.execute_wrapper(terminator):
        response = api_client.post(
            "/v1/proxy",
            create_body(plan),
            format="json",
            HTTP_X_API_KEY=key,
            HTTP_IDEMPOTENCY_KEY="create-fresh-1",
        )
    assert terminator.terminated
    assert response.status_code == 201, response.content
    assert Proxy.objects.filter(owner=user).count() == 1
    replay = api_client.post(
        "/v1/proxy",
        create_body(plan),
        format="json",
        HTTP_X_API_KEY=key,
        HTTP_IDEMPOTENCY_KEY="create-fresh-1",
    )
    assert replay.status_code == 201
    assert replay.json()["data"]["id"] == response.json()["data"]["id"]
    assert Proxy.objects.filter(owner=user).count() == 1


def test_a_connection_lost_twice_is_503_not_500(postgres_only, api_client, make_key):
    key = make_key("balance:read").key
    terminator = Terminator(times=2)
    with connection.execute_wrapper(terminator):
        response = api_client.get("/v1/user/balance", HTTP_X_API_KEY=key)
    assert len(terminator.terminated) == 2, "both runs lost their connection"
    assert_error(response, 503, "service_unavailable")
    # And the next request is served normally.
    assert api_client.get("/v1/user/balance", HTTP_X_API_KEY=key).status_code == 200


@pytest.mark.django_db
def test_a_failing_statement_on_a_live_connection_is_not_run_again(api_client, make_key):
    """Only a dropped connection is retried: an OperationalError on a connection that still
    answers (a lock timeout, a locked SQLite file) is the ordinary 500, after one run."""
    key = make_key("balance:read").key
    runs = []

    def fail_balance_reads(execute, sql, params, many, context):
        if "billing_balance" in sql:
            runs.append(sql)
            raise OperationalError("canceling statement due to lock timeout")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_balance_reads):
        response = api_client.get("/v1/user/balance", HTTP_X_API_KEY=key)
    assert_error(response, 500, "internal_error")
    assert len(runs) == 1


def start_of_request() -> None:
    """What Django does when a request starts (`request_started` -> close_old_connections): with
    CONN_HEALTH_CHECKS the reused connection's health check becomes due.  The test client leaves
    this out, so the tests below do it themselves."""
    connection.ensure_connection()
    connection.close_if_unusable_or_obsolete()
    assert connection.health_check_enabled and not connection.health_check_done


@pytest.fixture
def health_checks(monkeypatch):
    """Django's own health checks (`SELECT 1` through is_usable), counted."""
    checks = []
    original = connection.is_usable

    def counted():
        checks.append(1)
        return original()

    monkeypatch.setattr(connection, "is_usable", counted)
    return checks


def test_the_key_lookup_is_the_requests_health_check(
    postgres_only, api_client, make_key, health_checks
):
    """A Public API request sends no `SELECT 1` before its first statement: the key lookup
    checks the connection (one round trip fewer per request)."""
    key = make_key("balance:read").key
    start_of_request()
    assert_ok(api_client.get("/v1/user/balance", HTTP_X_API_KEY=key))
    assert health_checks == []
    assert connection.health_check_done


def test_a_connection_dropped_between_requests_is_replaced_by_the_lookup(
    postgres_only, api_client, make_key, user, health_checks
):
    """R3: a plain POST (which is never run twice) after a failover succeeds on a new
    connection, as Django's health check would have arranged, without the check's round trip."""
    key = make_key("proxies:write").key
    plan = PlanFactory()
    start_of_request()
    dropped = connection.connection.info.backend_pid
    terminate_backend(dropped)
    before = lost("refused")
    response = api_client.post("/v1/proxy", create_body(plan), format="json", HTTP_X_API_KEY=key)
    assert response.status_code == 201, response.content
    assert connection.connection.info.backend_pid != dropped
    assert Proxy.objects.filter(owner=user).count() == 1
    assert lost("refused") == before
    assert health_checks == []


def test_without_a_due_health_check_a_dropped_lookup_is_not_run_again_by_the_backend(
    postgres_only, api_client, make_key, user
):
    """Mid-request (the check already done), a lost lookup is the view's to handle: a plain POST
    is answered 503 and creates nothing."""
    key = make_key("proxies:write").key
    plan = PlanFactory()
    connection.ensure_connection()
    connection.health_check_done = True
    terminator = Terminator()  # the very first statement: the key lookup
    with connection.execute_wrapper(terminator):
        response = api_client.post(
            "/v1/proxy", create_body(plan), format="json", HTTP_X_API_KEY=key
        )
    assert terminator.terminated
    assert_error(response, 503, "service_unavailable")
    assert not Proxy.objects.filter(owner=user).exists()
