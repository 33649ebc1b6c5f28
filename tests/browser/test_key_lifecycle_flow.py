"""Key lifecycle in a real browser (K25, K27): rotating a key with a grace period through the
dialog and through the no-JavaScript confirmation page, the old and new keys against the Public
API, and the Security log page with its event filter.
"""

import json
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import SecurityEvent, SecurityEventType
from accounts.services import security_event_record
from apikeys.models import APIKey
from tests.browser.conftest import create_key_through_dialog, log_in
from tests.browser.test_account_security_flow import age_last_authentication
from tests.factories import DEFAULT_PASSWORD, APIKeyFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

BALANCE_PATH = "/v1/user/balance"


def call_api(url: str, key: str) -> tuple[int, dict]:
    """GET `url` with `X-API-Key` from outside the browser, so no session cookie can help."""
    request = urllib.request.Request(url, headers={"X-API-Key": key})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def logged_events(page: Page) -> list[str]:
    """The Security log page's rows, top to bottom, by event type (after the page has loaded)."""
    expect(page).to_have_url(re.compile(r"/security-log/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Security log")
    rows = page.locator("[data-testid=security-log] tbody tr[data-event]")
    return [row.get_attribute("data-event") or "" for row in rows.all()]


def stored_events(user) -> list[str]:
    events = SecurityEvent.objects.filter(account_id=user.pk).order_by("-created_at", "-id")
    return list(events.values_list("event", flat=True))


def rotate_through_dialog(page: Page, key_id: int, grace: str) -> str:
    """Open the Rotate dialog for `key_id`, pick `grace`, submit, and return the new full key."""
    page.locator(f"tr[data-key-id='{key_id}']").get_by_role(
        "link", name="Rotate", exact=True
    ).click()
    dialog = page.locator("#rotate-dialog")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("d => d.matches(':modal')")
    expect(page).to_have_url(re.compile(r"/api-keys/$"))  # a dialog, not the confirmation page
    expect(dialog.locator("input[name='grace']:checked")).to_have_value("24h")  # the default
    dialog.locator(f"input[name='grace'][value='{grace}']").check()
    dialog.get_by_role("button", name="Rotate key").click()
    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_be_visible()
    expect(new_key_dialog.get_by_role("heading")).to_have_text("Your New API Key")
    new_key = page.locator("input[data-testid=new-key]").input_value()
    assert new_key.startswith("2xt_")
    return new_key


def test_rotate_with_one_hour_grace_keeps_both_keys_working(page, live_server, browser_user):
    log_in(page, browser_user)
    old_key = create_key_through_dialog(page, "billing-sync", ["balance:read"])
    old = APIKey.objects.get(owner=browser_user)
    balance_url = f"{live_server.url}{BALANCE_PATH}"
    assert call_api(balance_url, old_key)[0] == 200

    # The dialog names the key it rotates.
    page.locator(f"tr[data-key-id='{old.pk}']").get_by_role(
        "link", name="Rotate", exact=True
    ).click()
    dialog = page.locator("#rotate-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Rotate API key “billing-sync”?")
    expect(dialog).to_contain_text(f"{old.display_prefix}...")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert APIKey.objects.filter(owner=browser_user).count() == 1

    before = timezone.now()
    new_key = rotate_through_dialog(page, old.pk, "1h")
    assert new_key != old_key
    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_contain_text(f"It replaces {old.display_prefix}...")
    expect(new_key_dialog).to_contain_text("keeps working until")

    old.refresh_from_db()
    new = APIKey.objects.get(owner=browser_user, rotated_from=old)
    assert old.rotated_to_id == new.pk
    assert (new.name, new.scope_list) == ("billing-sync", ["balance:read"])
    assert before + timedelta(minutes=59) < old.expires_at <= timezone.now() + timedelta(hours=1)
    assert new_key.startswith(new.display_prefix)

    # Both keys work during the grace period.
    status, body = call_api(balance_url, old_key)
    assert status == 200, body
    assert body["result"] is True
    status, body = call_api(balance_url, new_key)
    assert status == 200, body
    assert body["result"] is True

    # The table: the old key is marked as retiring (no Rotate any more), the new one is normal.
    new_key_dialog.get_by_role("link", name="Done").click()
    expect(page.locator("#new-key-dialog")).to_have_count(0)
    old_row = page.locator(f"tr[data-key-id='{old.pk}']")
    new_row = page.locator(f"tr[data-key-id='{new.pk}']")
    expect(old_row.locator("[data-testid=retiring]")).to_contain_text("Retiring at")
    expect(old_row.locator("[data-testid=retiring] time")).to_have_text(
        old.expires_at.strftime("%Y-%m-%d %H:%M") + " UTC"
    )
    expect(old_row.get_by_role("link", name="Rotate", exact=True)).to_have_count(0)
    expect(new_row.locator("[data-testid=retiring]")).to_have_count(0)
    expect(new_row.get_by_role("link", name="Rotate", exact=True)).to_be_visible()
    # A rotation counts as one key against the limit (K7/K25).
    expect(page.get_by_text("1 of 10 active keys in use")).to_be_visible()
    assert old_key not in page.content()
    assert new_key not in page.content()


def test_rotate_now_retires_old_key_at_once(page, live_server, browser_user):
    old = APIKeyFactory(owner=browser_user, name="edge-worker", scopes="balance:read")
    keeper = APIKeyFactory(owner=browser_user, name="keeper", scopes="balance:read")
    balance_url = f"{live_server.url}{BALANCE_PATH}"
    assert call_api(balance_url, old.key)[0] == 200
    log_in(page, browser_user)

    new_key = rotate_through_dialog(page, old.pk, "now")
    expect(page.locator("#new-key-dialog")).to_contain_text("has stopped working")

    status, body = call_api(balance_url, old.key)
    assert status == 401, body
    assert body["error_type"] == "invalid_api_key"
    status, body = call_api(balance_url, new_key)
    assert status == 200, body
    assert call_api(balance_url, keeper.key)[0] == 200  # other keys are untouched

    # The old row is gone already on the page that shows the new key, and after Done.
    expect(page.locator(f"tr[data-key-id='{old.pk}']")).to_have_count(0)
    page.locator("#new-key-dialog").get_by_role("link", name="Done").click()
    expect(page.locator("#new-key-dialog")).to_have_count(0)
    new = APIKey.objects.get(rotated_from=old)
    expect(page.locator(f"tr[data-key-id='{old.pk}']")).to_have_count(0)
    expect(page.locator(f"tr[data-key-id='{new.pk}']")).to_be_visible()
    expect(page.locator("table.keys tbody td[data-label='Name']")).to_have_text(
        ["edge-worker", "keeper"]
    )
    old.refresh_from_db()
    assert old.revoked_at is None  # retired by its expiry, not revoked
    assert old.expires_at <= timezone.now()


def test_security_log_lists_key_events_newest_first_and_filters(page, live_server, browser_user):
    log_in(page, browser_user)
    create_key_through_dialog(page, "rotated-one", ["balance:read"])
    create_key_through_dialog(page, "revoked-one", ["geo:read"])
    rotated = APIKey.objects.get(owner=browser_user, name="rotated-one")
    revoked = APIKey.objects.get(owner=browser_user, name="revoked-one")

    page.goto("/api-keys/")
    rotate_through_dialog(page, rotated.pk, "1h")
    page.locator("#new-key-dialog").get_by_role("link", name="Done").click()
    expect(page.locator("#new-key-dialog")).to_have_count(0)
    page.locator(f"tr[data-key-id='{revoked.pk}']").get_by_role(
        "link", name="Revoke", exact=True
    ).click()
    page.locator("#revoke-dialog").get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    replacement = APIKey.objects.get(rotated_from=rotated)

    page.get_by_role("link", name="Security log").click()
    expect(page).to_have_url(re.compile(r"/security-log/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Security log")
    rows = page.locator("[data-testid=security-log] tbody tr")
    # Newest first.  A rotation logs the replacement's creation after the rotation itself.
    expected = [
        ("key_revoked", revoked.display_prefix),
        ("key_created", replacement.display_prefix),
        ("key_rotated", rotated.display_prefix),
        ("key_created", revoked.display_prefix),
        ("key_created", rotated.display_prefix),
        ("signed_in", None),
    ]
    # The page shows exactly what is stored for this account.
    assert stored_events(browser_user) == [event for event, _ in expected]
    assert logged_events(page) == [event for event, _ in expected]
    for row, (_, prefix) in zip(rows.all(), expected, strict=True):
        key_cell = row.locator("td[data-label='Key']")
        expect(key_cell).to_have_text(f"{prefix}..." if prefix else "—")
    expect(rows.nth(0).locator("td[data-label='Event']")).to_contain_text("API key revoked")
    expect(rows.nth(0).locator("td[data-label='By']")).to_have_text("Owner")
    times = [row.locator("time").get_attribute("datetime") for row in rows.all()]
    assert times == sorted(times, reverse=True)

    page.locator("#event-filter").select_option(label="API key revoked")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/security-log/\?event=key_revoked$"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-event", "key_revoked")
    expect(page.locator("#event-filter")).to_have_value("key_revoked")

    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/security-log/$"))
    expect(rows).to_have_count(len(expected))


def test_security_log_filter_works_without_javascript(new_context, live_server, browser_user):
    key = APIKeyFactory(owner=browser_user, name="old-cron")
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, browser_user)
    page.locator(f"tr[data-key-id='{key.pk}']").get_by_role(
        "link", name="Revoke", exact=True
    ).click()
    expect(page).to_have_url(re.compile(rf"/api-keys/{key.pk}/revoke/$"))
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked")

    page.get_by_role("link", name="Security log").click()
    rows = page.locator("[data-testid=security-log] tbody tr")
    # The factory's key was never logged as created: only the revocation and the sign-in.
    assert stored_events(browser_user) == ["key_revoked", "signed_in"]
    assert logged_events(page) == ["key_revoked", "signed_in"]
    page.locator("#event-filter").select_option("key_revoked")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/security-log/\?event=key_revoked$"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-event", "key_revoked")
    expect(rows.first.locator("td[data-label='Key']")).to_have_text(f"{key.display_prefix}...")

    page.locator("#event-filter").select_option("key_rotated")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/security-log/\?event=key_rotated$"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text("No entries of this type.")


def test_rotate_without_javascript_uses_confirmation_page(new_context, live_server, browser_user):
    old = APIKeyFactory(owner=browser_user, name="no-js-job", scopes="balance:read")
    balance_url = f"{live_server.url}{BALANCE_PATH}"
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, browser_user)

    page.locator(f"tr[data-key-id='{old.pk}']").get_by_role(
        "link", name="Rotate", exact=True
    ).click()
    expect(page).to_have_url(re.compile(rf"/api-keys/{old.pk}/rotate/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Rotate API key “no-js-job”?")
    expect(page.locator("main, body").first).to_contain_text(f"{old.display_prefix}...")
    expect(page.locator("input[name='grace']:checked")).to_have_value("24h")
    page.locator("input[name='grace'][value='1h']").check()
    page.get_by_role("button", name="Rotate key").click()

    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_be_visible()
    expect(new_key_dialog.get_by_role("heading")).to_have_text("Your New API Key")
    new_key = page.locator("input[data-testid=new-key]").input_value()
    assert new_key.startswith("2xt_")
    new = APIKey.objects.get(rotated_from=old)
    assert new_key.startswith(new.display_prefix)
    old.refresh_from_db()
    assert timezone.now() + timedelta(minutes=58) < old.expires_at
    assert old.expires_at <= timezone.now() + timedelta(hours=1)

    assert call_api(balance_url, old.key)[0] == 200
    assert call_api(balance_url, new_key)[0] == 200
    new_key_dialog.get_by_role("link", name="Done").click()
    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    expect(page.locator(f"tr[data-key-id='{old.pk}'] [data-testid=retiring]")).to_contain_text(
        "Retiring at"
    )
    assert new_key not in page.content()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_stale_sign_in_reauthenticates_before_rotating(
    new_context, live_server, browser_user, javascript
):
    old = APIKeyFactory(owner=browser_user, name="stale-job", scopes="balance:read")
    balance_url = f"{live_server.url}{BALANCE_PATH}"
    page = new_context(java_script_enabled=javascript).new_page()
    log_in(page, browser_user)
    page.locator(f"tr[data-key-id='{old.pk}']").get_by_role(
        "link", name="Rotate", exact=True
    ).click()
    if javascript:
        form = page.locator("#rotate-dialog")
        expect(form).to_be_visible()
    else:
        expect(page).to_have_url(re.compile(rf"/api-keys/{old.pk}/rotate/$"))
        form = page.locator("form[method='post']")

    # The dialog stays open for over 15 minutes before it is sent.
    age_last_authentication(page.context)
    form.locator("input[name='grace'][value='now']").check()
    form.get_by_role("button", name="Rotate key").click()

    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    old.refresh_from_db()
    assert old.rotated_to_id is None  # nothing happened yet
    assert call_api(balance_url, old.key)[0] == 200
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    # The rotation goes through as sent (grace `now`), and its new key is shown once.
    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_be_visible()
    new_key = page.locator("input[data-testid=new-key]").input_value()
    new = APIKey.objects.get(rotated_from=old)
    assert new_key.startswith(new.display_prefix)
    status, body = call_api(balance_url, old.key)
    assert (status, body["error_type"]) == (401, "invalid_api_key")
    assert call_api(balance_url, new_key)[0] == 200
    expect(page.locator(f"tr[data-key-id='{old.pk}']")).to_have_count(0)


def test_rotate_at_the_key_limit_and_a_second_tab_cannot_rotate_twice(
    context, live_server, browser_user
):
    keys = APIKeyFactory.create_batch(10, owner=browser_user, scopes="balance:read")
    target = keys[0]
    page = context.new_page()
    log_in(page, browser_user)
    expect(page.get_by_role("button", name="Create API Key")).to_be_disabled()
    other_tab = context.new_page()
    other_tab.goto("/api-keys/")

    # At 10 of 10 active keys a rotation still works: it counts as one key (K25).
    rotate_through_dialog(page, target.pk, "1h")
    expect(page.get_by_text("10 of 10 active keys in use")).to_be_visible()
    expect(page.get_by_role("button", name="Create API Key")).to_be_disabled()
    assert APIKey.objects.filter(owner=browser_user).count() == 11

    # The other tab still offers Rotate for the old key; sending it changes nothing.
    other_tab.locator(f"tr[data-key-id='{target.pk}']").get_by_role(
        "link", name="Rotate", exact=True
    ).click()
    dialog = other_tab.locator("#rotate-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Rotate key").click()
    expect(other_tab).to_have_url(re.compile(r"/api-keys/$"))
    expect(other_tab.locator("#new-key-dialog")).to_have_count(0)
    expect(other_tab.get_by_text("already rotated")).to_be_visible()
    assert APIKey.objects.filter(owner=browser_user).count() == 11
    assert (
        SecurityEvent.objects.filter(account_id=browser_user.pk, event="key_rotated").count() == 1
    )
    expect(
        other_tab.locator(f"tr[data-key-id='{target.pk}'] [data-testid=retiring]")
    ).to_be_visible()


def test_security_log_pages_keep_the_filter(new_context, live_server, browser_user):
    start = timezone.now() - timedelta(days=1)
    for minute in range(55):
        security_event_record(
            account_id=browser_user.pk,
            event=SecurityEventType.KEY_REVOKED,
            key_prefix=f"2xt_old{minute:02d}",
            now=start + timedelta(minutes=minute),
        )
    for minute in range(3):
        security_event_record(
            account_id=browser_user.pk,
            event=SecurityEventType.KEY_CREATED,
            now=start + timedelta(minutes=minute, seconds=30),
        )
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, browser_user)
    page.get_by_role("link", name="Security log").click()
    page.locator("#event-filter").select_option("key_revoked")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/security-log/\?event=key_revoked$"))
    assert logged_events(page) == ["key_revoked"] * 50
    expect(page.locator("[data-testid=security-log] tbody tr").first).to_contain_text("2xt_old54")

    pager = page.get_by_role("navigation", name="Security log pages")
    expect(pager).to_contain_text("Page 1 of 2")
    pager.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"/security-log/\?event=key_revoked&page=2$"))
    assert logged_events(page) == ["key_revoked"] * 5
    expect(page.locator("[data-testid=security-log] tbody tr").last).to_contain_text("2xt_old00")
    expect(page.locator("#event-filter")).to_have_value("key_revoked")
    pager.get_by_role("link", name="Newer").click()
    expect(page).to_have_url(re.compile(r"/security-log/\?event=key_revoked&page=1$"))
    assert len(logged_events(page)) == 50
