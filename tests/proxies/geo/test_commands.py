"""`manage.py load_geo` (SPEC 3.3): loads the geo directory from data packages, idempotently,
with ids that stay put across reloads.

The session fixture has already loaded the directory for GEO_TEST_COUNTRIES; these tests run the
command again on top of it (inside the test transaction, so nothing leaks to other tests).
"""

import io

import pytest
from django.core.management import CommandError, call_command

from proxies.geo.models import City, Country, State, ZipCode
from tests.conftest import GEO_TEST_COUNTRIES

pytestmark = pytest.mark.usefixtures("geo")

MODELS = (Country, State, City, ZipCode)


def run_load_geo(*args: str) -> str:
    out = io.StringIO()
    call_command("load_geo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple]]:
    """Every row's id and natural key, per model, in a comparable form."""
    return {
        "countries": list(Country.objects.order_by("id").values_list("id", "code", "name")),
        "states": list(
            State.objects.order_by("id").values_list(
                "id", "country_id", "code", "name", "extract_parameter"
            )
        ),
        "cities": list(City.objects.order_by("id").values_list("id", "country_id", "state_id")),
        "zip_codes": list(
            ZipCode.objects.order_by("id").values_list("id", "country_id", "code", "state_id")
        ),
    }


def test_command_reports_what_it_loaded():
    # Germany alone: quick (no ZIP package to read) and still every kind of row.
    output = run_load_geo("--countries", "de")

    german_states = State.objects.filter(country__code="DE").count()
    german_cities = City.objects.filter(country__code="DE").count()
    assert german_states > 0
    assert german_cities > 0
    assert output.strip() == (
        f"Geo directory loaded: {Country.objects.count()} countries, {german_states} states, "
        f"{german_cities} cities, 0 ZIP codes."
    )


def test_every_table_is_populated():
    for model in MODELS:
        assert model.objects.exists(), model.__name__


def test_states_cities_and_zips_are_limited_to_the_requested_countries():
    loaded = set(GEO_TEST_COUNTRIES.split(","))
    assert set(State.objects.values_list("country__code", flat=True).distinct()) == loaded
    assert set(City.objects.values_list("country__code", flat=True).distinct()) == loaded
    # ZIP codes come from a US package only.
    assert set(ZipCode.objects.values_list("country__code", flat=True).distinct()) == {"US"}


def test_second_run_keeps_row_counts_and_ids():
    before = snapshot()

    run_load_geo("--countries", GEO_TEST_COUNTRIES)

    after = snapshot()
    for table in before:
        assert len(after[table]) == len(before[table]), table
        assert after[table] == before[table], table


def test_reload_repairs_edited_rows_in_place():
    bavaria = State.objects.get(country__code="DE", code="BY")
    State.objects.filter(pk=bavaria.pk).update(name="Edited", extract_parameter="edited")
    Country.objects.filter(code="FR").update(name="Edited")

    run_load_geo("--countries", "DE")

    bavaria.refresh_from_db()
    assert (bavaria.name, bavaria.extract_parameter) == ("Bayern", "bayern")
    assert State.objects.filter(country__code="DE", code="BY").count() == 1
    assert Country.objects.get(id=250).name == "France"


@pytest.mark.parametrize(
    ("code", "iso_numeric", "name"),
    [("US", 840, "United States"), ("DE", 276, "Germany"), ("FR", 250, "France")],
)
def test_country_id_is_the_iso_numeric_code(code, iso_numeric, name):
    country = Country.objects.get(code=code)
    assert country.id == iso_numeric
    assert country.name == name


def test_us_has_california_with_its_extract_parameter():
    state = State.objects.get(country_id=840, code="CA")
    assert state.name == "California"
    assert state.extract_parameter == "california"


def test_state_extract_parameter_folds_accents():
    state = State.objects.get(country__code="DE", code="BW")
    assert state.name == "Baden-Württemberg"
    assert state.extract_parameter == "baden_wurttemberg"


def test_los_angeles_is_a_city_in_california():
    city = City.objects.select_related("state", "country").get(
        country__code="US", name="Los Angeles"
    )
    assert city.state is not None
    assert (city.state.code, city.state.name) == ("CA", "California")
    assert city.extract_parameter == "los_angeles"


def test_zip_90210_is_beverly_hills_california():
    zip_code = ZipCode.objects.select_related("state").get(country__code="US", code="90210")
    assert zip_code.city == "Beverly Hills"
    assert zip_code.state is not None
    assert zip_code.state.name == "California"


@pytest.mark.parametrize(
    "countries",
    [
        "USA",  # alpha-3, not alpha-2
        "U",
        "U1",
        "12",
        "US,DEU",  # one bad code among good ones
        "U.S.",
    ],
)
def test_malformed_country_codes_are_rejected(countries):
    before = snapshot()

    with pytest.raises(CommandError) as excinfo:
        run_load_geo("--countries", countries)

    assert "alpha-2" in str(excinfo.value)
    assert snapshot() == before


@pytest.mark.parametrize("countries", ["ZZ", "UK", "DE,XX"])
def test_unknown_country_codes_are_rejected(countries):
    """A well-formed code that names no country (UK is GB in ISO 3166) is an operator's typo:
    loading nothing for it without a word would leave the directory silently incomplete."""
    with pytest.raises(CommandError):
        run_load_geo("--countries", countries)
