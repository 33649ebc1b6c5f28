"""Dashboard form pieces: the date range form of the Statistics and Billing pages (SPEC D3, D4),
and `add_service_errors`, which puts a service's ValidationError on a form.

Dates are UTC days (`YYYY-MM-DD`, A5), both ends included.  Without any dates in the query string
the range is the last 30 days up to today; a half-filled, reversed or too long range is an error
shown next to the fields, never a server error.
"""

from collections.abc import Mapping
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.dates import MAX_REPORT_DAYS

DEFAULT_DAYS = 30
# The same span the Public API allows for JSON reports; the CSV export allows more
# (stats.csv.MAX_EXPORT_DAYS).
MAX_DAYS = MAX_REPORT_DAYS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateRangeForm(forms.Form):
    """`date_from` and `date_to`, at most `max_days` days apart (both ends counted)."""

    date_from = forms.DateField(
        label="From",
        input_formats=["%Y-%m-%d"],
        widget=DateInput,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )
    date_to = forms.DateField(
        label="To",
        input_formats=["%Y-%m-%d"],
        widget=DateInput,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )

    def __init__(self, params=None, *, max_days: int = MAX_DAYS, today: date | None = None):
        """Bound to `params` when they name either date; otherwise to the default range."""
        self.max_days = max_days
        today = today or timezone.now().date()
        if params is None or not any(params.get(name) for name in ("date_from", "date_to")):
            params = {
                "date_from": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
                "date_to": today.isoformat(),
            }
        super().__init__(params)

    def clean(self):
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_to >= date.max:
                # The day after the range must exist (reports step one day past the end).
                self.add_error("date_to", "Choose an end date before 9999-12-31.")
            elif date_from > date_to:
                self.add_error("date_to", "The end date must be on or after the start date.")
            elif (date_to - date_from).days + 1 > self.max_days:
                self.add_error("date_to", f"Choose a range of at most {self.max_days} days.")
        return cleaned

    @property
    def start(self) -> date:
        return self.cleaned_data["date_from"]

    @property
    def end(self) -> date:
        return self.cleaned_data["date_to"]

    def query(self) -> str:
        """The range as a query string, for links that keep it (CSV export, paging)."""
        return f"date_from={self.start:%Y-%m-%d}&date_to={self.end:%Y-%m-%d}"


def add_service_errors(
    form: forms.Form, error: ValidationError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError on a dashboard form, field by field where a form field
    matches (`fields` maps a service's key to the form's field name when they differ); anything
    else goes to the form's own errors."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        field = (fields or {}).get(key, key)
        form.add_error(field if field in form.fields else None, messages)
