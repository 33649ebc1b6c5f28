"""Logs never contain a full API key (K10)."""

import logging
import sys

from apikeys import crypto
from apikeys.logging import RedactAPIKeysFilter


def test_full_keys_are_redacted_from_log_messages(settings):
    key = crypto.generate_key(settings.API_KEY_PREFIX)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s from client", (key,), None)
    assert RedactAPIKeysFilter().filter(record)
    message = record.getMessage()
    assert key not in message
    assert key[:8] + "...[redacted]" in message


def test_other_messages_are_untouched(settings):
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "prefix %s only", ("2xt_abcd",), None
    )
    RedactAPIKeysFilter().filter(record)
    assert record.getMessage() == "prefix 2xt_abcd only"


def test_filter_is_installed_on_the_console_handler(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert "redact_api_keys" in handler["filters"]


def test_every_configured_handler_redacts(settings):
    assert set(settings.LOGGING["handlers"]) == {"console", "mail_admins"}
    for handler in settings.LOGGING["handlers"].values():
        assert "redact_api_keys" in handler["filters"]
    (mail_admins,) = logging.getLogger("django").handlers
    assert any(isinstance(f, RedactAPIKeysFilter) for f in mail_admins.filters)


def raise_with(key: str):
    def authenticate(token):
        raise ValueError(f"cannot parse {token}")

    try:
        authenticate(key)
    except ValueError:
        return sys.exc_info()
    raise AssertionError("unreachable")


def test_exception_text_and_traceback_are_redacted_on_the_console(settings):
    key = crypto.generate_key(settings.API_KEY_PREFIX)
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "failed %s", (key,), raise_with(key)
    )
    (console,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    assert console.filter(record)
    output = console.format(record)
    assert "ValueError: cannot parse" in output and "Traceback" in output
    assert key not in output
    assert key[:8] + "...[redacted]" in output


def test_the_admin_error_mail_is_redacted_to_the_display_prefix(settings, rf, mailoutbox):
    settings.ADMINS = ["ops@example.com"]
    key = crypto.generate_key(settings.API_KEY_PREFIX)
    request = rf.get("/v1/geo/countries", HTTP_X_API_KEY=key)
    logging.getLogger("django.request").error(
        "Internal Server Error: %s",
        request.path,
        exc_info=raise_with(key),
        extra={"status_code": 500, "request": request},
    )
    (report,) = [m for m in mailoutbox if "ops@example.com" in m.to]
    text = report.subject + report.body + "".join(str(a[0]) for a in report.alternatives)
    assert "cannot parse" in text  # the report of this very error ...
    assert key not in text  # ... with the key in the message, frame locals and headers redacted
    assert key[:8] + "...[redacted]" in text
