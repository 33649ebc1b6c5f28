"""The key page in a real browser (K30-K32): a key created with an allowlist that shuts out this
machine is refused by the Public API, its allowlist is widened on its page, and the next request
goes through; the page's security log shows the change.  The usage chart is drawn from the page's
JSON with Chart.js, and without JavaScript the table of days is the report.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import SecurityEvent
from apikeys.models import APIKey, APIKeyUsageDaily
from apikeys.services import api_key_create
from apikeys.usage import usage_flush
from tests.browser.conftest import create_key_through_dialog, log_in
from tests.browser.test_account_security_flow import age_last_authentication
from tests.browser.test_key_lifecycle_flow import call_api
from tests.factories import DEFAULT_PASSWORD, APIKeyFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

BALANCE_PATH = "/v1/user/balance"
REFUSED_FROM = re.compile(r"may not be used from (\S+)\. ")


def open_key_page(page: Page, api_key: APIKey) -> None:
    """From the API Keys table, by the key's name."""
    page.goto("/api-keys/")
    page.locator(f"tr[data-key-id='{api_key.pk}']").get_by_role("link", name=api_key.name).click()
    expect(page).to_have_url(re.compile(rf"/api-keys/{api_key.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"API key “{api_key.name}”")


def test_widening_the_allowlist_on_the_key_page_lets_this_machine_in(
    page, live_server, browser_user
):
    log_in(page, browser_user)
    key = create_key_through_dialog(
        page, "office-only", ["balance:read"], allowed_ips="203.0.113.0/24"
    )
    api_key = APIKey.objects.get(owner=browser_user)
    assert api_key.allowed_ip_list == ["203.0.113.0/24"]
    balance_url = f"{live_server.url}{BALANCE_PATH}"

    status, body = call_api(balance_url, key)
    assert status == 403, body
    assert body["error_type"] == "ip_not_allowed"
    # The message names the address the request came from (127.0.0.1 for the live server).
    client_address = REFUSED_FROM.search(body["error"]).group(1)
    assert client_address in ("127.0.0.1", "::1"), body["error"]

    open_key_page(page, api_key)
    expect(page.get_by_test_id("key-allowlist")).to_have_text("203.0.113.0/24")
    expect(page.get_by_test_id("key-last-used")).to_have_text("Never")
    textarea = page.locator("textarea[name='allowed_ips']")
    expect(textarea).to_have_value("203.0.113.0/24")
    textarea.fill(f"203.0.113.0/24\n{client_address}")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(rf"/api-keys/{api_key.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text("“office-only”")
    expect(page.get_by_role("status")).to_contain_text("was saved")
    expect(page.get_by_test_id("key-allowlist")).to_have_text(f"203.0.113.0/24, {client_address}")

    status, body = call_api(balance_url, key)
    assert status == 200, body
    assert body["result"] is True

    # The key's own security log: the change on top, with the old and new lists.
    page.reload()
    rows = page.locator("[data-testid=key-security-log] tbody tr[data-event]")
    expect(rows.first).to_have_attribute("data-event", "key_allowlist_changed")
    expect(rows.first).to_contain_text("API key allowlist changed")
    expect(rows.first).to_contain_text(f"203.0.113.0/24 → 203.0.113.0/24 {client_address}")
    expect(rows.first).to_contain_text("Owner")
    expect(rows.nth(1)).to_have_attribute("data-event", "key_created")
    expect(page.get_by_test_id("key-last-used")).to_contain_text(f"from {client_address}")
    assert SecurityEvent.objects.filter(key_id=api_key.pk, event="key_allowlist_changed").exists()


def test_a_bad_allowlist_is_shown_at_its_field_and_nothing_changes(page, browser_user):
    api_key = APIKeyFactory(owner=browser_user, name="strict", allowed_ips="203.0.113.0/24")
    log_in(page, browser_user)
    open_key_page(page, api_key)
    page.locator("textarea[name='allowed_ips']").fill("203.0.113.5/24")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#allowed-ips-errors")).to_have_text(
        "203.0.113.5/24 has host bits set: did you mean 203.0.113.0/24?"
    )
    expect(page.locator("textarea[name='allowed_ips']")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("key-allowlist")).to_have_text("203.0.113.0/24")
    api_key.refresh_from_db()
    assert api_key.allowed_ips == "203.0.113.0/24"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_stale_sign_in_reauthenticates_then_saves_the_allowlist(
    new_context, browser_user, javascript
):
    api_key = APIKeyFactory(owner=browser_user, name="stale-edit")
    page = new_context(java_script_enabled=javascript).new_page()
    log_in(page, browser_user)
    page.goto(f"/api-keys/{api_key.pk}/")
    age_last_authentication(page.context)
    page.locator("textarea[name='allowed_ips']").fill("192.0.2.0/24")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    api_key.refresh_from_db()
    assert api_key.allowed_ips == ""  # nothing happened yet
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    # The change goes through as sent.
    expect(page.get_by_test_id("key-allowlist")).to_have_text("192.0.2.0/24")
    api_key.refresh_from_db()
    assert api_key.allowed_ips == "192.0.2.0/24"


def test_the_usage_chart_is_drawn_and_the_table_lists_the_days(new_context, browser_user):
    api_key = APIKeyFactory(owner=browser_user, name="busy")
    today = timezone.now().date()
    APIKeyUsageDaily.objects.create(
        api_key=api_key, day=today, success=1200, client_error=34, rate_limited=5
    )
    APIKeyUsageDaily.objects.create(
        api_key=api_key, day=today - timedelta(days=3), success=77, client_error=0, rate_limited=0
    )

    page = new_context().new_page()
    log_in(page, browser_user)
    open_key_page(page, api_key)
    canvas = page.locator("#key-usage-chart")
    expect(canvas).to_be_visible()
    chart = page.evaluate(
        """() => {
          const chart = window.Chart.getChart(document.getElementById("key-usage-chart"));
          return chart && {
            labels: chart.data.labels.length,
            series: chart.data.datasets.map((set) => set.label),
            today: chart.data.datasets.map((set) => set.data[set.data.length - 1]),
            stacked: chart.options.scales.y.stacked && chart.options.scales.x.stacked,
          };
        }"""
    )
    assert chart == {
        "labels": 30,
        "series": ["Success", "Client error", "Rate-limited"],
        "today": [1200, 34, 5],
        "stacked": True,
    }
    assert canvas.bounding_box()["height"] > 50
    # With the chart drawn, the table waits behind a toggle.
    table = page.get_by_test_id("key-usage-table")
    expect(table).to_be_hidden()
    page.get_by_role("button", name="Show as table").click()
    expect(table).to_be_visible()
    today_row = table.locator(f"tr[data-day='{today.isoformat()}']")
    expect(today_row.locator("td")).to_have_text(
        [today.strftime("%a, %b %-d, %Y"), "1,200", "34", "5", "1,239"]
    )
    expect(
        table.locator(f"tr[data-day='{(today - timedelta(days=3)).isoformat()}']")
    ).to_contain_text("77")

    # Without JavaScript the table is the report and no chart area is shown.
    plain = new_context(java_script_enabled=False).new_page()
    log_in(plain, browser_user)
    plain.goto(f"/api-keys/{api_key.pk}/")
    expect(plain.get_by_test_id("key-usage-table")).to_be_visible()
    expect(plain.locator("#key-usage-figure")).to_be_hidden()
    expect(plain.get_by_test_id("key-usage-table").locator("tbody tr")).to_have_count(30)
    expect(
        plain.get_by_test_id("key-usage-table").locator(f"tr[data-day='{today.isoformat()}']")
    ).to_contain_text("1,239")


def test_a_burst_of_requests_shows_in_the_table_and_the_chart_after_a_flush(
    new_context, live_server, browser_user, settings
):
    """K31 end to end: real API requests (successes, client errors, rate-limited ones) counted by
    the running server, written by one flush, then read by the table's 7-day column and the key
    page's chart."""
    settings.API_KEY_RATE_LIMIT = 0.01  # one more request every 100 s: the burst is the budget
    settings.API_KEY_RATE_BURST = 5
    settings.API_ACCOUNT_RATE_LIMIT = 10_000
    settings.API_ACCOUNT_RATE_BURST = 10_000
    created = api_key_create(owner=browser_user, name="burst", scopes=["balance:read"])
    statuses = [call_api(f"{live_server.url}{BALANCE_PATH}", created.key)[0] for _ in range(3)]
    statuses += [call_api(f"{live_server.url}/v1/proxy", created.key)[0] for _ in range(2)]
    statuses += [call_api(f"{live_server.url}{BALANCE_PATH}", created.key)[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 403, 403, 429, 429, 429, 429]
    assert not APIKeyUsageDaily.objects.exists()  # counted without a database write

    usage_flush()

    page = new_context().new_page()
    log_in(page, browser_user)
    page.goto("/api-keys/")
    row = page.locator(f"tr[data-key-id='{created.api_key.pk}']")
    expect(row.locator("td[data-label='Requests (7 days)']")).to_have_text("9")
    open_key_page(page, created.api_key)
    expect(page.locator("#key-usage-chart")).to_be_visible()
    today = page.evaluate(
        """() => window.Chart.getChart(document.getElementById("key-usage-chart"))
              .data.datasets.map((set) => set.data[set.data.length - 1])"""
    )
    assert today == [3, 2, 4]
