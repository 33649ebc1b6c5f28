"""R3: Prometheus metrics at /metrics, for operators' addresses only."""

import pytest
from prometheus_client import REGISTRY

from common import cache as fail_open

pytestmark = pytest.mark.django_db


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_served_to_loopback_in_prometheus_text(client):
    client.get("/healthz")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",view="healthz"}' in text
    for name in ("api_auth_failures", "api_rate_limited", "cache_fail_open"):
        assert f"# TYPE {name}_total counter" in text


@pytest.mark.parametrize("address", ["203.0.113.9", "10.0.0.1", "::ffff:8.8.8.8", "garbage", ""])
def test_other_addresses_get_404(client, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 404


def test_operators_may_allow_a_network(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16", "2001:db8::/32"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.200.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_a_client_supplied_forwarded_for_does_not_open_metrics(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 404


def test_views_are_labelled_by_name_not_by_path(api_client, make_key, user):
    from tests.factories import ProxyFactory

    proxy = ProxyFactory(owner=user)
    before = value("http_requests_total", view="proxy-detail", method="GET", status="200")
    api_client.get(f"/v1/proxy/{proxy.public_id}", HTTP_X_API_KEY=make_key("proxies:read").key)
    assert value("http_requests_total", view="proxy-detail", method="GET", status="200") == (
        before + 1
    )


def test_auth_failures_and_rate_limits_are_counted(api_client, make_key, geo, settings):
    invalid = value("api_auth_failures_total", reason="invalid_api_key")
    api_client.get("/v1/geo/countries", HTTP_X_API_KEY="2xt_" + "A" * 36)
    assert value("api_auth_failures_total", reason="invalid_api_key") == invalid + 1

    settings.API_KEY_RATE_LIMIT, settings.API_KEY_RATE_BURST = 1, 1
    key = make_key().key
    limited = value("api_rate_limited_total", limit="key")
    statuses = [
        api_client.get("/v1/geo/countries", HTTP_X_API_KEY=key).status_code for _ in range(3)
    ]
    assert statuses.count(429) >= 1
    assert value("api_rate_limited_total", limit="key") == limited + statuses.count(429)


def test_fail_open_events_are_counted(monkeypatch):
    monkeypatch.setattr(fail_open, "health", fail_open.CacheHealth())
    before = value("cache_fail_open_total")
    fail_open.health.failed(ConnectionError("refused"))
    assert value("cache_fail_open_total") == before + 1
