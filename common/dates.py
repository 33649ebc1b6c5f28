"""Calendar rules every layer shares.  Days are UTC days (A5)."""

from datetime import UTC, date

from django.utils import timezone

# The longest range one report (JSON or a dashboard page) may cover, both ends counted; the CSV
# export has its own, longer span (stats.csv.MAX_EXPORT_DAYS).
MAX_REPORT_DAYS = 366


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def current_month(today: date | None = None) -> tuple[date, date]:
    """The 1st of the current UTC month up to today: the default statistics period."""
    today = today or today_utc()
    return today.replace(day=1), today
