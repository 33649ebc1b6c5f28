"""OpenAPI documentation of the Public API (A6): the X-API-Key scheme, each operation's required
scope (in its description and as `x-required-scopes`), the envelope and the error responses.

The schema says what the API enforces, so that a client (or a property-based test) built from it
sends nothing the API refuses for a reason the schema hides:
- each operation lists the error statuses it can answer, and only those (`error_responses`);
- every optional query parameter admits an empty value, which means "absent" (api/params.py);
- a 201 that creates an object links to the operations on `{path}/{id}` (`link_created_objects`).
"""

import re

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from apikeys.permissions import declared_scopes

ERROR_TYPES_DOC = (
    "`error_type` is one of: `missing_api_key`, `invalid_api_key`, `api_key_expired` (401); "
    "`insufficient_scope`, `ip_not_allowed` (403); `not_found` (404); `method_not_allowed` (405); "
    "`idempotency_conflict` (409); `payload_too_large` (413); `unsupported_media_type` (415); "
    "`validation_error`, `malformed_json`, `bad_request` (400); `rate_limited` (429); "
    "`internal_error` (500); `service_unavailable` (503)."
)
ERROR_RESPONSES = {
    "400": "Invalid input: `validation_error` (per-field messages in `meta.fields`), "
    "`malformed_json` or `bad_request`.",
    "401": "`missing_api_key`, `invalid_api_key` or `api_key_expired`; sent with `WWW-Authenticate`.",
    "403": "`insufficient_scope`: the key lacks the scope named in `error` and "
    "`meta.required_scopes`; or `ip_not_allowed`: the key has an IP allowlist and the client "
    "address (named in `error`) is not on it.",
    "404": "`not_found`: no such object in the key's account (another account's object is also 404).",
    "413": "`payload_too_large`: the request body is too large.",
    "415": "`unsupported_media_type`: send the body as `Content-Type: application/json`.",
    "429": "`rate_limited`: too many requests for this key, its account or this address; see "
    "`Retry-After` and the `RateLimit` header.",
    "500": "`internal_error`: an unexpected error; nothing about it is disclosed.",
    "503": "`service_unavailable`: the database dropped the connection under a request that "
    "cannot safely run twice (a POST without an Idempotency-Key), or twice in a row. Retry "
    "after `Retry-After` seconds.",
}
ERROR_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (`X-API-Key`).",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
# What every operation can answer: authentication (401) and scope (403) failures, the rate
# limiter (429), and the unexpected (500, 503).  Every view declares a scope (K3).
ALWAYS = ("401", "403", "429", "500", "503")


def error_responses(operation: dict) -> list[str]:
    """The error statuses `operation` can answer, besides those its view declares itself.

    400 when it reads input (query or header parameters, a body); 404 when it looks an object up
    by a path parameter; 413 and 415 when it parses a JSON body.  An operation without input
    cannot be sent anything invalid, and one without a path id has nothing to miss.
    """
    parameters = operation.get("parameters", [])
    statuses = set(ALWAYS)
    if "requestBody" in operation or any(p["in"] in ("query", "header") for p in parameters):
        statuses.add("400")
    if any(p["in"] == "path" for p in parameters):
        statuses.add("404")
    if "requestBody" in operation:
        statuses.update(("413", "415"))
    return sorted(statuses)


def scope_failure_description(alternatives: tuple[str, ...]) -> str:
    names = " or ".join(f"`{name}`" for name in alternatives)
    return (
        f"`insufficient_scope`: the key lacks {names}; `meta.required_scopes` names it "
        f"{'' if len(alternatives) == 1 else 'them '}too. Or `ip_not_allowed`: the key has an IP "
        "allowlist and the client address (named in `error`) is not on it."
    )


def published_paths_only(endpoints: list, **kwargs) -> list:
    """drf-spectacular preprocessing hook: drop the tolerated trailing-slash twins of each path."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]


def _component(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _created_object_has_id(schema: dict, response: dict) -> bool:
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    data = _component(schema, _component(schema, body).get("properties", {}).get("data", {}))
    return "id" in data.get("properties", {})


def link_created_objects(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: OpenAPI links from each 201 that creates an object
    (`POST /v1/proxy` answers the new proxy as `data`) to every operation under `{path}/{id}`,
    passing `data.id` as `id`.  Clients, and stateful tests, learn where the new id goes; an
    endpoint added under the object's path is linked without a word here."""
    paths = result.get("paths", {})
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if not created or not _created_object_has_id(result, created):
            continue
        prefix = f"{path}/{{id}}"
        links = {}
        for target, target_operations in paths.items():
            if target != prefix and not target.startswith(f"{prefix}/"):
                continue
            for target_method, target_operation in target_operations.items():
                operation_id = target_operation["operationId"]
                links[operation_id] = {
                    "operationId": operation_id,
                    "parameters": {"id": "$response.body#/data/id"},
                    "description": f"`data.id` is the `id` of {target_method.upper()} {target}.",
                }
        if links:
            created["links"] = links
    return result


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
    # A schema-only serializer: its `data` field shadows Serializer.data, which it never uses.
    data = serializers.JSONField(allow_null=True, default=None)  # type: ignore[assignment]
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


NO_NUL_PATTERN = r"^[^\x00]*$"


def _admits_empty_string(schema: dict) -> bool:
    return (
        schema.get("type") == "string"
        and not schema.get("minLength")
        and "format" not in schema
        and re.search(schema.get("pattern", ""), "") is not None
    )


class PublicAPIAutoSchema(AutoSchema):
    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # drf-spectacular offers a blank string as a second `oneOf` branch of a field that allows
        # blanks and has a pattern; when the pattern admits "" too, "" would match both branches
        # and so neither (oneOf means exactly one).  One branch then says it all.
        branches = schema.get("oneOf")
        if (
            branches
            and len(branches) == 2
            and branches[1] == {"type": "string", "maxLength": 0}
            and _admits_empty_string(branches[0])
        ):
            schema.update(schema.pop("oneOf")[0])

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and schema.get("type") == "string"
            and "pattern" not in schema
            and "enum" not in schema
            and any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators)
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            # DRF refuses NUL in every CharField; say so where no pattern says more (a
            # RegexValidator's pattern is added after this, by `_insert_field_validators`).
            schema["pattern"] = NO_NUL_PATTERN
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and getattr(serializer, "refuses_undeclared_fields", False):
            schema["additionalProperties"] = False
        return schema

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
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                # api/params.py: an optional parameter sent empty is the same as one left out.
                parameter["allowEmptyValue"] = True
        error_ref = self.resolve_serializer(ErrorEnvelopeSerializer, "response").ref
        statuses = error_responses(operation)
        if not alternatives:
            # A public operation (no key, no scope: the leak report) cannot fail either check.
            statuses = [status for status in statuses if status not in ("401", "403")]
        for status in statuses:
            response = {
                "description": ERROR_RESPONSES[status],
                "content": {"application/json": {"schema": error_ref}},
            }
            if status == "403" and alternatives:
                response["description"] = scope_failure_description(alternatives)
            if status in ERROR_HEADERS:
                response["headers"] = ERROR_HEADERS[status]
            operation["responses"].setdefault(status, response)
        operation["responses"] = dict(sorted(operation["responses"].items()))
        return operation
