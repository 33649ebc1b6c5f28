"""Statistics endpoints (SPEC 3.2): /v1/user/traffic and the per-proxy CSV usage export."""

import csv
import io
from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from proxies.models import UsageDaily
from proxies.services import proxy_delete
from tests.envelope import assert_error, assert_not_found, assert_ok, assert_validation_error
from tests.factories import ProxyFactory, UsageDailyFactory

pytestmark = pytest.mark.django_db

GB = 10**9


def today() -> date:
    return timezone.now().astimezone(UTC).date()


@pytest.fixture
def client(api_client, make_key):
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="stats:read").key)
    return api_client


@pytest.fixture
def proxy(make_proxy):
    """A proxy of the funded `user`."""
    return make_proxy(name="main")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


BAD_RANGES = [
    ("date_from", {"date_to": "2026-01-31"}),
    ("date_to", {"date_from": "2026-01-01"}),
    ("date_from", {"date_from": "2026-02-30", "date_to": "2026-03-01"}),
    ("date_from", {"date_from": "20260101", "date_to": "2026-03-01"}),
    ("date_from", {"date_from": "2026-1-1", "date_to": "2026-03-01"}),
    ("date_to", {"date_from": "2026-01-01", "date_to": "2026-01-01T00:00:00"}),
    ("date_to", {"date_from": "2026-01-01", "date_to": ""}),
    ("date_from", {"date_from": "2026-03-02", "date_to": "2026-03-01"}),
    ("date_to", {"date_from": "9999-12-31", "date_to": "9999-12-31"}),
    ("date_from", {"date_from": "0001-01-01", "date_to": "0001-01-01"}),
]


# --- /v1/user/traffic ---------------------------------------------------------------------------


def test_traffic_has_one_entry_per_day_and_totals_that_sum_them(client, user, plan):
    first, second = ProxyFactory(owner=user, plan=plan), ProxyFactory(owner=user, plan=plan)
    start = date(2026, 1, 30)
    UsageDailyFactory(proxy=first, date=start, traffic_bytes=3 * GB, requests=30, cost="12.00")
    UsageDailyFactory(proxy=second, date=start, traffic_bytes=GB, requests=5, cost="4.01")
    UsageDailyFactory(
        proxy=first, date=start + timedelta(days=2), traffic_bytes=500, requests=1, cost="0.00"
    )
    UsageDailyFactory(proxy=first, date=start - timedelta(days=1), traffic_bytes=9 * GB)
    UsageDailyFactory(proxy=ProxyFactory(plan=plan), date=start, traffic_bytes=7 * GB)

    response = client.get("/v1/user/traffic", {"date_from": "2026-01-30", "date_to": "2026-02-02"})

    data = assert_ok(response)["data"]
    assert data["date_from"] == "2026-01-30"
    assert data["date_to"] == "2026-02-02"
    assert data["days"] == [
        {"date": "2026-01-30", "traffic_bytes": 4 * GB, "requests": 35, "cost": 16.01},
        {"date": "2026-01-31", "traffic_bytes": 0, "requests": 0, "cost": 0.0},
        {"date": "2026-02-01", "traffic_bytes": 500, "requests": 1, "cost": 0.0},
        {"date": "2026-02-02", "traffic_bytes": 0, "requests": 0, "cost": 0.0},
    ]
    assert data["totals"] == {"traffic_bytes": 4 * GB + 500, "requests": 36, "cost": 16.01}


def test_traffic_totals_equal_the_sum_of_days_and_include_deleted_proxies(
    client, user, proxy, record
):
    for offset, amount in enumerate([GB, 2 * GB, 123_456_789]):
        record(proxy, amount, 2, day=today() - timedelta(days=offset))
    proxy_delete(proxy=proxy)
    params = {
        "date_from": (today() - timedelta(days=6)).isoformat(),
        "date_to": today().isoformat(),
    }

    data = assert_ok(client.get("/v1/user/traffic", params))["data"]

    assert len(data["days"]) == 7
    assert data["totals"]["traffic_bytes"] == sum(d["traffic_bytes"] for d in data["days"])
    assert data["totals"]["traffic_bytes"] == 3 * GB + 123_456_789
    assert data["totals"]["requests"] == sum(d["requests"] for d in data["days"]) == 6
    assert data["totals"]["cost"] == pytest.approx(sum(d["cost"] for d in data["days"]))
    assert Decimal(str(data["totals"]["cost"])) == sum(
        UsageDaily.objects.values_list("cost", flat=True), Decimal(0)
    )


def test_traffic_accepts_366_days_and_refuses_367(client):
    leap_year = client.get("/v1/user/traffic", {"date_from": "2024-01-01", "date_to": "2024-12-31"})
    assert len(assert_ok(leap_year)["data"]["days"]) == 366
    assert_validation_error(
        client.get("/v1/user/traffic", {"date_from": "2024-01-01", "date_to": "2025-01-01"}),
        "date_to",
    )


@pytest.mark.parametrize(("field", "params"), BAD_RANGES)
def test_traffic_bad_dates_are_400_naming_the_field(client, field, params):
    assert_validation_error(client.get("/v1/user/traffic", params), field)


def test_traffic_runs_one_query_after_authentication(client, user, plan, django_assert_num_queries):
    UsageDailyFactory(
        proxy=ProxyFactory(owner=user, plan=plan), date=date(2026, 1, 5), traffic_bytes=GB
    )
    params = {"date_from": "2026-01-01", "date_to": "2026-01-31"}
    assert_ok(client.get("/v1/user/traffic", params))
    with django_assert_num_queries(2):
        response = client.get("/v1/user/traffic", params)
    data = assert_ok(response)["data"]
    assert len(data["days"]) == 31
    assert data["totals"]["traffic_bytes"] == GB


# --- /v1/proxy/{id}/usage/export ----------------------------------------------------------------


def export_url(proxy) -> str:
    return f"/v1/proxy/{proxy.public_id}/usage/export"


def test_export_streams_one_csv_row_per_day_including_zero_days(client, proxy, record):
    days = [today() - timedelta(days=n) for n in range(5)]
    record(proxy, GB, 10, day=days[3])
    record(proxy, GB // 2, 5, day=days[3])
    record(proxy, 1_048_576, 1, day=days[1])
    params = {"date_from": days[4].isoformat(), "date_to": days[0].isoformat()}

    response = client.get(export_url(proxy), params)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"main_usage_{days[4]:%Y-%m-%d}_{days[0]:%Y-%m-%d}.csv" in disposition
    rows = csv_rows(response)
    assert rows == [
        ["date", "traffic_bytes", "requests", "cost_usd"],
        [days[4].isoformat(), "0", "0", "0.00"],
        [days[3].isoformat(), str(GB + GB // 2), "15", "6.00"],
        [days[2].isoformat(), "0", "0", "0.00"],
        [days[1].isoformat(), "1048576", "1", "0.00"],
        [days[0].isoformat(), "0", "0", "0.00"],
    ]


def test_export_totals_match_the_recorded_usage(client, proxy, record):
    for n in range(30):
        record(proxy, (n + 1) * 10**7, n, day=today() - timedelta(days=n))
    params = {
        "date_from": (today() - timedelta(days=40)).isoformat(),
        "date_to": today().isoformat(),
    }

    rows = csv_rows(client.get(export_url(proxy), params))[1:]

    assert len(rows) == 41
    stored = list(UsageDaily.objects.filter(proxy=proxy))
    assert sum(int(r[1]) for r in rows) == sum(u.traffic_bytes for u in stored)
    assert sum(int(r[2]) for r in rows) == sum(u.requests for u in stored)
    assert sum(Decimal(r[3]) for r in rows) == sum(u.cost for u in stored)


def test_export_spans_up_to_3660_days_and_refuses_more(client, proxy):
    start = date(2016, 1, 1)
    last_allowed = start + timedelta(days=3659)
    rows = csv_rows(
        client.get(
            export_url(proxy), {"date_from": start.isoformat(), "date_to": last_allowed.isoformat()}
        )
    )
    assert len(rows) == 1 + 3660
    too_far = (last_allowed + timedelta(days=1)).isoformat()
    assert_validation_error(
        client.get(export_url(proxy), {"date_from": start.isoformat(), "date_to": too_far}),
        "date_to",
    )


@pytest.mark.parametrize("accept", ["text/csv", "application/json", "*/*", "image/png"])
def test_export_is_csv_whatever_the_client_accepts(client, proxy, accept):
    response = client.get(
        export_url(proxy), {"date_from": "2026-01-01", "date_to": "2026-01-02"}, HTTP_ACCEPT=accept
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert len(csv_rows(response)) == 3


@pytest.mark.parametrize(("field", "params"), BAD_RANGES)
def test_export_bad_dates_are_400_in_the_json_envelope(client, proxy, field, params):
    assert_validation_error(client.get(export_url(proxy), params, HTTP_ACCEPT="text/csv"), field)


def test_export_errors_stay_json_envelopes(api_client, make_key, proxy, other_user, plan):
    params = {"date_from": "2026-01-01", "date_to": "2026-01-02"}
    foreign = ProxyFactory(owner=other_user, plan=plan)
    cases = [
        (None, export_url(proxy), 401, "missing_api_key"),
        (make_key(scopes="proxies:read").key, export_url(proxy), 403, "insufficient_scope"),
        (make_key(scopes="stats:read").key, export_url(foreign), 404, "not_found"),
        (make_key(scopes="stats:read").key, "/v1/proxy/zzzzzz/usage/export", 404, "not_found"),
    ]
    for key, url, status, error_type in cases:
        headers = {"HTTP_X_API_KEY": key} if key else {}
        response = api_client.get(url, params, HTTP_ACCEPT="text/csv", **headers)
        assert_error(response, status, error_type)


@pytest.mark.parametrize("public_id", ["a%00b", "x" * 13, "%E2%80%AE86Rf07", "86Rf07%20"])
def test_export_of_ids_that_cannot_be_ids_is_404(client, public_id):
    response = client.get(
        f"/v1/proxy/{public_id}/usage/export", {"date_from": "2026-01-01", "date_to": "2026-01-02"}
    )
    assert_not_found(response)


def test_export_of_a_deleted_proxy_is_404(client, proxy):
    proxy_delete(proxy=proxy)
    response = client.get(export_url(proxy), {"date_from": "2026-01-01", "date_to": "2026-01-02"})
    assert_not_found(response)


def test_export_query_count_does_not_grow_with_the_range(
    client, proxy, django_assert_num_queries, record
):
    for n in range(3):
        record(proxy, GB, day=today() - timedelta(days=n))
    short = {"date_from": (today() - timedelta(days=2)).isoformat(), "date_to": today().isoformat()}
    long = {
        "date_from": (today() - timedelta(days=2000)).isoformat(),
        "date_to": today().isoformat(),
    }
    client.get(export_url(proxy), short)

    for params, days in ((short, 3), (long, 2001)):
        # key lookup, the proxy, the usage rows
        with django_assert_num_queries(3):
            rows = csv_rows(client.get(export_url(proxy), params))
        assert len(rows) == 1 + days
        assert [row[1] for row in rows[-3:]] == [str(GB)] * 3
