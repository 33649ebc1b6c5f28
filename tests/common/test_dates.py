"""The one strict reading of a typed day (`YYYY-MM-DD`) shared by the operator commands."""

from datetime import date

import pytest

from common.dates import parse_day


def test_a_day_in_iso_form_is_read():
    assert parse_day("2026-01-31") == date(2026, 1, 31)


@pytest.mark.parametrize(
    "text",
    ["20260131", "2026-W05-6", "2026-02-30", "2026-1-31", " 2026-01-31", "2026-01-31T00:00", ""],
)
def test_anything_else_is_not_a_day(text):
    assert parse_day(text) is None
