"""Scope checks for the Public API (K3, K4, K21): deny by default.

Every API view declares `required_scopes`, a mapping from HTTP method to one scope or a tuple of
alternatives (any one suffices, as for the plans list, K4).  A view that serves a method without
declaring its scope is a configuration error: the request fails with 500 and the `apikeys` system
check reports it at startup.  It is never allowed.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .authentication import APIKeyPrincipal, MissingAPIKey
from .scopes import SCOPE_NAMES


class InsufficientScope(exceptions.PermissionDenied):
    error_type = "insufficient_scope"

    def __init__(self, alternatives: tuple[str, ...]) -> None:
        self.required_scopes = alternatives
        if len(alternatives) == 1:
            detail = f"This API key lacks the required scope: {alternatives[0]}."
        else:
            detail = f"This API key needs one of these scopes: {', '.join(alternatives)}."
        super().__init__(detail)


def served_methods(view) -> list[str]:
    """The HTTP methods a view class implements itself (OPTIONS answers 405: no metadata)."""
    return [
        method.upper()
        for method in view.http_method_names
        if method not in ("options", "head") and hasattr(view, method)
    ]


def declared_scopes(view, method: str) -> tuple[str, ...] | None:
    declared = getattr(view, "required_scopes", None) or {}
    required = declared.get(method)
    if required is None and method == "HEAD":
        required = declared.get("GET")
    if required is None:
        return None
    return (required,) if isinstance(required, str) else tuple(required)


def scope_declaration_errors(view_class) -> list[str]:
    """Problems with a view's declaration: served methods without scopes, unknown scope names."""
    errors = []
    for method in served_methods(view_class):
        alternatives = declared_scopes(view_class, method)
        if not alternatives:
            errors.append(f"{view_class.__name__} serves {method} but declares no required scope.")
            continue
        unknown = set(alternatives) - SCOPE_NAMES
        if unknown:
            errors.append(f"{view_class.__name__} declares unknown scope(s) {sorted(unknown)}.")
    return errors


class HasScope(BasePermission):
    """Grants a request only when its API key holds the scope the view declares for the method."""

    def has_permission(self, request, view) -> bool:
        method = request.method
        if method == "OPTIONS" or not hasattr(view, method.lower()):
            return True  # the view answers 405 itself: nothing is served
        principal = request.auth
        if not isinstance(principal, APIKeyPrincipal):
            raise MissingAPIKey()
        alternatives = declared_scopes(view, method)
        if not alternatives:
            raise ImproperlyConfigured(
                f"{type(view).__name__} serves {method} but declares no required scope."
            )
        if principal.scopes.isdisjoint(alternatives):
            raise InsufficientScope(alternatives)
        return True
