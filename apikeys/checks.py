"""System check: every Public API view that uses HasScope declares a scope per method (K3)."""

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
    errors = []
    for view_class in set(_views(get_resolver().url_patterns)):
        permission_classes = getattr(view_class, "permission_classes", ())
        if not any(isinstance(p, type) and issubclass(p, HasScope) for p in permission_classes):
            continue
        errors.extend(
            checks.Error(message, obj=view_class, id="apikeys.E001")
            for message in scope_declaration_errors(view_class)
        )
    return errors
