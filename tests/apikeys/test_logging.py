"""Logs never contain a full API key (K10)."""

import logging

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
