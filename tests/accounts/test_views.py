"""Sign-up, e-mail verification, sign-in by username or e-mail, sign-out, password change and
reset: allauth's views in the dashboard's layout (AS1, AS2, AS6)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent
from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
SIGNUP = {
    "username": "newbie",
    "email": "newbie@example.com",
    "password1": "s3cure-enough-pass",
    "password2": "s3cure-enough-pass",
}


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_sign_in_and_sign_up_pages_keep_their_paths_and_the_dashboard_look(client):
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 200, path
        assert "css/app.css" in html and 'class="card"' in html, path
        assert 'name="viewport"' in html


def test_signup_sends_a_verification_link_and_signs_in_only_after_it(client):
    response = client.post(reverse("account_signup"), SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = get_user_model().objects.get(username="newbie")
    assert user.check_password("s3cure-enough-pass")
    assert not EmailAddress.objects.get(user=user).verified
    # Not signed in yet: the dashboard still sends this browser to the sign-in page.
    assert client.get(reverse("apikeys:list")).status_code == 302
    (message,) = mail.outbox
    assert message.to == ["newbie@example.com"]

    confirm = link_in(message)
    assert client.get(confirm).status_code == 200  # a page with a button, not a GET side effect
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(confirm)

    assert EmailAddress.objects.get(user=user).verified
    assert response.status_code == 302
    assert client.get(reverse("apikeys:list")).status_code == 200


def test_an_unverified_account_cannot_sign_in_until_it_verifies(client):
    UserFactory(username="pending", unverified=True)
    response = client.post(
        reverse("account_login"), {"login": "pending", "password": DEFAULT_PASSWORD}
    )

    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert "confirm-email" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email"}, "valid email"),
        ({"password2": "different"}, "same password"),
        ({"password1": "123", "password2": "123"}, "too short"),
        ({"username": "new@bie"}, "no @"),
        ({"username": "TAKEN"}, "already"),
        ({"username": ""}, "required"),
        ({"username": "x" * 151}, "at most 150"),
        ({"email": "a" * 250 + "@example.com"}, "at most 254"),
    ],
)
def test_signup_rejects_bad_input_with_a_message_and_creates_nothing(client, data, message):
    UserFactory(username="taken", email="someone@example.com")
    response = client.post(reverse("account_signup"), SIGNUP | data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert get_user_model().objects.count() == 1
    assert not mail.outbox


def test_signup_with_a_taken_email_reveals_nothing_and_tells_the_owner(client):
    """PREVENT_ENUMERATION: same answer as a fresh sign-up; the existing owner gets a notice."""
    owner = UserFactory(username="owner", email="Taken@Example.com")
    response = client.post(reverse("account_signup"), SIGNUP | {"email": "taken@example.COM"})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert list(get_user_model().objects.all()) == [owner]
    (message,) = mail.outbox
    assert message.to == ["taken@example.com"]
    assert "already" in message.body


@pytest.mark.parametrize("identifier", ["alice", "ALICE", "alice@example.com", "ALICE@EXAMPLE.COM"])
def test_sign_in_with_username_or_email(client, identifier):
    UserFactory(username="alice", email="alice@example.com")
    response = client.post(
        reverse("account_login"), {"login": identifier, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("apikeys:list")


def test_sign_in_with_wrong_password_fails_with_a_message(client):
    UserFactory(username="alice")
    response = client.post(reverse("account_login"), {"login": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_sign_in(client):
    UserFactory(username="alice", is_active=False)
    client.post(reverse("account_login"), {"login": "alice", "password": DEFAULT_PASSWORD})
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post(client, user):
    sign_in(client, user)
    client.get(reverse("account_logout"))
    assert client.get(reverse("apikeys:list")).status_code == 200
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("apikeys:list")).status_code == 302


def test_password_change_is_emailed_to_the_owner(client, user):
    sign_in(client, user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "brand-new-pass-42",
            "password2": "brand-new-pass-42",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-42")
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert "password has been changed" in message.body.lower()
    assert "brand-new-pass-42" not in message.body


def test_password_change_with_a_wrong_current_password_changes_nothing(client, user):
    sign_in(client, user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "nope", "password1": "brand-new-pass-42", "password2": "brand-new-pass-42"},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_reset_by_email_link_then_notice(client):
    user = UserFactory(username="forgetful", email="forgetful@example.com")
    response = client.post(reverse("account_reset_password"), {"email": "FORGETFUL@example.com"})
    assert response.status_code == 302
    (message,) = mail.outbox
    reset = client.get(link_in(message))
    assert reset.status_code == 302  # allauth moves the token out of the URL into the session
    form_url = reset["Location"]
    response = client.post(
        form_url, {"password1": "reset-pass-9876", "password2": "reset-pass-9876"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("reset-pass-9876")
    assert "reset" in mail.outbox[-1].body.lower() or "changed" in mail.outbox[-1].body.lower()


def test_password_reset_for_an_unknown_address_looks_the_same(client):
    known = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert known.status_code == 302
    assert known["Location"] == reverse("account_reset_password_done")


def test_email_change_is_verified_first_then_the_old_address_is_told(client):
    user = UserFactory(username="mover", email="old@example.com")
    sign_in(client, user)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "new@example.com"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "old@example.com"  # nothing changes before the new address is proven
    (verification,) = mail.outbox
    assert verification.to == ["new@example.com"]

    client.post(link_in(verification))

    user.refresh_from_db()
    assert user.email == "new@example.com"
    notices = [m for m in mail.outbox if m.to == ["old@example.com"]]
    assert notices and "changed" in notices[0].body.lower()
    assert "new@example.com" in notices[0].body
    # K27: the change is in the security log with both addresses.
    (logged,) = SecurityEvent.objects.filter(account=user, event="email_changed")
    assert (logged.details["old"], logged.details["new"]) == ("old@example.com", "new@example.com")


def test_another_accounts_address_can_never_be_taken_over(client):
    """Adding it is answered as any address would be (no enumeration); even its verification link,
    followed, cannot move it to a second account: the owner keeps it, nothing breaks."""
    owner = UserFactory(email="taken@example.com")
    user = UserFactory(email="mine@example.com")
    sign_in(client, user)
    client.post(reverse("account_email"), {"action_add": "", "email": "TAKEN@example.com"})
    assert [message.to for message in mail.outbox] == [["taken@example.com"]]
    for message in mail.outbox:
        response = Client(raise_request_exception=False).post(link_in(message))
        assert response.status_code < 500
        client.post(link_in(message))
    user.refresh_from_db()
    owner.refresh_from_db()
    assert user.email == "mine@example.com"
    assert owner.email == "taken@example.com"
    assert not EmailAddress.objects.filter(
        user=user, email__iexact="taken@example.com", verified=True
    ).exists()
