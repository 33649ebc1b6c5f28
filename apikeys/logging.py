"""Defence in depth for K10: log records never carry a full API key, whatever a caller logs."""

import logging
import re

from django.conf import settings

from .crypto import BODY_LENGTH, DISPLAY_BODY_CHARS


class RedactAPIKeysFilter(logging.Filter):
    """Replaces anything shaped like a full API key in a log message with its display prefix."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._pattern: re.Pattern[str] | None = None

    def _key_pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            rest = BODY_LENGTH - DISPLAY_BODY_CHARS
            self._pattern = re.compile(
                re.escape(settings.API_KEY_PREFIX)
                + rf"([0-9A-Za-z]{{{DISPLAY_BODY_CHARS}}})[0-9A-Za-z]{{{rest}}}(?![0-9A-Za-z])"
            )
        return self._pattern

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        prefix = settings.API_KEY_PREFIX
        redacted = self._key_pattern().sub(lambda m: f"{prefix}{m.group(1)}...[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
