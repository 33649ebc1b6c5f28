"""Proxies, Statistics and Billing pages in a real browser (SPEC D2-D4): create a proxy and edit
its whitelist, delete through the dialog, the traffic chart drawn by Chart.js, the CSV download,
the no-JavaScript fallbacks (K8) and a phone-width layout.
"""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from proxies.models import Proxy, ProxyStatus
from tests.browser.conftest import log_in
from tests.factories import PlanFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

GB = 10**9


def no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def record_usage(record, proxy: Proxy) -> None:
    """3.5 GB over three days of the last 30: 1.5 GB today, 0.5 GB 3 days ago, 1.5 GB 10 days ago."""
    today = timezone.now().date()
    for offset, traffic in [(0, 1_500_000_000), (3, 500_000_000), (10, 1_500_000_000)]:
        record(proxy, traffic, 100, day=today - timedelta(days=offset))


def test_create_proxy_and_edit_its_whitelist(page, live_server, browser_user, plan, geo, fund):
    PlanFactory(title="Mobile 5G", mobile=True)
    fund(browser_user, "50")
    log_in(page, browser_user)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Proxies").click()
    expect(page).to_have_url(re.compile(r"/proxies/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Proxies")
    expect(page.get_by_text("No proxies yet")).to_be_visible()

    page.get_by_role("link", name="Create proxy").click()
    expect(page).to_have_url(re.compile(r"/proxies/new/$"))
    page.get_by_label("Name", exact=True).fill("shop_scraper")
    plan = page.get_by_label("Plan", exact=True)
    # Only the plans of the chosen type are offered (JavaScript); the server checks it anyway.
    expect(plan.locator("optgroup[label='Mobile']")).to_be_disabled()
    page.get_by_label("Type", exact=True).select_option("mobile")
    expect(plan.locator("optgroup[label='Residential']")).to_be_disabled()
    page.get_by_label("Type", exact=True).select_option("residential")
    plan.select_option(label="Residential Standard · $4.00/GB")
    page.get_by_label("Countries").select_option(["840"])
    page.get_by_label("IP whitelist").fill("203.0.113.7\n10.0.0.0/24")
    page.locator("#id_limit_type").select_option("traffic")
    page.locator("#id_limit_period").select_option("monthly")
    page.locator("#id_limit_total").fill("20")
    page.get_by_role("button", name="Create proxy").click()

    expect(page).to_have_url(re.compile(r"/proxies/$"))
    expect(page.get_by_role("status")).to_contain_text("Proxy “shop_scraper” was created")
    proxy = Proxy.objects.get(owner=browser_user)
    row = page.locator(f"tr[data-proxy-id='{proxy.public_id}']")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Residential Standard")
    expect(row.locator("code.username")).to_have_text("user-shop_scraper-country-us")
    assert proxy.ip_whitelist == ["203.0.113.7", "10.0.0.0/24"]
    assert proxy.limit_total == Decimal(20 * GB)

    row.get_by_role("link", name="Edit shop_scraper").click()
    expect(page).to_have_url(re.compile(rf"/proxies/{proxy.public_id}/edit/$"))
    whitelist = page.get_by_label("IP whitelist")
    expect(whitelist).to_have_value("203.0.113.7\n10.0.0.0/24")
    expect(page.locator("#id_limit_total")).to_have_value("20")
    expect(page.get_by_test_id("gateway-username")).to_have_text("user-shop_scraper-country-us")

    # A bad entry is reported on the field and nothing is saved.
    whitelist.fill("203.0.113.7\n2001:db8::/32\n300.1.2.3")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#ip_whitelist-errors")).to_contain_text(
        "'300.1.2.3' is not an IPv4/IPv6 address"
    )
    expect(whitelist).to_have_attribute("aria-invalid", "true")
    proxy.refresh_from_db()
    assert proxy.ip_whitelist == ["203.0.113.7", "10.0.0.0/24"]

    whitelist.fill("203.0.113.7\n2001:DB8::/32\n203.0.113.7")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/proxies/$"))
    expect(page.get_by_role("status")).to_contain_text("Proxy “shop_scraper” was updated")
    proxy.refresh_from_db()
    assert proxy.ip_whitelist == ["203.0.113.7", "2001:db8::/32"]
    assert proxy.limit_total == Decimal(20 * GB)  # untouched fields keep their values
    assert list(proxy.countries.values_list("code", flat=True)) == ["US"]


def test_delete_proxy_through_the_dialog(page, live_server, browser_user, make_proxy):
    doomed = make_proxy(browser_user, name="old_scraper")
    make_proxy(browser_user, name="keeper")
    log_in(page, browser_user)
    page.goto("/proxies/")
    row = page.locator(f"tr[data-proxy-id='{doomed.public_id}']")
    dialog = page.locator("#delete-dialog")

    row.get_by_role("link", name="Delete old_scraper").click()
    expect(dialog).to_be_visible()
    assert dialog.evaluate("dialog => dialog.matches(':modal')")
    expect(dialog.get_by_role("heading")).to_have_text("Delete proxy “old_scraper”?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    doomed.refresh_from_db()
    assert doomed.deleted_at is None

    row.get_by_role("link", name="Delete old_scraper").click()
    dialog.get_by_role("button", name="Delete proxy").click()
    expect(page).to_have_url(re.compile(r"/proxies/$"))
    expect(page.get_by_role("status")).to_contain_text("Proxy “old_scraper” was deleted")
    expect(row).to_have_count(0)
    expect(page.locator("tbody tr")).to_have_count(1)
    doomed.refresh_from_db()
    assert doomed.deleted_at is not None


def test_statistics_chart_and_csv_download(
    page, live_server, browser_user, make_proxy, record, fund
):
    fund(browser_user, "100")
    proxy = make_proxy(browser_user)
    record_usage(record, proxy)
    log_in(page, browser_user)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statistics").click()
    expect(page).to_have_url(re.compile(r"/statistics/$"))
    totals = page.get_by_test_id("totals")
    expect(totals).to_contain_text("3.50 GB")
    expect(totals).to_contain_text("300")
    expect(totals).to_contain_text("$14.00")

    canvas = page.locator("canvas#usage-chart")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert page.evaluate("Chart.getChart(document.querySelector('canvas')) !== undefined")
    assert page.evaluate("Chart.version").startswith("4.")
    bars = page.evaluate("Chart.getChart(document.querySelector('canvas')).data.datasets[0].data")
    assert len(bars) == 30
    assert bars[-1] == pytest.approx(1.5) and sum(bars) == pytest.approx(3.5)  # in GB

    # The table of days is behind a toggle once the chart is drawn.
    days = page.locator("#usage-days")
    expect(days).to_be_hidden()
    toggle = page.locator("#usage-days-toggle")
    expect(toggle).to_have_accessible_name("Show as table")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(days).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_accessible_name("Hide table")
    expect(days.locator("tbody tr")).to_have_count(30)

    row = page.locator(f"tr[data-proxy-id='{proxy.public_id}']")
    expect(row).to_contain_text("3.50 GB")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="CSV for shop_scraper").click()
    download = download_info.value
    today = timezone.now().date()
    start = today - timedelta(days=29)
    assert download.suggested_filename == f"shop_scraper_usage_{start}_{today}.csv"
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["date", "traffic_bytes", "requests", "cost_usd"]
    assert len(rows) == 1 + 30
    assert rows[1] == [start.isoformat(), "0", "0", "0.00"]
    assert rows[-1] == [today.isoformat(), "1500000000", "100", "6.00"]


def test_statistics_for_a_chosen_range(page, live_server, browser_user, make_proxy, record, fund):
    fund(browser_user, "100")
    proxy = make_proxy(browser_user)
    record_usage(record, proxy)
    today = timezone.now().date()
    log_in(page, browser_user)
    page.goto("/statistics/")

    page.get_by_label("From", exact=True).fill((today - timedelta(days=6)).isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(rf"date_from={today - timedelta(days=6)}&date_to={today}"))
    expect(page.get_by_test_id("totals")).to_contain_text("2.00 GB")
    count = "Chart.getChart(document.querySelector('canvas')).data.labels.length"
    assert page.evaluate(count) == 7

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV for shop_scraper").click()
    text = open(download_info.value.path(), encoding="utf-8").read()  # noqa: SIM115
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 7

    # A reversed range is a clear error on the field, not a chart of nothing.
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#date_to-errors")).to_have_text(
        "The end date must be on or after the start date."
    )
    expect(page.locator("canvas")).to_have_count(0)


def test_statistics_and_proxies_work_without_javascript(
    new_context, live_server, browser_user, make_proxy, record, fund
):
    fund(browser_user, "100")
    proxy = make_proxy(browser_user)
    record_usage(record, proxy)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, browser_user)

    page.goto("/statistics/")
    expect(page.locator("#usage-chart-figure")).to_be_hidden()
    days = page.locator("#usage-days")
    expect(days).to_be_visible()
    expect(days.locator("tbody tr")).to_have_count(30)
    expect(days.locator("tbody tr").last).to_contain_text("1.50 GB")

    # Delete without the dialog: the link leads to a confirmation page naming the proxy.
    page.goto("/proxies/")
    page.get_by_role("link", name="Delete shop_scraper").click()
    expect(page).to_have_url(re.compile(rf"/proxies/{proxy.public_id}/delete/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete proxy “shop_scraper”?")
    page.get_by_role("button", name="Delete proxy").click()
    expect(page).to_have_url(re.compile(r"/proxies/$"))
    expect(page.get_by_role("status")).to_contain_text("was deleted")
    proxy.refresh_from_db()
    assert proxy.deleted_at is not None
    assert proxy.status == ProxyStatus.INACTIVE


def test_billing_page_shows_balance_history_and_plans(
    page, live_server, browser_user, plan, make_proxy, record, fund
):
    fund(browser_user, "30", description="Card payment")
    proxy = make_proxy(browser_user)
    record_usage(record, proxy)
    log_in(page, browser_user)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page).to_have_url(re.compile(r"/billing/$"))
    expect(page.get_by_test_id("balance")).to_have_text("$16.00")
    rows = page.get_by_test_id("transactions-table").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.last).to_contain_text("Card payment")
    expect(page.get_by_test_id("plans-residential")).to_contain_text("Residential Standard")


@pytest.mark.parametrize(
    "path", ["/proxies/", "/proxies/new/", "edit", "/statistics/", "/billing/"]
)
def test_phone_width_has_no_horizontal_overflow(
    new_context, live_server, browser_user, make_proxy, record, fund, path
):
    fund(browser_user, "100")
    proxy = make_proxy(
        browser_user,
        name="nightly_export_of_every_marketplace_price",
        ip_whitelist=["2001:db8:1234:5678::/64", "203.0.113.7"],
        countries=[840, 276],
    )
    record_usage(record, proxy)
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, browser_user)
    page.goto(f"/proxies/{proxy.public_id}/edit/" if path == "edit" else path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if path == "/statistics/":
        expect(page.locator("canvas#usage-chart")).to_be_visible()
        box = page.locator("canvas#usage-chart").bounding_box()
        assert box is not None and 0 < box["width"] <= 390
    assert no_horizontal_overflow(page)
    # Every sidebar link is reachable on a phone.
    for name in ["API Keys", "Proxies", "Statistics", "Billing"]:
        expect(
            page.get_by_role("navigation", name="Main").get_by_role("link", name=name)
        ).to_be_in_viewport()
