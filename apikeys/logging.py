"""Defence in depth for K10: logs and error reports never carry a full API key, whatever a caller
logs or raises.  A key-shaped string keeps only its display prefix."""

import logging
import re

from django.conf import settings
from django.utils.safestring import SafeString
from django.views.debug import ExceptionReporter

from .crypto import BODY_LENGTH, DISPLAY_BODY_CHARS

_PATTERN: tuple[str, re.Pattern[str]] | None = None


def redact_api_keys(text: str) -> str:
    """`text` with every full API key replaced by its display prefix and `...[redacted]`."""
    global _PATTERN
    prefix = settings.API_KEY_PREFIX
    if _PATTERN is None or _PATTERN[0] != prefix:
        rest = BODY_LENGTH - DISPLAY_BODY_CHARS
        _PATTERN = (
            prefix,
            re.compile(
                re.escape(prefix)
                + rf"([0-9A-Za-z]{{{DISPLAY_BODY_CHARS}}})[0-9A-Za-z]{{{rest}}}(?![0-9A-Za-z])"
            ),
        )
    if prefix not in text:
        return text
    return _PATTERN[1].sub(lambda m: f"{prefix}{m.group(1)}...[redacted]", text)


class RedactAPIKeysFilter(logging.Filter):
    """Redacts the message, and the exception text with its traceback, of every record.

    The traceback is formatted here, redacted and kept as `exc_text`, which formatters print
    instead of formatting `exc_info` again.  Django's admin e-mails build their report from
    `exc_info` themselves; `RedactingExceptionReporter` covers those.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_api_keys(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_api_keys(record.exc_text)
        return True


class RedactingExceptionReporter(ExceptionReporter):
    """Django's error report (admin e-mail, DEBUG page) with full API keys redacted everywhere:
    the exception message, frame variables, request data and headers."""

    # Redaction swaps key text for a fixed marker with no markup, so the report stays exactly as
    # safe as Django rendered it.
    def get_traceback_text(self) -> SafeString:
        return SafeString(redact_api_keys(super().get_traceback_text()))

    def get_traceback_html(self) -> SafeString:
        return SafeString(redact_api_keys(super().get_traceback_html()))
