"""The geo `extract_parameter` rule (SPEC 3.2): a lower-case ASCII slug, words joined by '_'.

Pure Python, no database: gateway usernames embed these tokens, separated by '-'.
"""

import re

import pytest

from proxies.geo.slugs import extract_parameter

SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("California", "california"),
        ("Texas", "texas"),
        ("Berlin", "berlin"),
    ],
)
def test_single_word_becomes_lower_case(name, expected):
    assert extract_parameter(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("São Paulo", "sao_paulo"),
        ("Baden-Württemberg", "baden_wurttemberg"),
        ("Thüringen", "thuringen"),
        ("Île-de-France", "ile_de_france"),
        ("Zürich", "zurich"),
        ("Kraków", "krakow"),
        ("Ñuñoa", "nunoa"),
        ("Reykjavík", "reykjavik"),
    ],
)
def test_accents_are_folded_to_ascii(name, expected):
    assert extract_parameter(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("New York", "new_york"),
        ("Los   Angeles", "los_angeles"),
        ("  Beverly Hills  ", "beverly_hills"),
        ("North\tCarolina", "north_carolina"),
        ("Rio de Janeiro", "rio_de_janeiro"),
    ],
)
def test_spaces_become_a_single_underscore_and_are_trimmed(name, expected):
    assert extract_parameter(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # '-' separates username parts at the gateway, so it must never appear inside a token.
        ("Winston-Salem", "winston_salem"),
        ("St. Louis", "st_louis"),
        ("Coeur d'Alene", "coeur_d_alene"),
        ("Washington, D.C.", "washington_d_c"),
        ("Saint-Pierre & Miquelon", "saint_pierre_miquelon"),
        ("(Hamburg)", "hamburg"),
    ],
)
def test_punctuation_becomes_underscores_without_doubles_or_edges(name, expected):
    result = extract_parameter(name)
    assert result == expected
    assert "-" not in result


@pytest.mark.parametrize("name", ["NEW MEXICO", "new mexico", "New Mexico", "nEW mEXICO"])
def test_case_does_not_matter(name):
    assert extract_parameter(name) == "new_mexico"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("District 9", "district_9"),
        ("Région 02", "region_02"),
    ],
)
def test_digits_are_kept(name, expected):
    assert extract_parameter(name) == expected


@pytest.mark.parametrize(
    "name",
    ["Nordrhein-Westfalen", "São Tomé", "Mecklenburg-Vorpommern", "Washington, D.C.", " A  b "],
)
def test_result_is_a_clean_slug_and_stable_when_reapplied(name):
    result = extract_parameter(name)
    assert SLUG.match(result), result
    assert extract_parameter(result) == result
