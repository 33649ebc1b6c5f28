"""AS7 and AS8: passwords never reach error reports; the dashboard is deny-by-default, never
cached once signed in, and served with a same-origin Content-Security-Policy."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
SECRET = "Hunter2-never-in-a-report"
DASHBOARD_NAMESPACES = {"apikeys", "proxies", "stats", "billing"}
# The pages a visitor must reach before signing in (AS8's explicit exceptions).
PUBLIC_PAGES = [
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_reset_password_done",
    "account_email_verification_sent",
]


def routes(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """(path, name, namespace, callback) for every route of the URLconf."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        path = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, path, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield path, pattern.name, namespace, pattern.callback


def test_every_dashboard_route_needs_a_signed_in_user():
    dashboard = [route for route in routes() if route[2] in DASHBOARD_NAMESPACES]
    assert len(dashboard) >= 10
    for _path, name, namespace, callback in dashboard:
        assert getattr(callback, "login_required", True), f"{namespace}:{name} is public"


def test_only_the_api_and_the_sign_in_pages_are_public():
    public = {
        (namespace, name)
        for path, name, namespace, callback in routes()
        if not getattr(callback, "login_required", True)
    }
    for namespace, name in public:
        assert namespace in ("", "admin") or namespace is None, (namespace, name)
    names = {name for _, name in public}
    assert set(PUBLIC_PAGES) <= names
    for private in ("account_change_password", "account_email", "mfa_index", "apikeys"):
        assert private not in names


@pytest.mark.parametrize("path", ["/", "/api-keys/", "/api-keys/new/", "/proxies/", "/billing/"])
def test_anonymous_dashboard_visits_go_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_sign_in_pages_open_without_an_account(client, name):
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize(
    "path", ["/api-keys/", "/proxies/", "/statistics/", "/billing/", "/accounts/email/"]
)
def test_signed_in_pages_are_never_cached(client, user, path):
    sign_in(client, user)
    response = client.get(path)
    assert response.status_code == 200
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private", "no-cache"} <= cache_control


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/api-keys/", "/v1/docs", "/admin/"]
)
def test_pages_carry_a_same_origin_csp(client, staff_client, path):
    response = staff_client.get(path)
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


@pytest.fixture
def error_reports(settings):
    """Server errors e-mailed to ADMINS by Django's own mail_admins handler, as an operator would
    get them (with the HTML report attached)."""
    settings.ADMINS = ["ops@example.com"]
    return lambda: [m for m in mail.outbox if "ops@example.com" in m.to]


def explode(*args, **kwargs):
    raise RuntimeError("forced failure")


@pytest.mark.parametrize(
    ("url_name", "patch", "signed_in", "fields"),
    [
        ("account_login", "pre_authenticate", False, {"login": "alice", "password": SECRET}),
        (
            "account_signup",
            "save_user",
            False,
            {
                "username": "newbie",
                "email": "newbie@example.com",
                "password1": SECRET,
                "password2": SECRET,
            },
        ),
        (
            "account_change_password",
            "set_password",
            True,
            {"oldpassword": DEFAULT_PASSWORD, "password1": SECRET, "password2": SECRET},
        ),
        ("account_reauthenticate", "reauthenticate", True, {"password": SECRET}),
    ],
)
def test_a_forced_error_report_never_contains_the_password(
    monkeypatch, error_reports, user, url_name, patch, signed_in, fields
):
    monkeypatch.setattr(f"accounts.adapter.AccountAdapter.{patch}", explode)
    client = Client(raise_request_exception=False)
    if signed_in:
        sign_in(client, user)

    response = client.post(reverse(url_name), fields)

    assert response.status_code == 500
    (report,) = error_reports()
    text = report.body + "".join(str(alternative[0]) for alternative in report.alternatives)
    assert "forced failure" in text  # it is the report of this error ...
    assert "********" in text  # ... with the POST shown, values masked
    assert SECRET not in text
