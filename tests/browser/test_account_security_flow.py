"""Accounts in a real browser (AS3-AS6, AS8): sign-up with e-mail verification, the per-account
lockout, TOTP and recovery codes, re-authentication before creating a key (with and without
JavaScript), staff enrolling a second factor before the admin, and no CSP violation on any page.

Time enters through seams, never sleep: TOTP codes are computed here (RFC 6238) against a frozen
clock that replaces allauth's, and "15 minutes later" is the session's authentication records
rewritten into the past.
"""

import base64
import hashlib
import hmac
import re
import struct
import time
from importlib import import_module

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp_auth
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import BrowserContext, Page, expect

from accounts.adapter import AccountAdapter
from apikeys.models import APIKey
from tests.browser.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 390, "height": 844}
LOCKOUT_MESSAGE = AccountAdapter.error_messages["too_many_login_attempts"]
TOTP_STEP = 30


class FrozenClock:
    """The clock allauth's TOTP check reads (`time.time()` in its module), standing still until
    advanced: a code computed here is checked against exactly the same 30-second step.  allauth's
    MFA_TOTP_TOLERANCE is 0 here, so against the real clock a code typed just before a step ends
    would be refused now and then; and a spent code is refused, so a second sign-in moves on a
    step (`advance(30)`) for a fresh code."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // TOTP_STEP * TOTP_STEP + 1)

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def totp_clock(monkeypatch) -> FrozenClock:
    clock = FrozenClock()
    # The live server runs in this process, so it sees the same module attribute.
    monkeypatch.setattr(totp_auth, "time", clock)
    return clock


def totp_code(secret: str, at: float) -> str:
    """RFC 6238: HMAC-SHA1 over the 30-second counter, dynamic truncation, 6 digits."""
    key = base64.b32decode(secret.upper(), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(at) // TOTP_STEP), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**6:06d}"


def wrong_code(code: str) -> str:
    """A well-formed code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def sign_out(page: Page) -> None:
    page.locator("details.account-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/api-keys/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/api-keys/$"))


def submit_login(page: Page, login: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(login)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def expect_dashboard(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("API Keys")


def enrol_totp(page: Page, clock: FrozenClock) -> tuple[str, list[str]]:
    """On the activation page: read the secret, type its current code, activate.  Returns the
    secret and the recovery codes shown right after."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.locator("#id_code").fill(wrong_code(totp_code(secret, clock.now)))
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".field-error")).to_contain_text("Incorrect code")  # a wrong code fails

    page.locator("#id_code").fill(totp_code(secret, clock.now))
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    assert all(re.fullmatch(r"\d{8}", code) for code in codes), codes
    return secret, codes


def enter_second_factor(page: Page, code: str) -> None:
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    page.locator("#id_code").fill(code)
    page.get_by_role("button", name="Sign In").click()


def age_last_authentication(context: BrowserContext, seconds: float = 3600) -> None:
    """Make this browser's sign-in `seconds` old: rewrite allauth's authentication records in the
    session behind its cookie."""
    session_key = next(
        cookie["value"]
        for cookie in context.cookies()
        if cookie["name"] == settings.SESSION_COOKIE_NAME
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    assert records, "no authentication recorded for this session"
    for record in records:
        record["at"] = time.time() - seconds
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()


def has_no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# --- 1. Sign-up, verification e-mail, sign-in -----------------------------------------------------


def test_sign_up_verify_by_email_link_then_sign_in_by_email(new_context, live_server, mailoutbox):
    page = new_context().new_page()
    page.goto("/accounts/signup/")
    page.locator("#id_username").fill("newcomer")
    page.locator("#id_email").fill("Newcomer@Example.com")
    page.locator("#id_password1").fill("a-long-unguessable-passphrase-71")
    page.locator("#id_password2").fill("a-long-unguessable-passphrase-71")
    page.get_by_role("button", name="Sign Up").click()

    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    user = get_user_model().objects.get(username="newcomer")
    assert not EmailAddress.objects.get(user=user).verified
    # Not signed in yet: the dashboard sends the visitor to the sign-in page.
    page.goto("/api-keys/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/api-keys/$"))

    # Before verifying, the right password from another browser still does not open the dashboard.
    other = new_context().new_page()
    submit_login(other, "newcomer", "a-long-unguessable-passphrase-71")
    expect(other.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    other.goto("/api-keys/")
    expect(other).to_have_url(re.compile(r"/accounts/login/"))

    sent = [message for message in mailoutbox if "newcomer@example.com" in message.to]
    assert sent, [message.to for message in mailoutbox]
    link = re.search(r"https?://\S+/accounts/confirm-email/[^/\s]+/", sent[0].body)
    assert link, sent[0].body
    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Email Address")
    expect(page.locator("main")).to_contain_text("newcomer@example.com")
    page.get_by_role("button", name="Confirm").click()

    expect_dashboard(page)  # ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION: signed in by confirming
    assert EmailAddress.objects.get(user=user).verified

    sign_out(page)
    submit_login(page, "newcomer@example.com", "a-long-unguessable-passphrase-71")
    expect_dashboard(page)
    expect(page.locator("details.account-menu summary")).to_have_text("newcomer")


# --- 2. Lockout -----------------------------------------------------------------------------------


def test_five_failures_lock_the_account_but_not_another_one(page, live_server):
    victim = UserFactory()
    bystander = UserFactory()

    for attempt in range(5):
        submit_login(page, victim.username if attempt % 2 else victim.email, f"wrong-{attempt}")
        expect(page).to_have_url(re.compile(r"/accounts/login/$"))
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("not correct")
        expect(alert).not_to_contain_text("Too many")

    # The right password is refused now, by username and by e-mail alike.
    submit_login(page, victim.username)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("alert")).to_have_text(LOCKOUT_MESSAGE)
    submit_login(page, victim.email.upper())
    expect(page.get_by_role("alert")).to_have_text(LOCKOUT_MESSAGE)
    page.goto("/api-keys/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))

    # Another account signs in from the same browser (same client address) without trouble.
    log_in(page, bystander)
    expect(page.locator("details.account-menu summary")).to_have_text(bystander.username)


# --- 3. TOTP enrolment and sign-in with a code ---------------------------------------------------


def test_enrol_totp_then_sign_in_with_a_code(page, live_server, browser_user, totp_clock):
    log_in(page, browser_user)
    page.locator("details.account-menu summary").click()
    page.get_by_role("link", name="Two-factor authentication").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    expect(page.locator("main")).to_contain_text("An authenticator app is not active.")
    page.get_by_role("link", name="Activate").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))

    secret, _codes = enrol_totp(page, totp_clock)
    assert Authenticator.objects.filter(user=browser_user, type=Authenticator.Type.TOTP).exists()
    page.goto("/accounts/2fa/")
    expect(page.locator("main")).to_contain_text(
        "Authentication using an authenticator app is active."
    )
    expect(page.locator("main")).to_contain_text("There are 10 out of 10 recovery codes available.")

    sign_out(page)
    totp_clock.advance(TOTP_STEP)  # the next code; the one used to activate is spent
    submit_login(page, browser_user.username)
    # The password alone is not enough: the code step comes first, the dashboard stays shut.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.goto("/api-keys/")  # the sign-in resumes at its pending step
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))

    enter_second_factor(page, wrong_code(totp_code(secret, totp_clock.now)))
    expect(page.locator(".field-error")).to_contain_text("Incorrect code.")
    enter_second_factor(page, totp_code(secret, totp_clock.now))
    expect_dashboard(page)


# --- 4. Recovery code -----------------------------------------------------------------------------


def test_recovery_code_signs_in_once(page, live_server, browser_user, totp_clock):
    log_in(page, browser_user)
    page.goto("/accounts/2fa/totp/activate/")
    _secret, codes = enrol_totp(page, totp_clock)
    page.goto("/accounts/2fa/recovery-codes/")
    code = page.locator("#recovery_codes").input_value().split()[0]
    assert code == codes[0]
    sign_out(page)

    submit_login(page, browser_user.username)
    enter_second_factor(page, code)
    expect_dashboard(page)
    page.goto("/accounts/2fa/")
    expect(page.locator("main")).to_contain_text("There are 9 out of 10 recovery codes available.")
    sign_out(page)

    submit_login(page, browser_user.username)
    enter_second_factor(page, code)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    expect(page.locator(".field-error")).to_contain_text("Incorrect code.")
    page.goto("/api-keys/")  # still only half signed in
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))

    # Another unused code still works: only the spent one is refused.
    enter_second_factor(page, codes[1])
    expect_dashboard(page)


# --- 5. Re-authentication before creating a key --------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_stale_sign_in_reauthenticates_and_keeps_the_typed_key_form(
    new_context, live_server, browser_user, javascript
):
    page = new_context(java_script_enabled=javascript).new_page()
    log_in(page, browser_user)
    if javascript:
        page.get_by_role("link", name="Create API Key").click()
        form = page.locator("#create-dialog")
        expect(form).to_be_visible()
        expect(page).to_have_url(re.compile(r"/api-keys/$"))
    else:
        page.get_by_role("link", name="Create API Key").click()
        expect(page).to_have_url(re.compile(r"/api-keys/new/$"))
        form = page.locator("main form")

    # The form stays open for over 15 minutes before it is sent.
    age_last_authentication(page.context)
    form.get_by_label("Name").fill("Nightly export")
    form.locator("input[name='scopes'][value='geo:read']").check()
    form.get_by_label("Expiration").select_option(label="30 days")
    form.get_by_role("button", name="Create API Key").click()

    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next=%2Fapi-keys%2Fnew%2F$"))
    assert not APIKey.objects.exists()
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(re.compile(r"/api-keys/new/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create API Key")
    expect(page.locator("#id_name")).to_have_value("Nightly export")
    expect(page.locator("input[name='scopes'][value='geo:read']")).to_be_checked()
    expect(page.locator("input[name='scopes']:checked")).to_have_count(1)
    expect(page.locator("#id_expiration option:checked")).to_have_text("30 days")
    assert not APIKey.objects.exists()

    page.get_by_role("button", name="Create API Key").click()
    new_key = page.locator("#new-key-dialog")
    expect(new_key.get_by_role("heading")).to_have_text("Your New API Key")
    key = page.locator("#new-key-value").input_value()
    assert key.startswith("2xt_")
    stored = APIKey.objects.get(owner=browser_user)
    assert stored.name == "Nightly export"
    assert stored.scope_list == ["geo:read"]
    assert stored.expiration == "30d"
    assert key.startswith(stored.display_prefix)


# --- 6. Staff enrol a second factor before the admin ---------------------------------------------


def test_staff_without_second_factor_enrol_before_the_admin(page, live_server, totp_clock):
    staff = UserFactory(is_staff=True, is_superuser=True)

    # Signed out, the admin sends visitors to the dashboard's sign-in, never its own form.
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/admin/"))
    expect(page.locator("#id_login")).to_be_visible()
    expect(page.locator("input[name='username']")).to_have_count(0)
    expect(page.get_by_text("Django administration")).to_have_count(0)

    log_in(page, staff)
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Staff accounts need two-factor authentication before the admin opens."
    )
    page.goto("/admin/auth/group/")  # no side door into an admin page either
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))

    enrol_totp(page, totp_clock)
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_have_text("Django administration")
    expect(page.get_by_text("Staff accounts need two-factor")).to_have_count(0)


# --- 7. No CSP violation, status 200, phone width ------------------------------------------------

SIGNED_IN_PAGES = [
    "/api-keys/",
    "/api-keys/new/",
    "/proxies/",
    "/statistics/",
    "/billing/",
    "/accounts/password/change/",
    "/accounts/email/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
]
SIGNED_OUT_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


def assert_page_opens(page: Page, path: str) -> None:
    """`path` answers 200, stays put, shows its heading and fits the screen's width."""
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("h1").first).to_be_visible()
    assert has_no_horizontal_overflow(page), path


def test_no_csp_violation_on_any_page(new_context, live_server, browser_user):
    """The `new_context` fixture fails the test on any CSP violation reported on the console.
    Every page answers 200 and fits a 390 px wide phone screen without sideways scrolling."""
    page = new_context(viewport=PHONE).new_page()
    log_in(page, browser_user)
    for path in SIGNED_IN_PAGES:
        assert_page_opens(page, path)

    response = page.goto("/v1/docs")
    assert response is not None and response.status == 200
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    assert page.locator("#swagger-ui .opblock").count() > 5

    signed_out = new_context(viewport=PHONE).new_page()
    for path in SIGNED_OUT_PAGES:
        assert_page_opens(signed_out, path)
