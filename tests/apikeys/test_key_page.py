"""The key page (K32): what it shows, the usage chart's data (K31), the key's own security log, and
editing the name and the allowlist (K30) behind re-authentication (AS5), checked through the
Public API afterwards."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityActor, SecurityEvent, SecurityEventType
from accounts.services import Origin, security_event_record
from apikeys.models import APIKey, APIKeyUsageDaily
from apikeys.selectors import api_key_usage_days
from apikeys.services import api_key_rotate
from tests.conftest import sign_in
from tests.envelope import assert_error, assert_ok
from tests.factories import APIKeyFactory

pytestmark = pytest.mark.django_db

BALANCE = "/v1/user/balance"
LIST = reverse("apikeys:list")


def detail_url(api_key) -> str:
    return reverse("apikeys:detail", args=[api_key.pk])


def edit_url(api_key) -> str:
    return reverse("apikeys:edit", args=[api_key.pk])


def usage_island(html: str) -> dict:
    """The JSON the chart is drawn from (`<script id="key-usage-data" type="application/json">`)."""
    start = html.index('<script id="key-usage-data" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def add_usage(api_key, days_ago: int, success=0, client_error=0, rate_limited=0):
    return APIKeyUsageDaily.objects.create(
        api_key=api_key,
        day=timezone.now().date() - timedelta(days=days_ago),
        success=success,
        client_error=client_error,
        rate_limited=rate_limited,
    )


def log_entries(api_key, count: int, user) -> None:
    for number in range(count):
        security_event_record(
            account_id=user.pk,
            event=SecurityEventType.KEY_ALLOWLIST_CHANGED,
            origin=Origin(actor=SecurityActor.OWNER, actor_user_id=user.pk, ip="192.0.2.1"),
            key_id=api_key.pk,
            key_prefix=api_key.display_prefix,
            details={"old": "anywhere", "new": f"192.0.2.{number % 250}"},
        )


# --- The page ------------------------------------------------------------------------------------


def test_the_page_shows_the_key(logged_in_client, user):
    used_at = timezone.now() - timedelta(hours=3)
    api_key = APIKeyFactory(
        owner=user,
        name="Nightly export",
        scopes="balance:read stats:read",
        allowed_ips="203.0.113.0/24 2001:db8::/32",
        last_used_at=used_at,
        last_used_ip="203.0.113.9",
    )
    response = logged_in_client.get(detail_url(api_key))
    assert response.status_code == 200
    html = response.content.decode()
    assert "API key “Nightly export”" in html
    assert f"<code>{api_key.display_prefix}...</code>" in html
    assert '<span class="badge">balance:read</span>' in html
    assert '<span class="badge">stats:read</span>' in html
    assert "<code>203.0.113.0/24</code>, <code>2001:db8::/32</code>" in html
    assert api_key.expires_at.strftime("%Y-%m-%d %H:%M") + " UTC" in html
    assert api_key.created_at.strftime("%Y-%m-%d %H:%M") + " UTC" in html
    assert (
        used_at.strftime("%Y-%m-%d %H:%M:%S") + " UTC</time> from <code>203.0.113.9</code>" in html
    )
    assert f'href="{reverse("apikeys:rotate", args=[api_key.pk])}"' in html
    assert f'href="{reverse("apikeys:revoke", args=[api_key.pk])}"' in html
    assert f'action="{edit_url(api_key)}"' in html
    assert "csrfmiddlewaretoken" in html


def test_a_fresh_key_reads_any_address_never_used_and_never_expires(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, expires_at=None, expiration="never")
    response = logged_in_client.get(detail_url(api_key))
    html = response.content.decode()
    assert '<dd data-testid="key-allowlist">Any address</dd>' in html
    assert '<dd data-testid="key-last-used">Never</dd>' in html
    assert '<dd data-testid="key-expiry">Never</dd>' in html
    # Nothing used yet: no chart and no Chart.js, the table of zero days is the report.
    assert 'id="key-usage-data"' not in html
    assert "chart.umd.min.js" not in html
    assert 'data-testid="no-usage"' in html
    assert html.count("<tr data-day=") == 30


def test_an_expired_key_reads_expired_and_offers_no_rotation(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, expired=True)
    html = logged_in_client.get(detail_url(api_key)).content.decode()
    assert ">Expired</span>" in html
    assert f'href="{reverse("apikeys:rotate", args=[api_key.pk])}"' not in html
    assert f'href="{reverse("apikeys:revoke", args=[api_key.pk])}"' in html


def test_a_retiring_key_reads_retiring_at_its_end(logged_in_client, user):
    api_key = APIKeyFactory(owner=user)
    api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="7d")
    api_key.refresh_from_db()
    html = logged_in_client.get(detail_url(api_key)).content.decode()
    assert "Retiring at" in html
    assert api_key.expires_at.strftime("%Y-%m-%d %H:%M") + " UTC" in html
    assert f'href="{reverse("apikeys:rotate", args=[api_key.pk])}"' not in html


def test_another_accounts_key_is_404(logged_in_client, other_user):
    theirs = APIKeyFactory(owner=other_user)
    assert logged_in_client.get(detail_url(theirs)).status_code == 404
    response = logged_in_client.post(edit_url(theirs), {"name": "mine now", "allowed_ips": ""})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name != "mine now"


def test_a_revoked_key_is_404(logged_in_client, user):
    revoked = APIKeyFactory(owner=user, revoked=True)
    assert logged_in_client.get(detail_url(revoked)).status_code == 404
    response = logged_in_client.post(edit_url(revoked), {"name": "back", "allowed_ips": ""})
    assert response.status_code == 404


def test_the_page_needs_a_signed_in_user(client, user):
    api_key = APIKeyFactory(owner=user)
    response = client.get(detail_url(api_key))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_key_table_links_each_name_to_its_page(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="linked")
    html = logged_in_client.get(LIST).content.decode()
    assert f'<a href="{detail_url(api_key)}">linked</a>' in html


def test_the_page_takes_the_same_queries_for_few_and_many_entries(
    logged_in_client, user, django_assert_num_queries
):
    few = APIKeyFactory(owner=user)
    many = APIKeyFactory(owner=user)
    add_usage(few, 1, success=1)
    for days_ago in range(40):
        add_usage(many, days_ago, success=days_ago, client_error=1, rate_limited=2)
    log_entries(few, 1, user)
    log_entries(many, 60, user)

    with CaptureQueriesContext(connection) as baseline:
        assert logged_in_client.get(detail_url(few)).status_code == 200
    with django_assert_num_queries(len(baseline.captured_queries)):
        response = logged_in_client.get(detail_url(many))
    assert response.status_code == 200
    # session, user, the key, its usage days, its log entries (with the acting user)
    assert len(baseline.captured_queries) == 5
    html = response.content.decode()
    assert html.count('<tr data-event="key_allowlist_changed">') == 50


def test_the_chart_data_island_matches_the_usage_selector(logged_in_client, user):
    api_key = APIKeyFactory(owner=user)
    other = APIKeyFactory(owner=user)
    add_usage(api_key, 0, success=12, client_error=3, rate_limited=1)
    add_usage(api_key, 5, success=7)
    add_usage(api_key, 29, rate_limited=4)
    add_usage(api_key, 30, success=999)  # 31 days ago: outside the chart
    add_usage(other, 0, success=555)  # another key's usage never shows
    html = logged_in_client.get(detail_url(api_key)).content.decode()
    assert "js/key_usage_chart.js" in html
    assert 'id="key-usage-chart"' in html

    days = api_key_usage_days(api_key_id=api_key.pk, today=timezone.now().date(), days=30)
    island = usage_island(html)
    assert island == {
        "dates": [day["day"].isoformat() for day in days],
        "success": [day["success"] for day in days],
        "client_error": [day["client_error"] for day in days],
        "rate_limited": [day["rate_limited"] for day in days],
    }
    assert len(island["dates"]) == 30
    assert island["success"][-1] == 12 and island["client_error"][-1] == 3
    assert island["rate_limited"][0] == 4
    assert 999 not in island["success"] and 555 not in island["success"]
    # The table fallback lists the same days.
    today = timezone.now().date().isoformat()
    assert f'<tr data-day="{today}">' in html
    assert '<td data-label="Success">12</td>' in html


def test_the_security_log_shows_only_this_keys_entries_newest_first(
    logged_in_client, user, other_user
):
    api_key = APIKeyFactory(owner=user)
    sibling = APIKeyFactory(owner=user)
    theirs = APIKeyFactory(owner=other_user)
    now = timezone.now()
    for key, when, new in (
        (api_key, now - timedelta(hours=2), "198.51.100.1"),
        (api_key, now - timedelta(hours=1), "198.51.100.2"),
        (sibling, now, "198.51.100.3"),
    ):
        security_event_record(
            account_id=user.pk,
            event=SecurityEventType.KEY_ALLOWLIST_CHANGED,
            origin=Origin(actor=SecurityActor.OWNER, actor_user_id=user.pk, ip="192.0.2.1"),
            key_id=key.pk,
            key_prefix=key.display_prefix,
            details={"old": "anywhere", "new": new},
            now=when,
        )
    # Another account's entry naming this key's id (ids are not secrets) never shows.
    security_event_record(
        account_id=other_user.pk,
        event=SecurityEventType.KEY_REVOKED,
        origin=Origin(actor=SecurityActor.OWNER, actor_user_id=other_user.pk),
        key_id=api_key.pk,
        key_prefix=theirs.display_prefix,
        details={},
    )
    html = logged_in_client.get(detail_url(api_key)).content.decode()
    assert html.count("<tr data-event=") == 2
    assert html.index("anywhere → 198.51.100.2") < html.index("anywhere → 198.51.100.1")
    assert "198.51.100.3" not in html
    assert 'data-event="key_revoked"' not in html


# --- Editing -------------------------------------------------------------------------------------


def test_edit_renames_the_key(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="old name", allowed_ips="203.0.113.0/24")
    response = logged_in_client.post(
        edit_url(api_key), {"name": "  new name ", "allowed_ips": "203.0.113.0/24"}, follow=True
    )
    assert response.redirect_chain == [(detail_url(api_key), 302)]
    html = response.content.decode()
    assert f"API key “new name” ({api_key.display_prefix}...) was saved." in html
    api_key.refresh_from_db()
    assert (api_key.name, api_key.allowed_ips) == ("new name", "203.0.113.0/24")
    # A rename alone is not a security event.
    assert not SecurityEvent.objects.filter(key_id=api_key.pk).exists()


def test_edit_replaces_the_allowlist_normalised_and_logs_old_and_new(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="worker", allowed_ips="198.51.100.7")
    response = logged_in_client.post(
        edit_url(api_key),
        {
            "name": "worker",
            "allowed_ips": "203.0.113.0/24,\n2001:DB8::/32  203.0.113.0/24; 192.0.2.1/32",
        },
        HTTP_USER_AGENT="pytest-browser",
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(api_key)
    api_key.refresh_from_db()
    assert api_key.allowed_ip_list == ["203.0.113.0/24", "2001:db8::/32", "192.0.2.1"]
    event = SecurityEvent.objects.get(key_id=api_key.pk)
    assert event.event == "key_allowlist_changed"
    assert event.account_id == user.pk
    assert (event.actor, event.actor_user_id) == (SecurityActor.OWNER, user.pk)
    assert (event.ip, event.user_agent) == ("192.0.2.44", "pytest-browser")
    assert event.details["old"] == "198.51.100.7"
    assert event.details["new"] == "203.0.113.0/24 2001:db8::/32 192.0.2.1"
    # The page now shows the list and the entry.
    html = logged_in_client.get(detail_url(api_key)).content.decode()
    assert "<code>203.0.113.0/24</code>, <code>2001:db8::/32</code>, <code>192.0.2.1</code>" in html
    assert '<tr data-event="key_allowlist_changed">' in html
    assert "198.51.100.7 → 203.0.113.0/24 2001:db8::/32 192.0.2.1" in html


def test_emptying_the_allowlist_allows_any_address(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="worker", allowed_ips="198.51.100.7")
    response = logged_in_client.post(edit_url(api_key), {"name": "worker", "allowed_ips": " "})
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.allowed_ips == ""
    assert SecurityEvent.objects.get(key_id=api_key.pk).details["new"] == "anywhere"


def test_the_edit_form_shows_the_current_values(logged_in_client, user):
    api_key = APIKeyFactory(owner=user, name="shown", allowed_ips="203.0.113.0/24 192.0.2.1")
    html = logged_in_client.get(detail_url(api_key)).content.decode()
    assert 'name="name" id="id_name" maxlength="100" required value="shown"' in html
    assert ">203.0.113.0/24\n192.0.2.1</textarea>" in html


@pytest.mark.parametrize(
    ("allowed_ips", "message"),
    [
        ("203.0.113.0/24, not-an-address", "not-an-address is not an IPv4 or IPv6 address"),
        ("203.0.113.5/24", "203.0.113.5/24 has host bits set: did you mean 203.0.113.0/24?"),
        ("2001:db8::1/32", "has host bits set: did you mean 2001:db8::/32?"),
        (
            " ".join(f"10.0.{n // 250}.{n % 250}" for n in range(101)),
            "At most 100 entries, not 101",
        ),
    ],
    ids=["garbage", "host-bits-v4", "host-bits-v6", "101-entries"],
)
def test_a_bad_allowlist_is_400_with_the_error_at_its_field_and_nothing_changes(
    logged_in_client, user, allowed_ips, message
):
    api_key = APIKeyFactory(owner=user, name="keep", allowed_ips="198.51.100.7")
    response = logged_in_client.post(
        edit_url(api_key), {"name": "renamed", "allowed_ips": allowed_ips}
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = html[html.index('<p class="field-error" id="allowed-ips-errors">') :]
    assert message in errors[: errors.index("</p>")]
    assert 'id="name-errors"' not in html
    assert "Nothing was saved." in html
    # What was typed is kept in the form; the facts still show the stored key.
    assert 'value="renamed"' in html
    assert '<dd data-testid="key-name">keep</dd>' in html
    api_key.refresh_from_db()
    assert (api_key.name, api_key.allowed_ips) == ("keep", "198.51.100.7")
    assert not SecurityEvent.objects.filter(key_id=api_key.pk).exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "This field is required."), ("x" * 101, "at most 100 characters")],
    ids=["empty", "too-long"],
)
def test_a_bad_name_is_400_with_the_error_at_its_field(logged_in_client, user, name, message):
    api_key = APIKeyFactory(owner=user, name="keep", allowed_ips="")
    response = logged_in_client.post(
        edit_url(api_key), {"name": name, "allowed_ips": "203.0.113.0/24"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="name-errors"' in html
    assert message in html
    api_key.refresh_from_db()
    assert (api_key.name, api_key.allowed_ips) == ("keep", "")


def test_the_edit_form_requires_csrf(user):
    csrf_client = Client(enforce_csrf_checks=True)
    sign_in(csrf_client, user)
    api_key = APIKeyFactory(owner=user, name="keep")
    response = csrf_client.post(edit_url(api_key), {"name": "csrf", "allowed_ips": "192.0.2.1"})
    assert response.status_code == 403
    api_key.refresh_from_db()
    assert (api_key.name, api_key.allowed_ips) == ("keep", "")


def test_edit_after_a_stale_sign_in_asks_for_the_password_first(client, user):
    sign_in(client, user, authenticated_ago=16 * 60)
    api_key = APIKeyFactory(owner=user, name="keep")
    # The page itself is only read: it opens without re-authentication.
    assert client.get(detail_url(api_key)).status_code == 200
    response = client.post(edit_url(api_key), {"name": "stale", "allowed_ips": "192.0.2.1"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    api_key.refresh_from_db()
    assert (api_key.name, api_key.allowed_ips) == ("keep", "")
    assert not SecurityEvent.objects.filter(key_id=api_key.pk).exists()


def test_edit_needs_a_signed_in_user(client, user):
    api_key = APIKeyFactory(owner=user, name="keep")
    response = client.post(edit_url(api_key), {"name": "anon", "allowed_ips": ""})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    api_key.refresh_from_db()
    assert api_key.name == "keep"


def test_get_on_the_edit_url_goes_to_the_key_page(logged_in_client, user):
    api_key = APIKeyFactory(owner=user)
    response = logged_in_client.get(edit_url(api_key))
    assert response.status_code == 302
    assert response["Location"] == detail_url(api_key)


# --- The edited allowlist through the Public API -------------------------------------------------


def test_an_allowlist_set_on_the_page_applies_to_the_next_api_request(
    logged_in_client, user, api_client
):
    api_key = APIKeyFactory(owner=user, scopes="balance:read")
    key = api_key.key
    assert_ok(api_client.get(BALANCE, HTTP_X_API_KEY=key, REMOTE_ADDR="198.51.100.7"))

    response = logged_in_client.post(
        edit_url(api_key), {"name": api_key.name, "allowed_ips": "203.0.113.0/24"}
    )
    assert response.status_code == 302

    body = assert_error(
        api_client.get(BALANCE, HTTP_X_API_KEY=key, REMOTE_ADDR="198.51.100.7"),
        403,
        "ip_not_allowed",
    )
    assert "198.51.100.7" in body["error"]
    assert_ok(api_client.get(BALANCE, HTTP_X_API_KEY=key, REMOTE_ADDR="203.0.113.9"))

    # Emptied again: any address.
    logged_in_client.post(edit_url(api_key), {"name": api_key.name, "allowed_ips": ""})
    assert_ok(api_client.get(BALANCE, HTTP_X_API_KEY=key, REMOTE_ADDR="198.51.100.7"))
    assert APIKey.objects.get(pk=api_key.pk).allowed_ips == ""
