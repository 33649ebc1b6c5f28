"""OpenAPI documentation of the Public API (A6): the X-API-Key scheme, each operation's required
scope (in its description and as `x-required-scopes`), the envelope and the error responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from apikeys.permissions import declared_scopes

ERROR_TYPES_DOC = (
    "`error_type` is one of: `missing_api_key`, `invalid_api_key`, `api_key_expired` (401); "
    "`insufficient_scope` (403); `not_found` (404); `method_not_allowed` (405); "
    "`unsupported_media_type` (415); `validation_error`, `malformed_json` (400); "
    "`rate_limited` (429); `internal_error` (500); `service_unavailable` (503)."
)
ERROR_RESPONSES = {
    "400": "Invalid input: `validation_error` (per-field messages in `meta.fields`) or `malformed_json`.",
    "401": "`missing_api_key`, `invalid_api_key` or `api_key_expired`; sent with `WWW-Authenticate`.",
    "403": "`insufficient_scope`: the key lacks the scope named in `error` and `meta.required_scopes`.",
    "404": "`not_found`: no such endpoint or object (another account's object is also 404).",
    "429": "`rate_limited`: too many requests for this key, its account or this address; see "
    "`Retry-After` and the `RateLimit` header.",
    "500": "`internal_error`: an unexpected error; nothing about it is disclosed.",
    "503": "`service_unavailable`: the database dropped the connection under a request that "
    "cannot safely run twice (a POST without an Idempotency-Key), or twice in a row. Retry "
    "after `Retry-After` seconds.",
}


def published_paths_only(endpoints: list, **kwargs) -> list:
    """drf-spectacular preprocessing hook: drop the tolerated trailing-slash twins of each path."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key from the dashboard, e.g. `2xt_...`. "
            "`Authorization: Bearer <key>` is accepted too.",
        }


class ErrorEnvelopeSerializer(serializers.Serializer):
    result = serializers.BooleanField(default=False)
    data = serializers.JSONField(allow_null=True, default=None)
    error = serializers.CharField(help_text="A human-readable sentence.")
    error_type = serializers.CharField(help_text=ERROR_TYPES_DOC)
    meta = serializers.DictField(
        help_text="`fields` for validation errors, `required_scopes` for 403."
    )


class PageMetaSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()


_ENVELOPES: dict[tuple[type, bool], type[serializers.Serializer]] = {}


def enveloped(
    item: type[serializers.Serializer], *, many: bool = False
) -> type[serializers.Serializer]:
    """A serializer documenting `item` inside the success envelope (paged `meta` for lists)."""
    if (item, many) not in _ENVELOPES:
        base = item.__name__.removesuffix("Serializer").removesuffix("Output")
        attrs = {
            "result": serializers.BooleanField(default=True),
            "data": item(many=many),
            "error": serializers.CharField(default="", help_text="Empty on success."),
            "error_type": serializers.CharField(default="", help_text="Empty on success."),
            "meta": PageMetaSerializer() if many else serializers.DictField(),
        }
        _ENVELOPES[item, many] = type(
            f"{base}{'List' if many else ''}Envelope", (serializers.Serializer,), attrs
        )
    return _ENVELOPES[item, many]


class PublicAPIAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        alternatives = declared_scopes(self.view, method.upper())
        if alternatives:
            operation["x-required-scopes"] = list(alternatives)
            names = ", ".join(f"`{name}`" for name in alternatives)
            line = (
                f"**Required scope:** {names}"
                if len(alternatives) == 1
                else f"**Required scope:** any of {names}"
            )
            operation["description"] = f"{operation.get('description', '')}\n\n{line}".strip()
        error_ref = self.resolve_serializer(ErrorEnvelopeSerializer, "response").ref
        for status, description in ERROR_RESPONSES.items():
            operation["responses"].setdefault(
                status,
                {
                    "description": description,
                    "content": {"application/json": {"schema": error_ref}},
                },
            )
        return operation
