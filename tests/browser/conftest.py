"""Fixtures for the browser tests: one headless Chromium per session, a fresh context per test."""

import os

# Playwright's sync API drives the browser from an asyncio event loop on the test thread, so Django
# sees a running loop there and refuses ORM calls with SynchronousOnlyOperation. The calls are
# ordinary blocking ones made between browser steps, never from inside a coroutine, so the check
# does not protect anything here. Django reads this variable on every guarded call, not at import;
# it is process-wide, so other tests collected into the same run lose the check as well.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.factories import DEFAULT_PASSWORD, UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Fail fast: the live server answers in milliseconds, a 30 s default only slows down a red run.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser: Browser, live_server) -> Iterator[Callable[..., BrowserContext]]:
    """new_context(**options) -> a context rooted at the live server; all closed after the test.

    Every page of every context is watched for Content-Security-Policy violations (AS8): Chromium
    reports each refused script, style or image on the console, and any one fails the test.
    """
    contexts: list[BrowserContext] = []
    violations: list[str] = []

    def watch(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def make(**options) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not violations, "CSP violations:\n" + "\n".join(violations)


@pytest.fixture
def context(new_context) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def log_in(page: Page, user, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the real form at /accounts/login/ and land on the API Keys page."""
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(user.username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/api-keys/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("API Keys")


@pytest.fixture
def browser_user(transactional_db):
    """An account with the factory password, for logging in through the real form."""
    return UserFactory()


def create_key_through_dialog(
    page: Page, name: str, scopes: list[str], *, allowed_ips: str = ""
) -> str:
    """Create a key with the dashboard's dialog (allowlist too, when given), read its full value
    once, close the dialog; return the key."""
    page.goto("/api-keys/")
    page.get_by_role("link", name="Create API Key").click()
    dialog = page.locator("#create-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    for scope in scopes:
        dialog.locator(f"input[name='scopes'][value='{scope}']").check()
    if allowed_ips:
        dialog.locator("textarea[name='allowed_ips']").fill(allowed_ips)
    dialog.get_by_role("button", name="Create API Key").click()
    new_key_dialog = page.locator("#new-key-dialog")
    expect(new_key_dialog).to_be_visible()
    key = page.locator("input[data-testid=new-key]").input_value()
    assert key.startswith("2xt_")
    new_key_dialog.get_by_role("link", name="Done").click()
    expect(page.locator("#new-key-dialog")).to_have_count(0)
    return key
