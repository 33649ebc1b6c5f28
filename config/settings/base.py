"""Settings shared by every environment.  The environment is read here and nowhere else.

Variables: DATABASE_URL (SQLite file by default), REDIS_URL (cache and rate limits; local memory
when unset), EMAIL_URL (mail backend, e.g. smtp://user:pass@host:587?tls=True; the console when
unset), DEFAULT_FROM_EMAIL, DJANGO_SECRET_KEY, API_KEY_SECRET (HMAC key for API key digests),
DATABASE_PREPARED_STATEMENTS (0 turns them off, for PgBouncer before 1.21), ALLOWED_HOSTS,
NUM_PROXIES (reverse proxies in front that append to X-Forwarded-For; default 0),
API_KEY_RATE_LIMIT (requests/second per key), API_KEY_RATE_BURST, API_LEAK_REPORT_LIMIT (leak
reports per client address per minute), DASHBOARD_URL (the dashboard's address, for links in
e-mails).
"""

import os
from pathlib import Path

import dj_database_url
import dj_email_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parents[2]


def env_number(name: str, default: str) -> float | str:
    """A number from the environment.  Anything else is kept as given, for the system check
    `apikeys.E002` to refuse with a clear message instead of a traceback at import."""
    raw = os.environ.get(name, default)
    try:
        return float(raw)
    except ValueError:
        return raw


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_env(default_sqlite: Path) -> dict:
    """The default database from DATABASE_URL, falling back to a SQLite file.

    Connections persist for 60 seconds on both engines: a request then skips the connection set-up
    (on SQLite about 2 ms: Django registers its SQL functions and runs the PRAGMAs below).  The
    development server still closes its connections after every request.
    """
    config = dj_database_url.config(
        default=f"sqlite:///{default_sqlite}",
        conn_max_age=60,
        # R3: a connection the server dropped (failover, restart, pg_terminate_backend) is
        # noticed at the start of the next request and replaced, instead of failing it.
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # BEGIN IMMEDIATE serialises writers, so the per-account key limit (K7) holds on SQLite
            # under the threaded dev server instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend plus a cursor whose statements are prepared once per connection (the
        # API key lookup: common/postgresql/base.py).  0 prepares them at their first use; None
        # (DATABASE_PREPARED_STATEMENTS=0, for a pooler without prepared-statement support, such
        # as PgBouncer before 1.21) runs them unprepared.
        config["ENGINE"] = "common.postgresql"
        prepared = os.environ.get("DATABASE_PREPARED_STATEMENTS", "1").strip().lower()
        config.setdefault("OPTIONS", {})["prepare_threshold"] = (
            None if prepared in ("0", "false", "no", "off") else 0
        )
    return config


def cache_from_env() -> dict:
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return {
            "default": {
                # R3: answers as an empty cache while Redis is unreachable (common/cache.py).
                "BACKEND": "common.cache.FailOpenRedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "pd"),
                # A Redis that stops answering costs a request a second at most (then the cache
                # fails open for a second); a refused connection costs next to nothing.
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
            }
        }
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


# "production" in config.settings.production: commands that only make sense elsewhere (seed_demo)
# refuse to run there unless forced.
ENVIRONMENT = "development"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin site that signs staff in through allauth and insists on a second factor (AS3/AS4).
    "accounts.apps.SecureAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # No models: installed for its template filters ({% load common %}).
    "common",
    "accounts",
    "apikeys",
    "proxies",
    "proxies.geo",
    "billing",
    "stats",
    "demo",
]

MIDDLEWARE = [
    "common.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # AS8: every dashboard view needs a signed-in user unless it is marked login_not_required
    # (allauth's sign-in, sign-up and reset pages; the Public API, which has its own keys).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.DashboardPrivacyMiddleware",
    "api.middleware.APICacheHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {"default": database_from_env(BASE_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = cache_from_env()

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "apikeys:list"
LOGOUT_REDIRECT_URL = "account_login"

# --- Client address (A13) ---
# How many reverse proxies in front append to X-Forwarded-For.  0: REMOTE_ADDR is the client and
# a client-supplied X-Forwarded-For is never believed.
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "0"))

# R3: who may read /metrics (addresses or networks); loopback unless the operator says otherwise.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")

# --- Accounts: django-allauth (SPEC 2.9) ---
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"  # AS6: self sign-ups verify before they can sign in
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True  # AS6: password, e-mail and 2FA changes are e-mailed
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Proxy Dashboard] "
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
# AS5: sensitive actions ask for the password (or a second factor) again after 15 minutes.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 15 * 60
# ... with the password or a second factor; not a code by e-mail, which would let whoever reads the
# inbox confirm a stolen session.
ACCOUNT_REAUTHENTICATION_METHODS = ["password", "mfa"]
# AS3, counted in the Django cache (Redis in production, so every worker and server agrees).
# login_failed: 20 failures a minute per client IP, and 5 per account in 5 minutes, after which
# the adapter keeps the account locked for ACCOUNT_LOCKOUT_SECONDS even with the right password.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "20/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
ACCOUNT_LOCKOUT_SECONDS = 5 * 60
ALLAUTH_TRUSTED_PROXY_COUNT = NUM_PROXIES
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Proxy Dashboard"
# One 30-second step either side (RFC 6238's recommended allowance): a phone whose clock is a few
# seconds off, or a code typed as it rolled over, still works.  allauth remembers a used code for
# the whole window, so a code cannot be replayed within it.
MFA_TOTP_TOLERANCE = 1

# --- E-mail (AS6) ---
EMAIL_URL = os.environ.get("EMAIL_URL", "console://")


def mailer_from_url(url: str) -> dict:
    """Django's MAILERS entry for an EMAIL_URL (dj-email-url's scheme: smtp://, smtps://,
    console://, file:///path, memory://, dummy://)."""
    parsed = dj_email_url.parse(url)
    backend = parsed["EMAIL_BACKEND"]
    options: dict = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": parsed["EMAIL_HOST"] or "localhost",
            "port": parsed["EMAIL_PORT"] or 25,
            "username": parsed["EMAIL_HOST_USER"] or "",
            "password": parsed["EMAIL_HOST_PASSWORD"] or "",
            "use_tls": parsed["EMAIL_USE_TLS"],
            "use_ssl": parsed["EMAIL_USE_SSL"],
            # A mail server that stops answering must not hold a sign-up for long.
            "timeout": parsed["EMAIL_TIMEOUT"] or 10,
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": parsed["EMAIL_FILE_PATH"]}
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {"default": mailer_from_url(EMAIL_URL)}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Proxy Dashboard <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Content Security Policy (AS8): same-origin scripts and styles only, no inline code ---
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    # TOTP enrolment shows its QR code as a data: image.
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- API keys (SPEC 2.3) ---
API_KEY_PREFIX = os.environ.get("API_KEY_PREFIX", "2xt_")
# Keyed digest secret.  Separate from SECRET_KEY so rotating session signing never invalidates keys.
API_KEY_SECRET = os.environ.get("API_KEY_SECRET", "")
API_KEY_MAX_ACTIVE_PER_ACCOUNT = 10
# K26: the days before expiry `send_key_expiry_reminders` looks ahead by default.
API_KEY_EXPIRY_REMINDER_DAYS = 7
# K28: leak reports (POST /v1/credentials/revoke) one client address may send, per minute.
API_LEAK_REPORT_LIMIT = env_number("API_LEAK_REPORT_LIMIT", "10")
# Where the dashboard is reached, for links in e-mails sent outside a request (reminders).
DASHBOARD_URL = os.environ.get("DASHBOARD_URL", "http://127.0.0.1:8000").rstrip("/")
# Proxies an account may have (deleted ones do not count).
PROXY_MAX_PER_ACCOUNT = int(os.environ.get("PROXY_MAX_PER_ACCOUNT", "500"))
# K15: last-used is written at most once per this many seconds per key.
API_KEY_LAST_USED_INTERVAL = 60
# A7: sustained rate per key and the burst allowed on top of it.
# Both must be positive numbers: `manage.py check` refuses anything else (apikeys.E002).
API_KEY_RATE_LIMIT = env_number("API_KEY_RATE_LIMIT", "10")
API_KEY_RATE_BURST = env_number("API_KEY_RATE_BURST", "20")
# A11: every account's keys together, by default three keys' worth.
API_ACCOUNT_RATE_LIMIT = env_number("API_ACCOUNT_RATE_LIMIT", str(3 * API_KEY_RATE_LIMIT))
API_ACCOUNT_RATE_BURST = env_number("API_ACCOUNT_RATE_BURST", str(3 * API_KEY_RATE_BURST))
# A12: failed authentications per client address per minute before its requests get 429; 0: off.
API_AUTH_FAILURE_LIMIT = env_number("API_AUTH_FAILURE_LIMIT", "120")
# K31: each process moves per-key usage counts into the database from its request path at most
# this often (seconds; with Redis one process of the cluster per interval); 0: only the
# `flush_key_usage` command does.
API_KEY_USAGE_FLUSH_SECONDS = 60

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apikeys.authentication.APIKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apikeys.permissions.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["api.envelope.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.envelope.SafeJSONParser"],
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "api.envelope.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.PublicAPIAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "DATE_FORMAT": "%Y-%m-%d",
    # A13: the same client address rule as the dashboard's (allauth's TRUSTED_PROXY_COUNT).
    "NUM_PROXIES": NUM_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Proxy Public API",
    "DESCRIPTION": (
        "Manage proxies, browse the geo directory, read traffic statistics and balance. "
        "Authenticate with an API key in the `X-API-Key` header (or `Authorization: Bearer`). "
        "Every response is an envelope `{result, data, error, error_type, meta}`. "
        "An optional query parameter sent empty (`?order=`) counts as left out: its default "
        "applies; a required one sent empty is refused with 400."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["api.schema.published_paths_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.link_created_objects",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI is served from our own static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# K10: every handler redacts full API keys, in messages and in exception text; Django's error
# reports (the e-mail to ADMINS, the DEBUG page) go through a reporter that does the same.
DEFAULT_EXCEPTION_REPORTER = "apikeys.logging.RedactingExceptionReporter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_api_keys": {"()": "apikeys.logging.RedactAPIKeysFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        # One line per record, with the time, level and logger an operator filters on.
        "line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["redact_api_keys"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_api_keys"],
        },
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Replaces Django's own handlers for "django" (an unfiltered mail_admins among them).
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
