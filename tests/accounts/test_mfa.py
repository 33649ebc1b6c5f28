"""AS4: TOTP with recovery codes through allauth's views; AS5 re-authentication before changes.

Codes are computed here from the secret (RFC 6238), not with allauth's own generator, at a
clock frozen mid-step for both sides, so a code is never checked one 30-second step too late.
"""

import base64
import hashlib
import hmac
import struct
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp_auth
from django.core import mail
from django.urls import reverse

from accounts.models import SecurityEvent
from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
NOW = (time.time() // 30) * 30 + 15  # the middle of the current 30-second step


@pytest.fixture(autouse=True)
def frozen_totp_clock(monkeypatch):
    """allauth's TOTP check reads `time.time()` in its module; hold it at NOW."""

    class Clock:
        @staticmethod
        def time() -> float:
            return NOW

    monkeypatch.setattr(totp_auth, "time", Clock)


def totp(secret: str, *, at: float = NOW) -> str:
    counter = int(at // 30)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def password_step(client, user):
    return client.post(
        reverse("account_login"), {"login": user.username, "password": DEFAULT_PASSWORD}
    )


def test_sign_in_with_totp_needs_the_code(client):
    user = UserFactory(totp=True)
    response = password_step(client, user)
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": totp(user.totp_secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    # K27: the wrong second factor is a failed sign-in on the account; the right one signs in.
    events = list(SecurityEvent.objects.filter(account=user).values_list("event", flat=True))
    assert sorted(events) == ["sign_in_failed", "signed_in"]


@pytest.mark.parametrize(("steps", "accepted"), [(-1, True), (1, True), (-2, False), (2, False)])
def test_a_code_one_step_off_is_accepted_two_steps_off_is_not(client, steps, accepted):
    # Clock drift on the phone, or a code typed as it rolled over: one 30-second step either side.
    user = UserFactory(totp=True)
    password_step(client, user)

    code = totp(user.totp_secret, at=NOW + 30 * steps)
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert (client.session.get("_auth_user_id") == str(user.pk)) is accepted
    assert response.status_code == (302 if accepted else 200)


def test_a_used_code_cannot_be_replayed_within_its_window(client):
    user = UserFactory(totp=True)
    code = totp(user.totp_secret, at=NOW - 30)
    password_step(client, user)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    client.logout()

    password_step(client, user)
    replay = client.post(reverse("mfa_authenticate"), {"code": code})

    assert replay.status_code == 200 and "Incorrect code" in replay.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "code", ["", "12345", "abcdef", "1" * 1000, "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_malformed_codes_are_refused_without_a_500(client, code):
    user = UserFactory(totp=True)
    password_step(client, user)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)  # the notice is sent on commit, inside the request
def test_enrolment_removal_and_notices(client):
    user = UserFactory()
    sign_in(client, user)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert 'src="data:image/svg+xml' in page.content.decode()  # QR code, allowed by the CSP

    response = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type="recovery_codes").exists()
    assert any("authenticator app" in m.body.lower() for m in mail.outbox)

    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert any("deactivated" in m.body.lower() for m in mail.outbox)
    # K27: both changes are in the security log, with the method (allauth adds and removes the
    # recovery codes along with the first and last authenticator).
    logged = SecurityEvent.objects.filter(account=user, event__startswith="mfa_")
    assert sorted((e.event, e.details.get("method")) for e in logged) == [
        ("mfa_added", "recovery_codes"),
        ("mfa_added", "totp"),
        ("mfa_removed", "recovery_codes"),
        ("mfa_removed", "totp"),
    ]


def test_a_wrong_enrolment_code_enrols_nothing(client, user):
    sign_in(client, user)
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "123456"})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=user).exists()


def test_a_recovery_code_signs_in_once(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = UserFactory(totp=True)
    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    password_step(client, user)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)

    client.post(reverse("account_logout"))
    password_step(client, user)
    again = client.post(reverse("mfa_authenticate"), {"code": code})
    assert again.status_code == 200
    assert "_auth_user_id" not in client.session


def test_two_factor_changes_ask_again_after_fifteen_minutes(client):
    user = UserFactory(totp=True)
    sign_in(client, user, authenticated_ago=16 * 60)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_two_factor_changes_right_after_sign_in_need_no_second_password(client):
    user = UserFactory(totp=True)
    sign_in(client, user, authenticated_ago=60)
    assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_re_authentication_takes_the_password_or_a_second_factor_not_an_emailed_code(client):
    user = UserFactory(totp=True)
    sign_in(client, user, authenticated_ago=16 * 60)
    page = client.get(reverse("account_reauthenticate")).content.decode()
    assert reverse("mfa_reauthenticate") in page
    assert "sign-in code" not in page
    assert client.post(reverse("account_request_reauthentication_code")).status_code in (403, 404)

    response = client.post(reverse("mfa_reauthenticate"), {"code": totp(user.totp_secret)})
    assert response.status_code == 302
    assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
