"""The Statistics dashboard page and its CSV download (SPEC D3)."""

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from proxies.models import Proxy
from tests.factories import PlanFactory, ProxyFactory, UsageDailyFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("stats:overview")
GB = 10**9


def export_url(proxy, **params) -> str:
    url = reverse("stats:export", args=[proxy.public_id])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def usage_data(response) -> dict:
    match = re.search(
        r'<script id="usage-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the chart data is embedded with json_script"
    return json.loads(match.group(1))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def today():
    return timezone.now().date()


@pytest.fixture
def proxy(user):
    return ProxyFactory(owner=user, name="shop_scraper")


@pytest.mark.parametrize("url", [PAGE, "/statistics/export/abc123.csv"])
def test_login_required(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_default_range_is_the_last_30_days(logged_in_client, today):
    response = logged_in_client.get(PAGE)
    assert response.status_code == 200
    form = response.context["form"]
    assert (form.start, form.end) == (today - timedelta(days=29), today)
    data = usage_data(response)
    assert len(data["dates"]) == 30
    assert data["dates"][0] == (today - timedelta(days=29)).isoformat()
    assert data["dates"][-1] == today.isoformat()
    html = response.content.decode()
    assert f'value="{today.isoformat()}"' in html
    assert "chart.umd.min.js" in html and "stats_chart.js" in html
    assert '<canvas id="usage-chart"' in html


def test_totals_chart_data_days_and_breakdown(logged_in_client, user, other_user, proxy, today):
    second = ProxyFactory(owner=user, name="monitor")
    UsageDailyFactory(
        proxy=proxy, date=today, traffic_bytes=1_500_000_000, requests=1200, cost=Decimal("6.00")
    )
    UsageDailyFactory(
        proxy=proxy,
        date=today - timedelta(days=2),
        traffic_bytes=500_000_000,
        requests=300,
        cost=Decimal("2.00"),
    )
    UsageDailyFactory(proxy=second, date=today, traffic_bytes=250_000, requests=5, cost=0)
    UsageDailyFactory(proxy=ProxyFactory(owner=other_user), date=today, traffic_bytes=9 * GB)
    UsageDailyFactory(proxy=proxy, date=today - timedelta(days=40), traffic_bytes=7 * GB)

    response = logged_in_client.get(
        PAGE, {"date_from": (today - timedelta(days=6)).isoformat(), "date_to": today.isoformat()}
    )
    assert response.status_code == 200
    assert response.context["totals"] == {
        "traffic_bytes": 2_000_250_000,
        "requests": 1505,
        "cost": Decimal("8.00"),
    }
    html = response.content.decode()
    totals = re.search(r'<dl class="totals" data-testid="totals">(.*?)</dl>', html, re.S).group(1)
    assert "2.00 GB" in totals and "1,505" in totals and "$8.00" in totals

    data = usage_data(response)
    assert len(data["dates"]) == 7
    assert data["traffic_bytes"] == [0, 0, 0, 0, 500_000_000, 0, 1_500_250_000]
    assert data["requests"][-1] == 1205
    assert data["cost"][-1] == "6.00"

    # The no-JavaScript table: one row per day, zero days included.
    days_table = re.search(r'data-testid="days-table">(.*?)</table>', html, re.S).group(1)
    assert days_table.count("<tr>") == 1 + 7
    assert "1.50 GB" in days_table

    breakdown = response.context["breakdown"]
    assert [row["proxy__name"] for row in breakdown] == ["monitor", "shop_scraper"]
    assert breakdown[1]["traffic_bytes"] == 2 * GB
    assert breakdown[1]["active_days"] == 2
    assert breakdown[0]["traffic_bytes"] == 250_000
    query = f"date_from={(today - timedelta(days=6)).isoformat()}&amp;date_to={today.isoformat()}"
    assert f"{export_url(proxy)}?{query}" in html


def test_breakdown_lists_idle_and_deleted_proxies(logged_in_client, user, proxy, today):
    gone = ProxyFactory(owner=user, name="retired")
    UsageDailyFactory(proxy=gone, date=today, traffic_bytes=GB)
    Proxy.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    response = logged_in_client.get(PAGE)
    rows = {row["proxy__name"]: row for row in response.context["breakdown"]}
    assert set(rows) == {"retired", "shop_scraper"}
    assert rows["shop_scraper"]["traffic_bytes"] == 0
    html = response.content.decode()
    assert "deleted" in html
    assert export_url(proxy) in html  # an idle proxy can still be exported (all zero days)
    assert export_url(gone) not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-02-30", "date_to": "2026-03-01"}, "Enter a date as YYYY-MM-DD."),
        ({"date_from": "yesterday", "date_to": "2026-03-01"}, "Enter a date as YYYY-MM-DD."),
        ({"date_from": "2026-03-01"}, "This field is required."),
        ({"date_to": "2026-03-01"}, "This field is required."),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "on or after the start date"),
        ({"date_from": "2025-01-01", "date_to": "2026-01-02"}, "at most 366 days"),
        ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, "before 9999-12-31"),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, "before 9999-12-31"),
        ({"date_from": "2026-01-01", "date_to": "2026-01-01" + "x" * 500}, "YYYY-MM-DD"),
    ],
)
def test_invalid_range_shows_a_clear_error(logged_in_client, params, message):
    response = logged_in_client.get(PAGE, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert "usage-data" not in html


def test_a_range_of_366_days_is_allowed(logged_in_client):
    response = logged_in_client.get(PAGE, {"date_from": "2024-01-01", "date_to": "2024-12-31"})
    assert response.status_code == 200
    assert len(usage_data(response)["dates"]) == 366


def fleet(user, count: int, today, *, prefix: str = "p") -> list:
    """`count` proxies named p000, p001, ... with usage today of 1,000 + their number bytes."""
    plan = PlanFactory()
    proxies = [
        ProxyFactory(owner=user, plan=plan, name=f"{prefix}{index:03d}") for index in range(count)
    ]
    for index, proxy in enumerate(proxies):
        UsageDailyFactory(proxy=proxy, date=today, traffic_bytes=1000 + index, cost=Decimal("0.01"))
    return proxies


def listed(response) -> list[str]:
    return [row["proxy__name"] for row in response.context["breakdown"]]


def test_page_query_count_is_constant(logged_in_client, user, today, django_assert_num_queries):
    # session, user, daily series (the account's rollup), proxies counted, the page of proxies,
    # the usage of that page's proxies
    fleet(user, 1, today)
    with django_assert_num_queries(6):
        response = logged_in_client.get(PAGE)
    assert listed(response) == ["p000"]
    for proxy in fleet(user, 130, today, prefix="q"):
        for offset in range(1, 3):
            UsageDailyFactory(proxy=proxy, date=today - timedelta(days=offset))
    with django_assert_num_queries(6):
        response = logged_in_client.get(PAGE)
    assert len(listed(response)) == 50
    with django_assert_num_queries(6):
        response = logged_in_client.get(PAGE, {"page": "3"})
    assert listed(response)[-1] == "q129"
    assert len(listed(response)) == 31


def test_breakdown_pages_50_proxies_by_name(logged_in_client, user, today):
    fleet(user, 120, today)
    first = logged_in_client.get(PAGE)
    assert listed(first) == [f"p{index:03d}" for index in range(50)]
    assert [row["traffic_bytes"] for row in first.context["breakdown"]][:2] == [1000, 1001]
    html = first.content.decode()
    assert "1\u201350 of 120 proxies, by name." in html
    assert "Page 1 of 3" in html
    query = f"date_from={(today - timedelta(days=29)).isoformat()}&amp;date_to={today.isoformat()}"
    assert f'href="?{query}&amp;page=2" rel="next">Next \u203a</a>' in html
    assert 'rel="prev"' not in html

    second = logged_in_client.get(PAGE, {"page": "2"})
    assert listed(second) == [f"p{index:03d}" for index in range(50, 100)]
    assert [row["traffic_bytes"] for row in second.context["breakdown"]][:2] == [1050, 1051]
    html = second.content.decode()
    assert f'href="?{query}&amp;page=1" rel="prev">\u2039 Previous</a>' in html
    assert f'href="?{query}&amp;page=3" rel="next">Next \u203a</a>' in html

    third = logged_in_client.get(PAGE, {"page": "3"})
    assert listed(third) == [f"p{index:03d}" for index in range(100, 120)]
    assert "101\u2013120 of 120 proxies" in third.content.decode()
    # The totals and the chart stay the account's, whatever the page.
    assert third.context["totals"]["traffic_bytes"] == sum(1000 + index for index in range(120))


@pytest.mark.parametrize(
    ("page", "number"),
    [("0", 1), ("-1", 1), ("abc", 1), ("", 1), ("2", 2), ("99", 3), ("9" * 30, 3), ("1.5", 1)],
)
def test_out_of_range_or_malformed_page_shows_the_nearest_page(
    logged_in_client, user, today, page, number
):
    fleet(user, 101, today)
    response = logged_in_client.get(PAGE, {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == number
    assert listed(response)[0] == f"p{(number - 1) * 50:03d}"


def test_paging_keeps_the_chosen_range(logged_in_client, user, today):
    proxies = fleet(user, 60, today)
    start = today - timedelta(days=6)
    UsageDailyFactory(proxy=proxies[55], date=start, traffic_bytes=7 * GB)
    UsageDailyFactory(proxy=proxies[55], date=start - timedelta(days=1), traffic_bytes=GB)
    params = {"date_from": start.isoformat(), "date_to": today.isoformat()}
    html = logged_in_client.get(PAGE, params).content.decode()
    query = f"date_from={start.isoformat()}&amp;date_to={today.isoformat()}"
    assert f'href="?{query}&amp;page=2" rel="next"' in html
    second = logged_in_client.get(PAGE, {**params, "page": "2"})
    form = second.context["form"]
    assert (form.start, form.end) == (start, today)
    rows = {row["proxy__name"]: row for row in second.context["breakdown"]}
    assert list(rows) == [f"p{index:03d}" for index in range(50, 60)]
    assert rows["p055"]["traffic_bytes"] == 7 * GB + 1055  # the day before the range is not
    assert f'href="?{query}&amp;page=1" rel="prev"' in second.content.decode()
    assert f"{export_url(proxies[55])}?{query}" in second.content.decode()


def test_a_single_page_has_no_pager(logged_in_client, user, today):
    fleet(user, 50, today)
    html = logged_in_client.get(PAGE).content.decode()
    assert len(re.findall(r"<tr data-proxy-id=", html)) == 50
    assert 'aria-label="Proxy pages"' not in html


# --- CSV export ---------------------------------------------------------------------------------


def test_csv_export_has_one_row_per_day_including_zero_days(logged_in_client, proxy, today):
    start = today - timedelta(days=4)
    UsageDailyFactory(
        proxy=proxy, date=start + timedelta(days=1), traffic_bytes=1048576, requests=120,
        cost=Decimal("0.52"),
    )  # fmt: skip
    UsageDailyFactory(proxy=proxy, date=today, traffic_bytes=5, requests=1, cost=Decimal("0.00"))
    UsageDailyFactory(proxy=proxy, date=start - timedelta(days=1), traffic_bytes=GB)  # outside
    UsageDailyFactory(proxy=ProxyFactory(owner=proxy.owner), date=start)  # another proxy
    response = logged_in_client.get(
        export_url(proxy, date_from=start.isoformat(), date_to=today.isoformat())
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="shop_scraper_usage_{start.isoformat()}_{today.isoformat()}.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["date", "traffic_bytes", "requests", "cost_usd"]
    assert rows[1:] == [
        [start.isoformat(), "0", "0", "0.00"],
        [(start + timedelta(days=1)).isoformat(), "1048576", "120", "0.52"],
        [(start + timedelta(days=2)).isoformat(), "0", "0", "0.00"],
        [(start + timedelta(days=3)).isoformat(), "0", "0", "0.00"],
        [today.isoformat(), "5", "1", "0.00"],
    ]


def test_csv_export_without_dates_covers_the_last_30_days(logged_in_client, proxy, today):
    rows = csv_rows(logged_in_client.get(export_url(proxy)))
    assert len(rows) == 1 + 30
    assert rows[-1][0] == today.isoformat()


def test_csv_export_allows_the_same_span_as_the_api(logged_in_client, proxy):
    """One rule for the dashboard and the API: 3,660 days at most (stats.csv.MAX_EXPORT_DAYS)."""
    response = logged_in_client.get(export_url(proxy, date_from="2016-01-01", date_to="2026-01-07"))
    assert response.status_code == 200
    assert len(csv_rows(response)) == 1 + 3660
    too_long = logged_in_client.get(export_url(proxy, date_from="2016-01-01", date_to="2026-01-08"))
    assert "at most 3660 days" in too_long.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "on or after the start date"),
        ({"date_from": "2010-01-01", "date_to": "2026-01-01"}, "at most 3660 days"),
        ({"date_from": "2026-13-01", "date_to": "2026-12-01"}, "YYYY-MM-DD"),
        ({"date_from": "2026-01-01"}, "date_to: This field is required."),
    ],
)
def test_csv_export_rejects_bad_ranges(logged_in_client, proxy, params, message):
    response = logged_in_client.get(export_url(proxy, **params))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_csv_export_of_another_accounts_or_deleted_proxy_is_404(logged_in_client, user, other_user):
    assert logged_in_client.get(export_url(ProxyFactory(owner=user))).status_code == 200
    foreign = ProxyFactory(owner=other_user)
    UsageDailyFactory(proxy=foreign)
    assert logged_in_client.get(export_url(foreign)).status_code == 404
    gone = ProxyFactory(owner=user, deleted_at=timezone.now())
    assert logged_in_client.get(export_url(gone)).status_code == 404
    assert logged_in_client.get("/statistics/export/nope.csv").status_code == 404


def test_csv_export_query_count_is_constant(
    logged_in_client, proxy, today, django_assert_num_queries
):
    # session, user, proxy, usage rows (streamed in chunks)
    with django_assert_num_queries(4):
        rows = csv_rows(logged_in_client.get(export_url(proxy)))
    assert len(rows) == 1 + 30
    for offset in range(20):
        UsageDailyFactory(proxy=proxy, date=today - timedelta(days=offset))
    with django_assert_num_queries(4):
        rows = csv_rows(logged_in_client.get(export_url(proxy)))
    assert sum(1 for row in rows[1:] if row[1] != "0") == 20
