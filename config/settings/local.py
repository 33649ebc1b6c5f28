"""Development settings: DEBUG on, SQLite and local-memory cache unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import os

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = SECRET_KEY or "dev-only-insecure-secret-key-change-me"  # noqa: F405
API_KEY_SECRET = API_KEY_SECRET or "dev-only-insecure-api-key-secret"  # noqa: F405

# Static files straight from the source folders; no collectstatic needed outside production.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# WebAuthn on http://127.0.0.1 during development (browsers treat localhost as secure).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
