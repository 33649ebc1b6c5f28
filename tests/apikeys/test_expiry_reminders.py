"""send_key_expiry_reminders (K26): one e-mail per key about to expire, claimed in the database."""

import io
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.utils import timezone

from apikeys.models import APIKey
from apikeys.selectors import api_keys_expiring
from apikeys.services import (
    api_key_expiry_reminder_claim,
    api_key_expiry_reminder_release,
    api_key_rotate,
)
from tests.factories import APIKeyFactory, UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "https://dashboard.example"


@pytest.fixture(autouse=True)
def _dashboard_url(settings):
    settings.DASHBOARD_URL = DASHBOARD


def remind(*args) -> str:
    out = io.StringIO()
    call_command("send_key_expiry_reminders", *args, stdout=out)
    return out.getvalue()


def expiring_in(owner, delta: timedelta, **fields) -> APIKey:
    now = timezone.now()
    return APIKeyFactory(
        owner=owner, created_at=now - timedelta(days=80), expires_at=now + delta, **fields
    )


def html_of(message) -> str:
    (alternative,) = message.alternatives
    content, mimetype = alternative
    assert mimetype == "text/html"
    return content


def test_mails_the_owner_about_a_key_expiring_within_a_week(user, mailoutbox):
    api_key = expiring_in(user, timedelta(days=3), name="Nightly export")

    output = remind()

    assert "Sent 1 expiry reminder(s); 0 could not be sent." in output
    (message,) = mailoutbox
    assert message.to == [user.email]
    assert "Nightly export" in message.subject
    assert api_key.expires_at.strftime("%Y-%m-%d") in message.subject
    rotate_link = f"{DASHBOARD}/api-keys/{api_key.pk}/rotate/"
    html = html_of(message)
    for body in (message.body, html):
        assert "Nightly export" in body
        assert f"{api_key.display_prefix}..." in body
        assert rotate_link in body
        assert api_key.key not in body
        assert api_key.digest not in body
    assert api_key.key not in message.subject
    api_key.refresh_from_db()
    assert api_key.expiry_reminder_sent_at is not None


def test_each_key_is_reminded_once(user, mailoutbox):
    expiring_in(user, timedelta(days=2))
    remind()
    assert len(mailoutbox) == 1
    output = remind()
    assert "Sent 0 expiry reminder(s)" in output
    assert len(mailoutbox) == 1


def test_one_mail_per_key_to_each_owner(user, other_user, mailoutbox):
    mine = [expiring_in(user, timedelta(days=d), name=f"mine {d}") for d in (1, 6)]
    theirs = expiring_in(other_user, timedelta(hours=5), name="theirs")

    assert "Sent 3 expiry reminder(s)" in remind()

    by_key = {}
    for message in mailoutbox:
        (recipient,) = message.to
        name = next(k.name for k in [*mine, theirs] if k.name in message.subject)
        by_key[name] = recipient
    assert by_key == {"mine 1": user.email, "mine 6": user.email, "theirs": other_user.email}


def test_keys_that_need_no_reminder_get_none(user, mailoutbox):
    expiring_in(user, timedelta(days=8), name="later")
    expiring_in(user, timedelta(days=-1), name="already expired")
    expiring_in(user, timedelta(days=2), name="revoked", revoked=True)
    APIKeyFactory(owner=user, name="never", expires_at=None, expiration="never")
    retiring = expiring_in(user, timedelta(days=2), name="retiring")
    # Its replacement (expiring in 90 days) is not due either.
    api_key_rotate(owner_id=user.pk, key_id=retiring.pk, grace="24h")
    already = expiring_in(user, timedelta(days=2), name="reminded")
    APIKey.objects.filter(pk=already.pk).update(expiry_reminder_sent_at=timezone.now())

    assert "Sent 0 expiry reminder(s)" in remind()
    assert mailoutbox == []
    assert (
        not APIKey.objects.filter(expiry_reminder_sent_at__isnull=False)
        .exclude(pk=already.pk)
        .exists()
    )


def test_within_widens_the_window(user, mailoutbox):
    expiring_in(user, timedelta(days=20), name="in twenty days")
    expiring_in(user, timedelta(days=40), name="in forty days")
    remind()
    assert mailoutbox == []
    remind("--within", "30")
    (message,) = mailoutbox
    assert "in twenty days" in message.subject


def test_the_default_window_is_seven_days(user, mailoutbox):
    expiring_in(user, timedelta(days=6, hours=23), name="just inside")
    expiring_in(user, timedelta(days=7, hours=1), name="just outside")
    remind()
    (message,) = mailoutbox
    assert "just inside" in message.subject


@pytest.mark.parametrize(
    ("within", "message"),
    [
        ("0", "between 1 and 366"),
        ("-3", "between 1 and 366"),
        ("1000", "between 1 and 366"),
        ("abc", "whole number of days"),
        ("1.5", "whole number of days"),
        ("", "whole number of days"),
    ],
)
def test_a_bad_window_is_refused(user, within, message, mailoutbox):
    api_key = expiring_in(user, timedelta(days=1))
    with pytest.raises(CommandError, match=message):
        remind("--within", within)
    assert mailoutbox == []
    api_key.refresh_from_db()
    assert api_key.expiry_reminder_sent_at is None


def test_a_mail_failure_releases_the_claim_for_the_next_run(user, mailoutbox, monkeypatch):
    api_key = expiring_in(user, timedelta(days=2))

    def refuse(self, fail_silently=False):
        raise OSError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", refuse)
        with pytest.raises(CommandError, match="1 reminder"):
            remind()

    api_key.refresh_from_db()
    assert api_key.expiry_reminder_sent_at is None
    assert mailoutbox == []

    assert "Sent 1 expiry reminder(s)" in remind()
    assert len(mailoutbox) == 1
    api_key.refresh_from_db()
    assert api_key.expiry_reminder_sent_at is not None


def test_one_failed_mail_does_not_stop_the_others(user, other_user, mailoutbox, monkeypatch):
    failing = expiring_in(user, timedelta(days=1), name="failing")
    fine = expiring_in(other_user, timedelta(days=2), name="fine")
    original = EmailMultiAlternatives.send

    def send(self, fail_silently=False):
        if "failing" in self.subject:
            raise OSError("mailbox unavailable")
        return original(self, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    with pytest.raises(CommandError, match="next run retries"):
        remind()
    assert [m.to for m in mailoutbox] == [[other_user.email]]
    failing.refresh_from_db()
    fine.refresh_from_db()
    assert failing.expiry_reminder_sent_at is None
    assert fine.expiry_reminder_sent_at is not None


def test_an_owner_without_an_address_is_skipped(mailoutbox):
    owner = UserFactory(email="")
    api_key = expiring_in(owner, timedelta(days=1))
    assert "Sent 0 expiry reminder(s)" in remind()
    assert mailoutbox == []
    api_key.refresh_from_db()
    assert api_key.expiry_reminder_sent_at is None


def test_a_claim_is_taken_once_and_released_only_by_its_taker(user):
    api_key = expiring_in(user, timedelta(days=1))
    now = timezone.now()
    assert api_key_expiry_reminder_claim(api_key=api_key, now=now)
    assert not api_key_expiry_reminder_claim(api_key=api_key, now=now + timedelta(seconds=1))
    assert list(api_keys_expiring(within=timedelta(days=7), now=now)) == []
    # A release naming another run's claim leaves it alone.
    api_key_expiry_reminder_release(api_key=api_key, claimed_at=now + timedelta(seconds=1))
    api_key.refresh_from_db()
    assert api_key.expiry_reminder_sent_at == now
    api_key_expiry_reminder_release(api_key=api_key, claimed_at=now)
    assert list(api_keys_expiring(within=timedelta(days=7), now=now)) == [api_key]


def test_the_query_count_does_not_grow_with_the_owners(django_assert_max_num_queries, mailoutbox):
    for _ in range(5):
        expiring_in(UserFactory(), timedelta(days=1))
    # One SELECT (owners joined), then one claim per key.
    with django_assert_max_num_queries(1 + 5):
        remind()
    assert len(mailoutbox) == 5


def test_a_key_name_with_markup_is_escaped_in_the_html_body(user, mailoutbox):
    expiring_in(user, timedelta(days=1), name='<img src=x onerror="alert(1)">')
    remind()
    (message,) = mailoutbox
    html = html_of(message)
    assert "<img" not in html
    assert "&lt;img src=x" in html
    assert '<img src=x onerror="alert(1)">' in message.body  # plain text is not HTML
