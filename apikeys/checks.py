"""System checks: every Public API view that uses HasScope declares a scope per method (K3);
the rate-limit settings are positive numbers (A11)."""

import math

from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from .permissions import HasScope, scope_declaration_errors


def _views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is not None:
                yield view_class


@checks.register(checks.Tags.security)
def check_scope_declarations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for view_class in set(_views(get_resolver().url_patterns)):
        permission_classes = getattr(view_class, "permission_classes", ())
        if not any(isinstance(p, type) and issubclass(p, HasScope) for p in permission_classes):
            continue
        errors.extend(
            checks.Error(message, obj=view_class, id="apikeys.E001")
            for message in scope_declaration_errors(view_class)
        )
    return errors


RATE_SETTINGS = {
    "API_KEY_RATE_LIMIT": "requests per second per key",
    "API_KEY_RATE_BURST": "requests a key may send at once",
    "API_ACCOUNT_RATE_LIMIT": "requests per second per account, all its keys together",
    "API_ACCOUNT_RATE_BURST": "requests an account may send at once",
    "API_LEAK_REPORT_LIMIT": "leak reports per minute per client address",
}


@checks.register()
def check_rate_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A zero, negative or non-numeric rate would refuse or break every API request."""
    errors: list[checks.CheckMessage] = []
    for name, meaning in RATE_SETTINGS.items():
        value = getattr(settings, name, None)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or number <= 0:
            errors.append(
                checks.Error(
                    f"{name} must be a positive number ({meaning}); it is {value!r}.",
                    hint=f"Set the {name} environment variable to a number above 0.",
                    id="apikeys.E002",
                )
            )
    limit = getattr(settings, "API_AUTH_FAILURE_LIMIT", None)
    if not isinstance(limit, int | float) or not math.isfinite(limit) or limit < 0:
        errors.append(
            checks.Error(
                "API_AUTH_FAILURE_LIMIT must be a whole number of failed authentications a "
                f"minute per client address, 0 to switch the limit off; it is {limit!r}.",
                id="apikeys.E002",
            )
        )
    return errors
