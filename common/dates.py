"""Calendar rules every layer shares.  Days are UTC days (A5)."""

import re
from datetime import UTC, date

from django.utils import timezone

# The longest range one report (JSON or a dashboard page) may cover, both ends counted; the CSV
# export has its own, longer span (stats.csv.MAX_EXPORT_DAYS).
MAX_REPORT_DAYS = 366


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str) -> date | None:
    """`YYYY-MM-DD` as a date; None for anything else (`date.fromisoformat` alone would also take
    `20260131` and `2026-W05-6`, or a real-looking `2026-02-30`)."""
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def current_month(today: date | None = None) -> tuple[date, date]:
    """The 1st of the current UTC month up to today: the default statistics period."""
    today = today or today_utc()
    return today.replace(day=1), today
