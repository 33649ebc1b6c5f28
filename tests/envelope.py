"""Assertions on the Public API envelope (SPEC A2): every answer under /v1/ is one JSON object with
exactly `result`, `data`, `error`, `error_type` and `meta`."""

import json

ENVELOPE_KEYS = frozenset({"result", "data", "error", "error_type", "meta"})


def envelope(response, status: int) -> dict:
    """The body of `response`, after checking its status, its JSON content type and its keys."""
    assert response.status_code == status, response.content[:2000]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == ENVELOPE_KEYS, body
    assert isinstance(body["meta"], dict), body
    return body


def assert_ok(response, status: int = 200) -> dict:
    """A success envelope with `status`: `result` true and no error.  Returns the body."""
    body = envelope(response, status)
    assert body["result"] is True, body
    assert body["error"] == body["error_type"] == "", body
    return body


def assert_error(response, status: int, error_type: str) -> dict:
    """An error envelope with `status` and `error_type`: no data, a message.  Returns the body."""
    body = envelope(response, status)
    assert body["result"] is False, body
    assert body["data"] is None, body
    assert body["error_type"] == error_type, body
    assert isinstance(body["error"], str) and body["error"], body
    return body


def assert_validation_error(response, field: str) -> dict:
    """A 400 `validation_error` that names `field` in its message and gives it (or its nested
    `field.<part>` keys) messages in `meta.fields`.  Returns the body."""
    body = assert_error(response, 400, "validation_error")
    fields = body["meta"]["fields"]
    named = [key for key in fields if key == field or key.startswith(f"{field}.")]
    assert named, fields
    assert all(isinstance(message, str) and message for key in named for message in fields[key])
    assert field in body["error"], body["error"]
    return body


def assert_not_found(response) -> dict:
    return assert_error(response, 404, "not_found")
