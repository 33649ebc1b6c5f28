"""R3: /healthz for load balancers, and dropped database connections replaced without a 5xx."""

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable

from benchmarks.common import free_port
from tests.concurrency import skip_unless_postgres, terminate_backend

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_authentication(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_a_dead_cache_is_degraded_but_still_200(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["database"] == "ok"
    assert response.json()["cache"] != "ok"


def test_a_dead_database_is_503_and_says_no_more(client, monkeypatch):
    def refuse(self):
        raise ServiceUnavailable("could not connect to server at db.internal:5432")

    monkeypatch.setattr(Database, "run", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["database"] == "unavailable"
    assert "db.internal" not in response.content.decode()


def test_database_connections_are_health_checked(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def wsgi_get(path: str, key: str) -> int:
    """One request through Django's real WSGI handler in this thread, with the per-request
    connection handling a production server runs (the test client switches it off)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_API_KEY": key,
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    statuses: list[str] = []
    body = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    b"".join(body)
    body.close()
    return int(statuses[0].split()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_terminated_database_connections_are_replaced_without_a_5xx(make_key, geo):
    """As a failover or restart does: the database ends the app's connection between requests."""
    skip_unless_postgres()
    key = make_key(scopes="geo:read").key
    assert wsgi_get("/v1/geo/countries", key) == 200
    victim = connection.connection.info.backend_pid  # kept open between requests (CONN_MAX_AGE)
    terminate_backend(victim)

    assert [wsgi_get("/v1/geo/countries", key) for _ in range(3)] == [200, 200, 200]
    assert connection.connection.info.backend_pid != victim
