"""WSGI entry point for gunicorn: `gunicorn config.wsgi`.

Gunicorn does not run Django's system checks, so this module does: a setting they reject (a
zero or non-numeric rate limit, apikeys.E002; a view without a scope, apikeys.E001) stops the
worker at start-up with the checks' own messages, instead of failing every request later.
"""

import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

_errors = [message for message in checks.run_checks() if message.is_serious()]
if _errors:
    raise ImproperlyConfigured("\n".join(str(message) for message in _errors))
