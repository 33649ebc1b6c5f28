"""One usage export for the dashboard and the Public API: the same file, name and headers."""

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories import ProxyFactory, UsageDailyFactory


def test_dashboard_download_and_api_export_are_the_same_file(
    logged_in_client, api_client, make_key, user
):
    proxy = ProxyFactory(owner=user, name="shop_scraper")
    today = timezone.now().date()
    start = today - timedelta(days=3)
    UsageDailyFactory(proxy=proxy, date=start + timedelta(days=1), traffic_bytes=2**20, requests=9)
    params = {"date_from": start.isoformat(), "date_to": today.isoformat()}

    dashboard = logged_in_client.get(reverse("stats:export", args=[proxy.public_id]), params)
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="stats:read").key)
    api = api_client.get(f"/v1/proxy/{proxy.public_id}/usage/export", params)

    assert dashboard.status_code == api.status_code == 200
    body = b"".join(dashboard.streaming_content)
    assert body == b"".join(api.streaming_content)
    assert body.count(b"\n") == 1 + 4  # the header, then every day of the range
    assert (
        dashboard["Content-Disposition"]
        == api["Content-Disposition"]
        == (f'attachment; filename="shop_scraper_usage_{start:%Y-%m-%d}_{today:%Y-%m-%d}.csv"')
    )
    assert dashboard["Content-Type"] == api["Content-Type"] == "text/csv; charset=utf-8"
    for response in (dashboard, api):
        assert "no-store" in response["Cache-Control"]


def test_both_allow_the_same_longest_span(logged_in_client, api_client, make_key, user):
    proxy = ProxyFactory(owner=user)
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="stats:read").key)
    start = date(2016, 1, 1)
    for days, expected in ((3659, 200), (3660, 400)):
        params = {"date_from": start.isoformat(), "date_to": (start + timedelta(days)).isoformat()}
        dashboard = logged_in_client.get(reverse("stats:export", args=[proxy.public_id]), params)
        api = api_client.get(f"/v1/proxy/{proxy.public_id}/usage/export", params)
        assert (dashboard.status_code, api.status_code) == (expected, expected), days
