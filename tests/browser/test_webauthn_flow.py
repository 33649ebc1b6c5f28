"""WebAuthn security keys (AS4) in a real browser: Chromium's virtual authenticator (DevTools
protocol, no hardware and no download) stands in for the key.

Enrolment from the Two-factor page, then a sign-in that finishes with the key instead of a
TOTP code; a security key also counts as the second factor the admin asks staff for.
"""

import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def virtual_authenticator(page: Page) -> None:
    """A platform authenticator that verifies the user and answers at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def enrol_security_key(page: Page, name: str = "My key") -> None:
    page.goto("/accounts/2fa/webauthn/add/")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Add").click()
    expect(page).not_to_have_url(re.compile(r"/webauthn/add/$"))


def test_enrol_a_security_key_then_sign_in_with_it(context):
    user = UserFactory(is_staff=True, is_superuser=True)
    page = context.new_page()
    virtual_authenticator(page)
    log_in(page, user)

    enrol_security_key(page)

    key = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "My key"
    # A security key is a second factor: the admin opens for this staff account.
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    page.goto("/api-keys/")
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.locator("#id_login").fill(user.username)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.goto("/api-keys/")  # the password alone does not sign in
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))

    page.get_by_role("button", name="Use a security key").click()
    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("API Keys")
