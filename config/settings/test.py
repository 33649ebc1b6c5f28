"""Test settings: fast password hashing, generous rate limits (rate-limit tests lower them)."""

from .base import *  # noqa: F403
from .base import os

SECRET_KEY = "test-secret-key"
API_KEY_SECRET = "test-api-key-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
API_KEY_RATE_LIMIT = 10_000
API_KEY_RATE_BURST = 10_000
API_ACCOUNT_RATE_LIMIT = 30_000
API_ACCOUNT_RATE_BURST = 30_000
# K31: tests flush usage counts themselves (apikeys.usage.usage_flush), so that no flush lands
# inside a test that counts queries; the request-path flush is tested with it turned on.
API_KEY_USAGE_FLUSH_SECONDS = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if "KEY_PREFIX" in CACHES["default"]:  # noqa: F405
    # Parallel workers share one Redis; keep their counters apart.
    CACHES["default"]["KEY_PREFIX"] += "-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405

# Static files straight from the source folders; no collectstatic needed outside production.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
