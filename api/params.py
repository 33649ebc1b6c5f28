"""Query parameters of the Public API: paging (A4), UTC days and date ranges, money (A5).

Shared by the proxy, geo, stats and billing endpoints.  DRF's settings do not load this module.
"""

import re
from datetime import date

from rest_framework import exceptions, serializers

from common.dates import MAX_REPORT_DAYS


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


class ISODateField(serializers.DateField):
    """A UTC day written exactly `YYYY-MM-DD` (A5); other spellings DRF would parse are refused.

    Days are bounded so that every day of a range, and the day after it, is a valid `date` that
    renders with a four-digit year.
    """

    MIN_DATE = date(1970, 1, 1)
    MAX_DATE = date(9998, 12, 31)
    default_error_messages = {
        "out_of_range": "Use a date from 1970-01-01 to 9998-12-31.",
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


class DateRangeParamsSerializer(serializers.Serializer):
    """`date_from` and `date_to`, both required; subclasses set `max_span_days` (366 for JSON)."""

    max_span_days = MAX_REPORT_DAYS

    date_from = ISODateField(help_text="First UTC day of the range, YYYY-MM-DD (inclusive).")
    date_to = ISODateField(help_text="Last UTC day of the range, YYYY-MM-DD (inclusive).")

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
