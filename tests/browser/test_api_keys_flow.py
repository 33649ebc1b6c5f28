"""The API Keys page in a real browser (SPEC 2.2-2.5): dialogs, clipboard, query-string search and
sort, revocation, the key limit, the no-JavaScript fallback (K8) and a phone-width layout.
"""

import json
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from apikeys.models import APIKey
from tests.browser.conftest import log_in
from tests.factories import APIKeyFactory

# Live-server tests are transactional: the database is flushed after each one (the geo
# directory excepted, see tests/conftest.py).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def call_api(url: str, key: str) -> tuple[int, dict, dict]:
    """GET `url` with `X-API-Key` from outside the browser, so no session cookie can help."""
    request = urllib.request.Request(url, headers={"X-API-Key": key})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def name_cells(page: Page) -> Locator:
    return page.locator("table.keys tbody td[data-label='Name']")


def is_modal(locator: Locator) -> bool:
    """True when the <dialog> was opened with showModal() (JS), not merely rendered `open`."""
    return locator.evaluate("dialog => dialog.matches(':modal')")


def test_create_key_through_dialog_copy_and_call_api(new_context, live_server, browser_user, geo):
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    log_in(page, browser_user)

    page.get_by_role("link", name="Create API Key").click()
    create_dialog = page.locator("#create-dialog")
    expect(create_dialog).to_be_visible()
    assert is_modal(create_dialog)
    expect(page).to_have_url(re.compile(r"/api-keys/$"))  # a dialog, not the standalone page
    expect(create_dialog).to_contain_text("write does not include read")  # K1

    create_dialog.get_by_label("Name").fill("  Deploy bot  ")
    create_dialog.locator("input[name='scopes'][value='geo:read']").check()
    create_dialog.get_by_label("Expiration").select_option(label="30 days")
    create_dialog.get_by_role("button", name="Create API Key").click()

    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_be_visible()
    assert is_modal(new_key_dialog)
    expect(new_key_dialog.get_by_role("heading")).to_have_text("Your New API Key")
    expect(new_key_dialog).to_contain_text("It will never be shown again")
    expect(new_key_dialog).to_contain_text("password manager or a secrets vault")
    key = page.locator("#new-key-value").input_value()
    assert key.startswith("2xt_")

    new_key_dialog.get_by_role("button", name="Copy").click()
    expect(new_key_dialog.get_by_role("status")).to_have_text("Copied to clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == key

    stored = APIKey.objects.get(owner=browser_user)
    assert stored.name == "Deploy bot"
    assert stored.scope_list == ["geo:read"]
    assert stored.expiration == "30d"
    assert abs(stored.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=5)
    assert key.startswith(stored.display_prefix)

    status, body, _ = call_api(f"{live_server.url}/v1/geo/countries?search=germany", key)
    assert status == 200
    assert body["result"] is True
    assert [country["code"] for country in body["data"]] == ["DE"]

    new_key_dialog.get_by_role("link", name="Done").click()
    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    expect(page.locator("#new-key-dialog")).to_have_count(0)
    expect(page.locator("table.keys tbody tr")).to_have_count(1)
    assert key not in page.content()

    page.go_back()
    expect(page.locator("#new-key-dialog")).to_have_count(0)
    assert key not in page.content()


def test_search_and_sort_live_in_query_string(page, live_server, browser_user):
    for name in ["alpha-prod", "beta-staging", "gamma-prod", "delta-prod"]:
        APIKeyFactory(owner=browser_user, name=name)
    APIKeyFactory(name="epsilon-prod")  # another account's key never shows (K19)
    APIKeyFactory(owner=browser_user, name="zeta-prod", revoked=True)  # revoked keys are hidden
    log_in(page, browser_user)
    # Default order: newest first.
    expect(name_cells(page)).to_have_text(
        ["delta-prod", "gamma-prod", "beta-staging", "alpha-prod"]
    )

    page.get_by_role("searchbox").fill("PROD")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]search=PROD(&|$)"))
    expect(name_cells(page)).to_have_text(["delta-prod", "gamma-prod", "alpha-prod"])

    name_header = page.locator("thead a[data-sort='name']")
    name_header.click()
    expect(page).to_have_url(re.compile(r"\?search=PROD&sort=name$"))
    expect(name_cells(page)).to_have_text(["alpha-prod", "delta-prod", "gamma-prod"])
    expect(page.locator("thead th[aria-sort]")).to_have_attribute("aria-sort", "ascending")

    name_header.click()
    expect(page).to_have_url(re.compile(r"\?search=PROD&sort=-name$"))
    expect(name_cells(page)).to_have_text(["gamma-prod", "delta-prod", "alpha-prod"])
    expect(page.locator("thead th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_role("searchbox")).to_have_value("PROD")

    page.go_back()
    expect(page).to_have_url(re.compile(r"\?search=PROD&sort=name$"))
    expect(name_cells(page)).to_have_text(["alpha-prod", "delta-prod", "gamma-prod"])

    # A bookmarked URL with a bogus sort field shows the default order, not an error page.
    page.goto("/api-keys/?search=prod&sort=digest")
    expect(name_cells(page)).to_have_text(["delta-prod", "gamma-prod", "alpha-prod"])


def test_revoke_through_dialog_makes_next_api_call_401(page, live_server, browser_user, geo):
    doomed = APIKeyFactory(owner=browser_user, name="legacy-cron", scopes="geo:read")
    APIKeyFactory(owner=browser_user, name="keeper")
    countries_url = f"{live_server.url}/v1/geo/countries"
    assert call_api(countries_url, doomed.key)[0] == 200
    log_in(page, browser_user)
    row = page.locator(f"tr[data-key-id='{doomed.pk}']")
    dialog = page.locator("#revoke-dialog")

    row.get_by_role("link", name="Revoke", exact=True).click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Revoke API key “legacy-cron”?")
    expect(dialog).to_contain_text(f"{doomed.display_prefix}...")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()
    doomed.refresh_from_db()
    assert doomed.revoked_at is None

    row.get_by_role("link", name="Revoke", exact=True).click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Revoke key").click()
    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    expect(page.get_by_role("status")).to_contain_text("API key “legacy-cron”")
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    expect(row).to_have_count(0)
    expect(name_cells(page)).to_have_text(["keeper"])

    doomed.refresh_from_db()
    assert doomed.revoked_at is not None  # the row stays for audit (K18)
    status, body, headers = call_api(countries_url, doomed.key)
    assert status == 401
    assert body["error_type"] == "invalid_api_key"
    assert "WWW-Authenticate" in headers


def test_create_button_disabled_at_ten_active_keys(page, live_server, browser_user):
    APIKeyFactory.create_batch(10, owner=browser_user)
    log_in(page, browser_user)

    create = page.get_by_role("button", name="Create API Key")
    expect(create).to_be_disabled()
    expect(create).to_have_accessible_description(re.compile("limit of 10 active keys"))
    expect(page.locator("#limit-reason")).to_be_visible()
    expect(page.locator("#limit-reason")).to_contain_text("Revoke a key to create another")
    expect(page.get_by_role("link", name="Create API Key")).to_have_count(0)

    # The standalone page (no JavaScript) explains the limit instead of offering the form.
    page.goto("/api-keys/new/")
    expect(page.get_by_role("alert")).to_contain_text("the maximum of 10")
    expect(page.locator("form input[name='name']")).to_have_count(0)


def test_expired_and_revoked_keys_do_not_count_toward_limit(page, live_server, browser_user):
    APIKeyFactory.create_batch(9, owner=browser_user)
    APIKeyFactory(owner=browser_user, expired=True)
    APIKeyFactory(owner=browser_user, revoked=True)
    log_in(page, browser_user)

    expect(page.get_by_role("link", name="Create API Key")).to_be_enabled()
    expect(page.locator("#limit-reason")).to_have_count(0)
    expect(page.get_by_text("9 of 10 active keys in use")).to_be_visible()


def test_dashboard_works_without_javascript(new_context, live_server, browser_user, geo):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, browser_user)

    page.get_by_role("link", name="Create API Key").click()
    expect(page).to_have_url(re.compile(r"/api-keys/new/$"))
    page.get_by_label("Name").fill("No-JS script")
    page.locator("input[name='scopes'][value='geo:read']").check()
    page.get_by_label("Expiration").select_option(label="No expiration")
    page.get_by_role("button", name="Create API Key").click()

    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_be_visible()
    expect(new_key_dialog).to_contain_text("It will never be shown again")
    key = page.locator("#new-key-value").input_value()
    assert key.startswith("2xt_")
    stored = APIKey.objects.get(owner=browser_user)
    assert (stored.name, stored.expires_at) == ("No-JS script", None)
    assert call_api(f"{live_server.url}/v1/geo/countries", key)[0] == 200

    new_key_dialog.get_by_role("link", name="Done").click()
    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    assert key not in page.content()
    # Without JavaScript, Done is a plain link, so Back leads to the POST response itself.  It is
    # `no-store`, so Chromium refuses to show it from cache (its "Confirm Form Resubmission" page).
    with pytest.raises(PlaywrightError, match="ERR_CACHE_MISS"):
        page.go_back()
    expect(page).to_have_url(re.compile(r"^chrome-error://"))
    page.wait_for_load_state()
    assert key not in page.content()
    page.goto("/api-keys/")
    page.locator(f"tr[data-key-id='{stored.pk}']").get_by_role(
        "link", name="Revoke", exact=True
    ).click()
    expect(page).to_have_url(re.compile(rf"/api-keys/{stored.pk}/revoke/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke API key “No-JS script”?")
    page.get_by_role("button", name="Revoke key").click()

    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    expect(page.locator(f"tr[data-key-id='{stored.pk}']")).to_have_count(0)
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    assert call_api(f"{live_server.url}/v1/geo/countries", key)[0] == 401


def test_phone_width_has_no_horizontal_overflow_and_create_dialog_works(
    new_context, live_server, browser_user
):
    APIKeyFactory(
        owner=browser_user,
        name="nightly-export-of-every-proxy-statistic",
        scopes="proxies:read proxies:write geo:read stats:read balance:read",
    )
    APIKeyFactory(owner=browser_user, name="monitoring", expired=True)
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, browser_user)

    expect(name_cells(page)).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("link", name="Create API Key").click()
    dialog = page.locator("#create-dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    dialog.get_by_label("Name").fill("Phone key")
    dialog.locator("input[name='scopes'][value='stats:read']").check()
    submit = dialog.get_by_role("button", name="Create API Key")
    submit.scroll_into_view_if_needed()
    expect(submit).to_be_in_viewport()
    submit.click()

    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_be_visible()
    expect(new_key_dialog.get_by_role("button", name="Copy")).to_be_in_viewport()
    expect(page.locator("#new-key-value")).to_have_value(re.compile(r"^2xt_"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
