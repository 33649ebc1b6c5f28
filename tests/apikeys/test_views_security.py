"""Key creation and revocation behind re-authentication (AS5) and a verified address (AS6), and
the e-mail to the owner when a key is created (K29)."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from apikeys.models import APIKey
from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD, APIKeyFactory, UserFactory

pytestmark = pytest.mark.django_db
CREATE = reverse("apikeys:create")
FORM = {"name": "Nightly export", "scopes": ["stats:read", "geo:read"], "expiration": "30d"}
STALE = 16 * 60  # seconds since the last authentication: past the 15-minute window


def test_create_after_a_stale_sign_in_asks_for_the_password_then_shows_the_typed_form(client):
    user = UserFactory()
    sign_in(client, user, authenticated_ago=STALE)

    response = client.post(CREATE, FORM)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_reauthenticate')}?next=%2Fapi-keys%2Fnew%2F"
    assert not APIKey.objects.exists()

    response = client.post(response["Location"], {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == CREATE

    form_page = client.get(CREATE)
    html = form_page.content.decode()
    assert 'value="Nightly export"' in html
    assert 'value="stats:read" checked' in html and 'value="geo:read" checked' in html
    assert '<option value="30d" selected>' in html
    # The draft is shown once; a later visit starts afresh.
    assert 'value="Nightly export"' not in client.get(CREATE).content.decode()

    created = client.post(CREATE, FORM)
    assert created.status_code == 200
    assert created.context["created_key"].startswith("2xt_")
    assert APIKey.objects.get().scopes == "geo:read stats:read"


def test_a_wrong_password_at_re_authentication_creates_nothing(client):
    sign_in(client, UserFactory(), authenticated_ago=STALE)
    client.post(CREATE, FORM)
    response = client.post(reverse("account_reauthenticate"), {"password": "wrong"})
    assert response.status_code == 200
    assert client.get(CREATE).status_code == 302
    assert not APIKey.objects.exists()


def test_the_create_page_itself_asks_first_when_the_sign_in_is_stale(client):
    sign_in(client, UserFactory(), authenticated_ago=STALE)
    response = client.get(CREATE)
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_fresh_sign_in_creates_without_asking_again(client):
    sign_in(client, UserFactory(), authenticated_ago=14 * 60)
    assert client.post(CREATE, FORM).status_code == 200
    assert APIKey.objects.count() == 1


def test_a_huge_or_odd_draft_is_bounded_and_harmless(client):
    sign_in(client, UserFactory(), authenticated_ago=STALE)
    client.post(
        CREATE,
        {"name": "n" * 10_000, "scopes": ["x" * 500] * 100, "expiration": "e" * 500},
    )
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    page = client.get(CREATE)
    assert page.status_code == 200
    assert "n" * 101 not in page.content.decode()


def test_revoke_after_a_stale_sign_in_is_carried_out_after_the_password(client):
    user = UserFactory()
    key = APIKeyFactory(owner=user)
    sign_in(client, user, authenticated_ago=STALE)
    revoke = reverse("apikeys:revoke", args=[key.pk])

    assert client.get(revoke).status_code == 200  # the confirmation page needs no password
    response = client.post(revoke)
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    key.refresh_from_db()
    assert key.revoked_at is None

    response = client.post(response["Location"], {"password": DEFAULT_PASSWORD})
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert response.status_code == 302 and response["Location"] == reverse("apikeys:list")


def test_an_unverified_address_cannot_create_keys(client):
    user = UserFactory(unverified=True)
    sign_in(client, user)
    response = client.post(CREATE, FORM)
    assert response.status_code == 200
    assert "verify" in response.content.decode().lower()
    assert not APIKey.objects.exists()
    # The page re-sent the verification link.
    assert any("confirm-email" in message.body for message in mail.outbox)

    EmailAddress.objects.filter(user=user).update(verified=True)
    assert client.post(CREATE, FORM).status_code == 200
    assert APIKey.objects.count() == 1


def test_the_owner_is_emailed_about_a_new_key_without_the_key(client):
    user = UserFactory(email="owner@example.com")
    sign_in(client, user)
    response = client.post(CREATE, FORM, REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="curl/8")
    key = response.context["created_key"]

    (message,) = mail.outbox
    assert message.to == ["owner@example.com"]
    assert "Nightly export" in message.subject
    body = message.body
    assert "Nightly export" in body
    assert "geo:read, stats:read" in body
    assert "203.0.113.77" in body and "curl/8" in body
    api_key = APIKey.objects.get()
    assert api_key.display_prefix in body
    assert api_key.expires_at.strftime("%Y-%m-%d") in body
    assert key not in body and key[len(api_key.display_prefix) :] not in body
    # K29: an HTML body too, from its own template, with the same facts and no key either.
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert "Nightly export" in html and api_key.display_prefix in html and "203.0.113.77" in html
    assert key[len(api_key.display_prefix) :] not in html


def test_a_mail_failure_does_not_lose_the_shown_once_key(client, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.message.EmailMessage.send", refuse)
    sign_in(client, UserFactory())
    response = client.post(CREATE, FORM)
    assert response.status_code == 200
    key = response.context["created_key"]
    assert key.startswith("2xt_")
    assert "Could not send the api_key_created e-mail" in caplog.text
    assert key not in caplog.text
