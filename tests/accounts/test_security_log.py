"""The security log (K27): entries from sign-ins and account changes, the Security log page, and
the staff views of it in the admin."""

from datetime import UTC, datetime, timedelta

import pytest
from allauth.account import signals as account_signals
from django.contrib.auth import signals as auth_signals
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityActor, SecurityEvent, SecurityEventType
from accounts.services import USER_AGENT_MAX_LENGTH, Origin, security_event_record
from apikeys.models import APIKey
from apikeys.services import api_key_retirements_log, api_key_rotate
from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD, APIKeyFactory, UserFactory

pytestmark = pytest.mark.django_db

LOG = reverse("security_log")
LOGIN = reverse("account_login")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def entries(user, event: str | None = None):
    rows = SecurityEvent.objects.filter(account=user)
    if event:
        rows = rows.filter(event=event)
    return list(rows.order_by("created_at", "id"))


def record(user, event=SecurityEventType.KEY_CREATED, *, at=T0, **fields) -> SecurityEvent:
    return security_event_record(account_id=user.pk, event=event, now=at, **fields)


def listed(response) -> list[int]:
    return [entry.pk for entry in response.context["events"]]


# --- Receivers -----------------------------------------------------------------------------------


def test_signing_in_through_the_form_logs_the_address_and_browser(client, user):
    response = client.post(
        LOGIN,
        {"login": user.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 302
    (entry,) = entries(user)
    assert entry.event == SecurityEventType.SIGNED_IN
    assert entry.actor == SecurityActor.OWNER
    assert entry.ip == "203.0.113.77"
    assert entry.user_agent == BROWSER
    assert entry.key_id is None and entry.key_prefix == ""


def test_signing_in_by_e_mail_address_logs_the_same(client, user):
    client.post(LOGIN, {"login": user.email.upper(), "password": DEFAULT_PASSWORD})
    assert [e.event for e in entries(user)] == ["signed_in"]


def test_a_wrong_password_for_an_account_is_logged_on_it(client, user, other_user):
    response = client.post(
        LOGIN,
        {"login": user.username, "password": "not-the-password"},
        REMOTE_ADDR="203.0.113.78",
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    (entry,) = entries(user)
    assert entry.event == SecurityEventType.SIGN_IN_FAILED
    assert entry.ip == "203.0.113.78" and entry.user_agent == BROWSER
    assert "not-the-password" not in str(entry.details)
    assert entries(other_user) == []


def test_a_failed_sign_in_by_e_mail_in_another_case_is_logged_on_the_account(client, user):
    client.post(LOGIN, {"login": user.email.upper(), "password": "wrong"})
    assert [e.event for e in entries(user)] == ["sign_in_failed"]


def test_a_failed_sign_in_for_nobody_writes_nothing(client, user):
    client.post(LOGIN, {"login": "no-such-account", "password": "wrong"})
    client.post(LOGIN, {"login": "nobody@example.com", "password": "wrong"})
    assert not SecurityEvent.objects.exists()


def test_a_failed_sign_in_signal_without_a_usable_identifier_writes_nothing(user):
    for credentials in ({}, {"username": ""}, {"username": None}, {"email": ["x"]}):
        auth_signals.user_login_failed.send(sender=__name__, credentials=credentials)
    assert not SecurityEvent.objects.exists()


def test_changing_the_password_is_logged(client, user):
    sign_in(client, user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "brand-new-pass-42",
            "password2": "brand-new-pass-42",
        },
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 302
    (entry,) = entries(user, "password_changed")
    assert entry.actor == SecurityActor.OWNER
    assert entry.ip == "127.0.0.1" and entry.user_agent == BROWSER


def test_a_failed_password_change_is_not_logged(client, user):
    sign_in(client, user)
    client.post(
        reverse("account_change_password"),
        {"oldpassword": "nope", "password1": "brand-new-pass-42", "password2": "brand-new-pass-42"},
    )
    assert entries(user, "password_changed") == []


def test_account_signals_are_logged_with_their_request(user):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.5", HTTP_USER_AGENT="curl/8")
    request.user = user
    account_signals.password_reset.send(sender=type(user), request=request, user=user)
    account_signals.password_set.send(sender=type(user), request=request, user=user)
    assert [e.event for e in entries(user)] == ["password_reset", "password_changed"]
    assert {(e.ip, e.user_agent) for e in entries(user)} == {("192.0.2.5", "curl/8")}


def test_a_signal_without_a_request_is_logged_as_the_system(user):
    auth_signals.user_logged_in.send(sender=type(user), request=None, user=user)
    (entry,) = entries(user)
    assert entry.event == "signed_in" and entry.actor == SecurityActor.SYSTEM
    assert entry.ip is None and entry.user_agent == ""


def test_record_writes_one_entry_with_everything_given(user, other_user):
    entry = security_event_record(
        account_id=user.pk,
        event=SecurityEventType.KEY_REVOKED,
        origin=Origin(
            actor=SecurityActor.STAFF,
            actor_user_id=other_user.pk,
            ip="2001:db8::1",
            user_agent="ua",
        ),
        key_id=42,
        key_prefix="2xt_AbCd",
        details={"name": "CI"},
        now=T0,
    )
    entry.refresh_from_db()
    assert (entry.account, entry.event, entry.actor, entry.actor_user) == (
        user,
        "key_revoked",
        "staff",
        other_user,
    )
    assert (entry.key_id, entry.key_prefix, entry.ip, entry.user_agent) == (
        42,
        "2xt_AbCd",
        "2001:db8::1",
        "ua",
    )
    assert entry.details == {"name": "CI"}
    assert entry.created_at == T0


def test_record_defaults_to_the_system_and_the_current_time(user):
    entry = security_event_record(account_id=user.pk, event=SecurityEventType.KEY_RETIRED)
    assert entry.actor == SecurityActor.SYSTEM and entry.actor_user is None
    assert entry.ip is None and entry.details == {}
    assert abs(entry.created_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_origin_from_a_request_keeps_a_clean_bounded_user_agent(user):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.1", HTTP_USER_AGENT="evil\x00\r\nagent" + "x" * 5000
    )
    request.user = user
    origin = Origin.from_request(request, actor=SecurityActor.OWNER)
    assert origin.actor_user_id == user.pk and origin.ip == "203.0.113.1"
    assert origin.user_agent.startswith("evilagent")
    assert len(origin.user_agent) == USER_AGENT_MAX_LENGTH
    assert all(character.isprintable() for character in origin.user_agent)


# --- The Security log page -----------------------------------------------------------------------


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(LOG)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_page_lists_only_the_accounts_own_entries_newest_first(client, user, other_user):
    oldest = record(user, SecurityEventType.KEY_CREATED, at=T0, key_prefix="2xt_Aaaa")
    newest = record(user, SecurityEventType.KEY_REVOKED, at=T0 + timedelta(hours=2))
    middle = record(user, SecurityEventType.PASSWORD_CHANGED, at=T0 + timedelta(hours=1))
    theirs = record(other_user, SecurityEventType.KEY_CREATED, key_prefix="2xt_Zzzz")
    sign_in(client, user)  # logged too, as the newest entry
    signed_in = SecurityEvent.objects.get(account=user, event="signed_in")

    response = client.get(LOG)

    assert response.status_code == 200
    assert listed(response) == [signed_in.pk, newest.pk, middle.pk, oldest.pk]
    html = response.content.decode()
    assert "2xt_Aaaa..." in html and "2xt_Zzzz" not in html
    assert theirs.pk not in listed(response)
    assert "API key revoked" in html and "Password changed" in html


def test_the_same_second_keeps_the_order_of_writing(client, user):
    first = record(user, SecurityEventType.KEY_ROTATED, at=T0)
    second = record(user, SecurityEventType.KEY_CREATED, at=T0)
    sign_in(client, user)
    assert listed(client.get(LOG))[1:] == [second.pk, first.pk]


def test_the_filter_shows_one_event_type(client, user):
    revoked = record(user, SecurityEventType.KEY_REVOKED)
    record(user, SecurityEventType.KEY_CREATED)
    sign_in(client, user)
    response = client.get(LOG, {"event": "key_revoked"})
    assert listed(response) == [revoked.pk]
    assert response.context["event"] == "key_revoked"
    assert '<option value="key_revoked" selected>' in response.content.decode()


def test_a_filter_matching_nothing_says_so(client, user):
    record(user, SecurityEventType.KEY_CREATED)
    sign_in(client, user)
    response = client.get(LOG, {"event": "mfa_added"})
    assert listed(response) == []
    assert "No entries of this type." in response.content.decode()


@pytest.mark.parametrize("event", ["nonsense", "KEY_REVOKED", "x" * 5000, "key_revoked'--"])
def test_an_unknown_event_type_shows_everything(client, user, event):
    record(user, SecurityEventType.KEY_REVOKED)
    record(user, SecurityEventType.KEY_CREATED)
    sign_in(client, user)
    response = client.get(LOG, {"event": event})
    assert response.status_code == 200
    assert len(listed(response)) == 3
    assert response.context["event"] == ""


@pytest.mark.parametrize(
    ("page", "expected"),
    [("abc", 1), ("", 1), ("0", 1), ("-4", 1), ("2", 2), ("99999999999999999999999", 2)],
)
def test_odd_page_numbers_never_fail(client, user, page, expected):
    SecurityEvent.objects.bulk_create(
        SecurityEvent(
            account=user,
            created_at=T0 - timedelta(minutes=n),
            event=SecurityEventType.KEY_CREATED,
            actor=SecurityActor.OWNER,
        )
        for n in range(60)
    )
    sign_in(client, user)
    response = client.get(LOG, {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == expected
    assert len(listed(response)) == (50 if expected == 1 else 11)


def test_paging_keeps_the_filter(client, user):
    for n in range(55):
        record(user, SecurityEventType.KEY_REVOKED, at=T0 - timedelta(minutes=n))
    sign_in(client, user)
    html = client.get(LOG, {"event": "key_revoked"}).content.decode()
    assert "?event=key_revoked&amp;page=2" in html
    second = client.get(LOG, {"event": "key_revoked", "page": "2"})
    assert len(listed(second)) == 5


def _fill(user, staff, count: int) -> None:
    for n in range(count):
        record(
            user,
            SecurityEventType.KEY_REVOKED,
            at=T0 - timedelta(minutes=n),
            origin=Origin(actor=SecurityActor.STAFF, actor_user_id=staff.pk, ip="192.0.2.1"),
            key_prefix=f"2xt_{n:04d}",
        )


def test_the_page_costs_the_same_queries_for_few_and_many_entries(
    client, user, django_assert_num_queries
):
    staff = UserFactory(is_staff=True)
    _fill(user, staff, 4)
    sign_in(client, user)  # the fifth entry
    # Session, user, count, one page of entries with the acting staff user joined.
    with django_assert_num_queries(4):
        response = client.get(LOG)
    assert len(listed(response)) == 5
    assert f"Staff ({staff.username})" in response.content.decode()

    _fill(user, staff, 55)
    with django_assert_num_queries(4):
        response = client.get(LOG)
    assert len(listed(response)) == 50
    assert response.context["page"].paginator.count == 60
    with django_assert_num_queries(4):
        assert client.get(LOG, {"event": "key_revoked", "page": "2"}).status_code == 200


def test_key_lifecycle_events_appear_on_the_page(client, user):
    api_key = APIKeyFactory(owner=user, name="rotating")
    api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="now")
    sign_in(client, user)
    html = client.get(LOG).content.decode()
    for label in ("API key rotated", "API key retired", "API key created"):
        assert label in html
    assert f"{api_key.display_prefix}..." in html
    assert "replaced by" in html


def test_a_retirement_at_the_end_of_the_grace_period_appears_on_the_page(client, user):
    api_key = APIKeyFactory(owner=user, name="rotating")
    rotated_at = timezone.now() - timedelta(hours=2)
    created = api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="1h", now=rotated_at)
    assert api_key_retirements_log() == 1
    sign_in(client, user)

    response = client.get(LOG, {"event": "key_retired"})

    [entry] = response.context["events"]
    assert (entry.key_id, entry.actor) == (api_key.pk, SecurityActor.SYSTEM)
    assert entry.created_at == rotated_at + timedelta(hours=1)
    html = response.content.decode()
    assert f"{api_key.display_prefix}..." in html
    assert f"replaced by {created.api_key.display_prefix}..." in html


# --- The admin -----------------------------------------------------------------------------------

EVENTS = reverse("admin:accounts_securityevent_changelist")


def admin_listed(response) -> set[int]:
    return {entry.pk for entry in response.context["cl"].result_list}


def test_security_events_are_read_only_in_the_admin(staff_client, user):
    entry = record(user, SecurityEventType.KEY_REVOKED, key_prefix="2xt_Keep")
    response = staff_client.get(EVENTS)
    assert response.status_code == 200
    assert entry.pk in admin_listed(response)
    assert not response.context["has_add_permission"]
    assert not response.context["cl"].model_admin.has_delete_permission(response.wsgi_request)
    assert not response.context["cl"].model_admin.has_change_permission(response.wsgi_request)
    assert "action-checkbox" not in response.content.decode()  # no bulk delete either

    assert staff_client.get(reverse("admin:accounts_securityevent_add")).status_code == 403
    delete = reverse("admin:accounts_securityevent_delete", args=[entry.pk])
    assert staff_client.get(delete).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:accounts_securityevent_change", args=[entry.pk])
    detail = staff_client.get(change)
    assert detail.status_code == 200
    assert "2xt_Keep" in detail.content.decode()
    staff_client.post(change, {"key_prefix": "2xt_Edit", "event": "signed_in"})
    entry.refresh_from_db()
    assert (entry.key_prefix, entry.event) == ("2xt_Keep", "key_revoked")


def test_admin_search_by_key_prefix_and_address(staff_client, user, other_user):
    by_prefix = record(user, key_prefix="2xt_Find")
    by_ip = record(other_user, origin=Origin(ip="203.0.113.99"), key_prefix="2xt_Else")
    by_v6 = record(other_user, origin=Origin(ip="2001:db8::77"))
    assert admin_listed(staff_client.get(EVENTS, {"q": "2xt_Find"})) == {by_prefix.pk}
    assert admin_listed(staff_client.get(EVENTS, {"q": "203.0.113.99"})) == {by_ip.pk}
    assert admin_listed(staff_client.get(EVENTS, {"q": "2001:db8::77"})) == {by_v6.pk}
    assert admin_listed(staff_client.get(EVENTS, {"q": user.username})) == {by_prefix.pk}


def test_admin_filters_by_event_and_actor(staff_client, user):
    staff_entry = record(
        user,
        SecurityEventType.KEY_REVOKED,
        origin=Origin(actor=SecurityActor.STAFF, actor_user_id=staff_client.staff.pk),
    )
    record(user, SecurityEventType.KEY_CREATED)
    assert admin_listed(staff_client.get(EVENTS, {"actor": "staff"})) == {staff_entry.pk}
    assert admin_listed(staff_client.get(EVENTS, {"event": "key_revoked"})) == {staff_entry.pk}


def test_admin_bulk_revoke_is_logged_as_the_staff_user(staff_client, user):
    keys = APIKeyFactory.create_batch(2, owner=user)
    already = APIKeyFactory(owner=user, revoked=True)
    response = staff_client.post(
        reverse("admin:apikeys_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [k.pk for k in [*keys, already]]},
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 302
    logged = SecurityEvent.objects.filter(event="key_revoked")
    assert sorted(logged.values_list("key_id", flat=True)) == sorted(k.pk for k in keys)
    for entry in logged:
        assert entry.account == user
        assert entry.actor == SecurityActor.STAFF
        assert entry.actor_user == staff_client.staff
        assert entry.ip == "192.0.2.44" and entry.user_agent == BROWSER
        key = APIKey.objects.get(pk=entry.key_id)
        assert entry.key_prefix == key.display_prefix
        assert entry.created_at == key.revoked_at


def test_the_staff_revocation_shows_on_the_owners_page_with_the_staff_name(
    staff_client, client, user
):
    api_key = APIKeyFactory(owner=user)
    staff_client.post(
        reverse("admin:apikeys_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [api_key.pk]},
    )
    from django.test import Client

    owner = Client()
    sign_in(owner, user)
    html = owner.get(LOG, {"event": "key_revoked"}).content.decode()
    assert f"Staff ({staff_client.staff.username})" in html


def test_the_admin_key_page_shows_the_keys_own_log(staff_client, user):
    api_key = APIKeyFactory(owner=user)
    other_key = APIKeyFactory(owner=user)
    created = api_key_rotate(owner_id=user.pk, key_id=api_key.pk, grace="1h")
    record(user, SecurityEventType.SIGNED_IN, origin=Origin(ip="198.51.100.1"))
    record(
        user, SecurityEventType.KEY_REVOKED, key_id=other_key.pk, origin=Origin(ip="198.51.100.2")
    )

    response = staff_client.get(reverse("admin:apikeys_apikey_change", args=[api_key.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="key-security-log"' in html
    assert "API key rotated" in html
    assert f"replaced by {created.api_key.display_prefix}..." in html
    assert "198.51.100.1" not in html and "198.51.100.2" not in html  # other entries stay out
    assert api_key.digest not in html


def test_the_admin_key_page_without_log_entries_shows_a_dash(staff_client, user):
    api_key = APIKeyFactory(owner=user)
    html = staff_client.get(
        reverse("admin:apikeys_apikey_change", args=[api_key.pk])
    ).content.decode()
    assert 'data-testid="key-security-log"' not in html
