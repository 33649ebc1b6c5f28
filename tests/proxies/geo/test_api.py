"""Geo directory endpoints (SPEC 3.2, conventions A2-A4), through the URL with a real X-API-Key."""

import pytest

from proxies.geo.models import City, Country, State, ZipCode
from tests.envelope import assert_error, assert_ok, assert_validation_error

pytestmark = pytest.mark.usefixtures("geo")

COUNTRY_SCOPED = ["/v1/geo/states", "/v1/geo/cities", "/v1/geo/zip"]
ALL_GEO = ["/v1/geo/countries", *COUNTRY_SCOPED]


@pytest.fixture
def geo_client(api_client, make_key):
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="geo:read").key)
    return api_client


def get_ok(client, path: str, **params) -> dict:
    return assert_ok(client.get(path, params))


# --- The envelope (A2) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "item_keys"),
    [
        ("/v1/geo/countries", {}, {"id", "code", "name"}),
        ("/v1/geo/states", {"country_code": "US"}, {"id", "code", "name", "extract_parameter"}),
        ("/v1/geo/cities", {"country_code": "US"}, {"id", "name", "state", "extract_parameter"}),
        ("/v1/geo/zip", {"country_code": "US"}, {"code", "city", "state"}),
    ],
)
def test_each_endpoint_answers_in_the_envelope_with_documented_items(
    geo_client, path, params, item_keys
):
    body = assert_ok(geo_client.get(path, params))

    assert isinstance(body["data"], list)
    assert body["data"]
    assert all(set(item) == item_keys for item in body["data"])
    assert set(body["meta"]) >= {"total", "page", "limit"}


@pytest.mark.parametrize("path", ALL_GEO)
def test_trailing_slash_is_tolerated(geo_client, path):
    body = get_ok(geo_client, f"{path}/", country_code="US")
    assert body["data"]


# --- Countries ----------------------------------------------------------------------------------


def test_countries_items_carry_iso_alpha2_code_and_numeric_id(geo_client):
    body = get_ok(geo_client, "/v1/geo/countries", search="Germany")

    assert body["data"] == [{"id": 276, "code": "DE", "name": "Germany"}]
    assert body["meta"]["total"] == 1


def test_countries_search_is_case_insensitive_substring_of_name(geo_client):
    body = get_ok(geo_client, "/v1/geo/countries", search="united", limit=1000)

    names = {item["name"] for item in body["data"]}
    assert {"United States", "United Kingdom", "United Arab Emirates"} <= names
    assert all("united" in name.lower() for name in names)
    assert body["meta"]["total"] == len(body["data"])


def test_countries_search_matches_an_exact_code(geo_client):
    body = get_ok(geo_client, "/v1/geo/countries", search="us", limit=1000)

    assert "US" in {item["code"] for item in body["data"]}


# --- States -------------------------------------------------------------------------------------


def test_states_of_a_country_with_extract_parameter(geo_client):
    body = get_ok(geo_client, "/v1/geo/states", country_code="US", search="california")

    assert len(body["data"]) == 1
    state = body["data"][0]
    assert state["code"] == "CA"
    assert state["name"] == "California"
    assert state["extract_parameter"] == "california"
    assert state["id"] == State.objects.get(country__code="US", code="CA").id


def test_states_are_limited_to_the_requested_country(geo_client):
    body = get_ok(geo_client, "/v1/geo/states", country_code="DE", limit=1000)

    names = {item["name"] for item in body["data"]}
    assert "Bayern" in names
    assert "California" not in names
    assert body["meta"]["total"] == State.objects.filter(country__code="DE").count()


def test_country_code_is_case_insensitive(geo_client):
    upper = get_ok(geo_client, "/v1/geo/states", country_code="US", search="Texas")
    lower = get_ok(geo_client, "/v1/geo/states", country_code="us", search="Texas")

    assert upper["data"] == lower["data"]
    assert upper["data"][0]["extract_parameter"] == "texas"


# --- Cities -------------------------------------------------------------------------------------


def test_cities_search_finds_los_angeles_in_california(geo_client):
    body = get_ok(geo_client, "/v1/geo/cities", country_code="US", search="Los Angeles")

    los_angeles = next(item for item in body["data"] if item["name"] == "Los Angeles")
    assert los_angeles["state"] == "California"
    assert los_angeles["extract_parameter"] == "los_angeles"
    assert all("los angeles" in item["name"].lower() for item in body["data"])


def test_cities_region_filter_keeps_only_that_state(geo_client):
    everywhere = get_ok(geo_client, "/v1/geo/cities", country_code="US", limit=1)
    body = get_ok(geo_client, "/v1/geo/cities", country_code="US", region="california", limit=1000)

    assert body["data"]
    assert {item["state"] for item in body["data"]} == {"California"}
    expected = City.objects.filter(country__code="US", state__name="California").count()
    assert body["meta"]["total"] == expected
    assert body["meta"]["total"] < everywhere["meta"]["total"]


def test_cities_region_and_search_combine(geo_client):
    body = get_ok(
        geo_client, "/v1/geo/cities", country_code="US", region="Texas", search="Los Angeles"
    )

    assert body["data"] == []
    assert body["meta"]["total"] == 0


# --- ZIP codes ----------------------------------------------------------------------------------


def test_zip_city_filter_finds_90210_in_beverly_hills(geo_client):
    body = get_ok(geo_client, "/v1/geo/zip", country_code="US", city="beverly hills", limit=1000)

    assert {"code": "90210", "city": "Beverly Hills", "state": "California"} in body["data"]
    assert {item["city"] for item in body["data"]} == {"Beverly Hills"}
    assert body["meta"]["total"] == ZipCode.objects.filter(city="Beverly Hills").count()


def test_zip_search_matches_a_code_prefix(geo_client):
    body = get_ok(geo_client, "/v1/geo/zip", country_code="US", search="9021", limit=1000)

    codes = [item["code"] for item in body["data"]]
    assert "90210" in codes
    # `search` is a code prefix (or part of a city name, and no city name has digits).
    assert codes
    assert all(code.startswith("9021") for code in codes)


# --- Paging (A4) --------------------------------------------------------------------------------


def test_paging_defaults_limit_100_page_0_order_desc(geo_client):
    body = get_ok(geo_client, "/v1/geo/countries")

    total = Country.objects.count()
    assert total > 100
    assert body["meta"] == {"total": total, "page": 0, "limit": 100}
    assert len(body["data"]) == 100
    names = [item["name"] for item in body["data"]]
    everything = sorted(Country.objects.values_list("name", flat=True), reverse=True)
    assert names == everything[:100]


def test_limit_of_1000_is_allowed(geo_client):
    body = get_ok(geo_client, "/v1/geo/zip", country_code="US", limit=1000)

    assert len(body["data"]) == 1000
    assert body["meta"]["limit"] == 1000
    assert body["meta"]["total"] > 1000


def test_order_asc_and_desc_sort_by_name(geo_client):
    ascending = get_ok(geo_client, "/v1/geo/countries", order="asc", limit=1000)["data"]
    descending = get_ok(geo_client, "/v1/geo/countries", order="desc", limit=1000)["data"]

    names = [item["name"] for item in ascending]
    assert names == sorted(names)
    assert len(names) == Country.objects.count()
    assert descending == list(reversed(ascending))


def test_pages_are_zero_based_consecutive_slices(geo_client):
    everything = get_ok(geo_client, "/v1/geo/states", country_code="US", order="asc", limit=1000)
    first = get_ok(geo_client, "/v1/geo/states", country_code="US", order="asc", limit=5, page=0)
    second = get_ok(geo_client, "/v1/geo/states", country_code="US", order="asc", limit=5, page=1)

    assert first["data"] == everything["data"][:5]
    assert second["data"] == everything["data"][5:10]
    total = everything["meta"]["total"]
    assert second["meta"] == {"total": total, "page": 1, "limit": 5}


def test_page_past_the_end_is_empty_but_reports_the_total(geo_client):
    body = get_ok(geo_client, "/v1/geo/states", country_code="DE", limit=100, page=5)

    assert body["data"] == []
    assert body["meta"] == {
        "total": State.objects.filter(country__code="DE").count(),
        "page": 5,
        "limit": 100,
    }


# --- Invalid input (A3) -------------------------------------------------------------------------


@pytest.mark.parametrize("path", COUNTRY_SCOPED)
def test_missing_country_code_is_a_validation_error(geo_client, path):
    body = assert_validation_error(geo_client.get(path), "country_code")
    assert any("required" in message for message in body["meta"]["fields"]["country_code"])


@pytest.mark.parametrize("path", COUNTRY_SCOPED)
@pytest.mark.parametrize("code", ["XX", "ZZ"])
def test_unknown_country_code_is_a_validation_error(geo_client, path, code):
    body = assert_validation_error(geo_client.get(path, {"country_code": code}), "country_code")
    assert code in body["meta"]["fields"]["country_code"][0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"page": "-1"}, "page"),
        ({"page": "one"}, "page"),
        ({"order": "sideways"}, "order"),
        ({"order": "ASC "}, "order"),
        ({"country_code": "USA"}, "country_code"),
        ({"country_code": "1"}, "country_code"),
        ({"country_code": "U1"}, "country_code"),
        ({"country_code": ""}, "country_code"),
        ({"search": "x" * 101}, "search"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(geo_client, params, field):
    query = {"country_code": "US", **params}
    assert_validation_error(geo_client.get("/v1/geo/states", query), field)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/geo/countries", {"limit": "1001"}, "limit"),
        ("/v1/geo/cities", {"country_code": "US", "page": "-1"}, "page"),
        ("/v1/geo/zip", {"country_code": "US", "order": "sideways"}, "order"),
    ],
)
def test_every_endpoint_validates_paging(geo_client, path, params, field):
    assert_validation_error(geo_client.get(path, params), field)


def test_several_bad_fields_are_all_reported(geo_client):
    body = assert_validation_error(
        geo_client.get("/v1/geo/cities", {"limit": "0", "order": "up"}), "limit"
    )
    assert set(body["meta"]["fields"]) == {"limit", "order", "country_code"}


# --- Scope (K21) --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_GEO)
def test_key_without_geo_read_gets_403_naming_the_scope(api_client, make_key, path):
    key = make_key(scopes="proxies:read proxies:write stats:read balance:read")
    api_client.credentials(HTTP_X_API_KEY=key.key)

    body = assert_error(api_client.get(path, {"country_code": "US"}), 403, "insufficient_scope")

    assert "geo:read" in body["error"]
    assert body["meta"]["required_scopes"] == ["geo:read"]


def test_bearer_header_is_accepted_too(api_client, make_key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(scopes='geo:read').key}")

    body = get_ok(api_client, "/v1/geo/countries", search="Germany")

    assert body["data"][0]["code"] == "DE"


# --- Query count --------------------------------------------------------------------------------


def test_geo_list_costs_a_constant_number_of_queries(
    api_client, make_key, django_assert_num_queries
):
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="geo:read").key)
    # The key's first use also writes last_used_at (K15, at most once a minute); do it beforehand
    # so the pinned request is the steady state.
    get_ok(api_client, "/v1/geo/cities", country_code="US")

    # 1. the key lookup (key joined to its owner, K22)
    # 2. the country lookup by code
    # 3. COUNT(*) of the filtered cities for meta.total
    # 4. the page itself, cities joined to their state (no N+1 for `state`)
    with django_assert_num_queries(4):
        body = get_ok(api_client, "/v1/geo/cities", country_code="US", limit=1000)

    assert len(body["data"]) == min(1000, City.objects.filter(country__code="US").count())


def test_first_use_of_a_key_adds_only_the_last_used_write(
    api_client, make_key, django_assert_num_queries
):
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="geo:read").key)

    # key lookup, last-used UPDATE (K15), then country lookup, count and page as above.
    with django_assert_num_queries(5):
        body = get_ok(api_client, "/v1/geo/zip", country_code="US", limit=1000)

    assert len(body["data"]) == min(1000, ZipCode.objects.filter(country__code="US").count())
