"""Parameters of the Public API: paging (A4), UTC days and date ranges, money (A5), and request
bodies that refuse undeclared fields (`StrictInputSerializer`).

Shared by the key, proxy, geo, stats and billing endpoints.  DRF's settings do not load this module.

Empty values.  An optional query parameter sent with an empty value (`?order=&statistic_to=`) is
the same as leaving it out: its default applies.  That is what a client expects of a form-like
query string (an unset filter field still sends `name=`), it is how DRF reads a query string for a
field that is not required, and it is what the API always did, so no client breaks.  The schema
says so with `allowEmptyValue: true` on every optional query parameter (`api.schema`).  A
required parameter (`date_from`, `proxy_type`, `country_code`) sent empty is refused with 400
`validation_error`, and its schema cannot be met by an empty string (`minLength`, an enum, a
format).

The schema carries every rule of these fields that OpenAPI can state (bounds, enums, lengths,
patterns), taken from the same constants the validation uses; the rules it cannot state (a
range's order and longest span) are written into the parameter descriptions, by the same code.
"""

import re
from collections.abc import Mapping
from datetime import date

from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings

from common.dates import MAX_REPORT_DAYS

# Every day of a range, and the day after it, is a valid `date` with a four-digit year.
MIN_DAY = date(1970, 1, 1)
MAX_DAY = date(9998, 12, 31)


def digit_range_pattern(low: str, high: str) -> str:
    """A regular expression (no anchors) matching the decimal numbers from `low` to `high`, both
    written with the same number of digits: `digit_range_pattern("1970", "9998")`."""
    if len(low) != len(high) or not (low + high).isdigit() or low > high:
        raise ValueError(f"Not a range of same-width numbers: {low!r}..{high!r}.")
    return "|".join(_digit_ranges(low, high))


def _digit_ranges(low: str, high: str) -> list[str]:
    if not low:
        return [""]
    if low[0] == high[0]:
        return [low[0] + rest for rest in _digit_ranges(low[1:], high[1:])]
    width = len(low) - 1
    any_digits = r"\d" * width
    parts = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != "0" * width:  # the numbers from `low` up to the end of its first digit
        parts += [low[0] + rest for rest in _digit_ranges(low[1:], "9" * width)]
        first += 1
    high_is_full = high[1:] == "9" * width
    middle_last = last if high_is_full else last - 1
    if first <= middle_last:
        digits = str(first) if first == middle_last else f"[{first}-{middle_last}]"
        parts.append(digits + any_digits)
    if not high_is_full:
        parts += [high[0] + rest for rest in _digit_ranges("0" * width, high[1:])]
    return parts


def day_pattern(first: date, last: date) -> str:
    """The `YYYY-MM-DD` spellings whose year lies in `first.year`..`last.year`: with the `date`
    format, exactly the days from `first` to `last` when those are a year's first and last day."""
    if (first.month, first.day) != (1, 1) or (last.month, last.day) != (12, 31):
        raise ValueError("The bounds must be the first and the last day of a year.")
    years = digit_range_pattern(f"{first.year:04d}", f"{last.year:04d}")
    return rf"^(?:{years})-\d{{2}}-\d{{2}}$"


class QueryTextField(serializers.CharField):
    """Free text in a query string (a search, a name filter): at most `max_length` characters as
    sent, the `maxLength` its schema states; then trimmed as DRF trims (blank allowed)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", "")
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # DRF would trim first: 101 spaces would pass a limit of 100 the schema says they break.
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)


class PageParamsSerializer(serializers.Serializer):
    """Paging parameters of A4: `limit` 1-1000 (default 100), zero-based `page`, `order`."""

    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    page = serializers.IntegerField(min_value=0, max_value=10_000_000, default=0)
    order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")


def paginate(queryset, params: dict, *, order_field: str):
    """Apply `order` on `order_field` (id breaks ties) and slice one page.

    Returns (items, meta) with `total`, `page`, `limit` for the envelope's `meta` (A4).
    """
    limit, page = params["limit"], params["page"]
    prefix = "-" if params["order"] == "desc" else ""
    ordered = queryset.order_by(f"{prefix}{order_field}", f"{prefix}pk")
    total = queryset.count()
    items = list(ordered[page * limit : (page + 1) * limit])
    return items, {"total": total, "page": page, "limit": limit}


def query_params(serializer_class: type[serializers.Serializer], request) -> dict:
    """The request's query string validated by `serializer_class`; 400 `validation_error` else."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_field({"type": "string", "format": "date", "pattern": day_pattern(MIN_DAY, MAX_DAY)})
class ISODateField(serializers.DateField):
    """A UTC day written exactly `YYYY-MM-DD` (A5); other spellings DRF would parse are refused.

    Days are bounded (`MIN_DAY`..`MAX_DAY`) so that every day of a range, and the day after it, is
    a valid `date` that renders with a four-digit year; the schema states the bound as a pattern.
    """

    MIN_DATE = MIN_DAY
    MAX_DATE = MAX_DAY
    default_error_messages = {
        "out_of_range": f"Use a date from {MIN_DAY:%Y-%m-%d} to {MAX_DAY:%Y-%m-%d}.",
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("format", "%Y-%m-%d")
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        if not self.MIN_DATE <= day <= self.MAX_DATE:
            self.fail("out_of_range")
        return day


def check_date_range(
    date_from: date,
    date_to: date,
    *,
    max_span_days: int,
    from_field: str = "date_from",
    to_field: str = "date_to",
) -> None:
    """Both ends inclusive; `date_from` <= `date_to`; at most `max_span_days` days in all.

    The cap keeps one request's work bounded (one row per day is computed or streamed).
    """
    if date_from > date_to:
        raise exceptions.ValidationError(
            {from_field: [f"{from_field} must be on or before {to_field}."]}
        )
    span = (date_to - date_from).days + 1
    if span > max_span_days:
        message = f"The range may cover at most {max_span_days} days; this one covers {span}."
        raise exceptions.ValidationError({to_field: [message]})


def range_rules(max_span_days: int, *, from_field: str) -> str:
    """What `check_date_range` enforces that a schema cannot state, for a parameter description."""
    return (
        f"On or after `{from_field}`; the range covers at most {max_span_days} days, both ends "
        f"counted. Days from {MIN_DAY:%Y-%m-%d} to {MAX_DAY:%Y-%m-%d}."
    )


class DateRangeParamsSerializer(serializers.Serializer):
    """`date_from` and `date_to`, both required; subclasses set `max_span_days` (366 for JSON)."""

    max_span_days = MAX_REPORT_DAYS

    date_from = ISODateField(help_text="First UTC day of the range, YYYY-MM-DD (inclusive).")
    date_to = ISODateField(help_text="Last UTC day of the range, YYYY-MM-DD (inclusive).")

    def get_fields(self) -> dict:
        fields = super().get_fields()
        # The documented span is the one `validate` checks, whichever subclass this is.
        rules = range_rules(self.max_span_days, from_field="date_from")
        fields["date_to"].help_text = f"{fields['date_to'].help_text} {rules}"
        return fields

    def validate(self, attrs: dict) -> dict:
        check_date_range(attrs["date_from"], attrs["date_to"], max_span_days=self.max_span_days)
        return attrs


class MoneyField(serializers.DecimalField):
    """USD as a JSON number with two decimals (A5): the stored Decimal, never a string."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


class StrictInputSerializer(serializers.Serializer):
    """Refuses fields it does not declare, naming each, instead of silently ignoring them."""

    # Its schema says so: `additionalProperties: false` (api.schema.PublicAPIAutoSchema).
    refuses_undeclared_fields = True

    def undeclared_field_errors(self, data: Mapping) -> dict[str, list[str]]:
        allowed = ", ".join(self.fields)
        return {
            str(name): [f"Unknown field. Allowed fields: {allowed}."]
            for name in data
            if name not in self.fields
        }

    def to_internal_value(self, data):
        errors = self.undeclared_field_errors(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except exceptions.ValidationError as exc:
            if not errors:
                raise
            detail = exc.detail
            if not isinstance(detail, dict):
                detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
            raise exceptions.ValidationError({**detail, **errors}) from None
        if errors:
            raise exceptions.ValidationError(errors)
        return value
