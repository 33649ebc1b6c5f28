"""The dashboard's template filters (`{% load common %}`)."""

from decimal import Decimal

import pytest
from django.template import engines

from common.formatting import human_bytes
from common.templatetags.common import human_bytes as human_bytes_filter


def render(source: str, **context) -> str:
    return engines["django"].from_string("{% load common %}" + source).render(context)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.00 KB"),
        (1_500_000, "1.50 MB"),
        (1_250_000_000, "1.25 GB"),
        (3 * 10**12, "3.00 TB"),
        (10**21, "1000.00 EB"),
    ],
)
def test_human_bytes_filter_shows_what_the_function_does(value, text):
    assert render("{{ value|human_bytes }}", value=value) == text == human_bytes(value)


@pytest.mark.parametrize(
    ("value", "text"), [("1250000000", "1.25 GB"), (Decimal("1500"), "1.50 KB"), (" 42 ", "42 B")]
)
def test_human_bytes_filter_takes_whole_numbers_in_other_types(value, text):
    assert render("{{ value|human_bytes }}", value=value) == text


@pytest.mark.parametrize(
    "value", [None, "", "lots", "1e3", True, [], float("inf"), float("nan"), "9" * 5000]
)
def test_human_bytes_filter_shows_nothing_for_what_is_not_a_number_of_bytes(value):
    assert human_bytes_filter(value) == ""
    assert render("{{ value|human_bytes }}", value=value) == ""


def test_human_bytes_filter_of_a_missing_variable_renders_empty():
    assert render("[{{ missing|human_bytes }}]") == "[]"
