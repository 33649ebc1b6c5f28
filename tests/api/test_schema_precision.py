"""The OpenAPI schema says what the API enforces (A6): each rule OpenAPI can state is in the schema,
taken from the constant the validation uses; what it cannot state is in the description; empty
optional parameters mean "left out", in the schema and in the API; each operation lists the error
statuses it can answer; the created proxy's id links to the operations on it."""

import re
from datetime import date

import pytest

from api.params import (
    MAX_DAY,
    MIN_DAY,
    DateRangeParamsSerializer,
    PageParamsSerializer,
    day_pattern,
    digit_range_pattern,
)
from api.schema import NO_NUL_PATTERN
from apikeys.scopes import SCOPE_NAMES
from billing.api.serializers import BalanceHistoryParamsSerializer
from billing.models import ProxyType
from proxies.api.serializers import (
    MAX_STATISTIC_DAYS,
    STATUS_FILTER_MAX_LENGTH,
    ProxyListParamsSerializer,
)
from proxies.api.views import IDEMPOTENCY_KEY_PATTERN
from proxies.inputs import MAX_LIMIT
from proxies.selectors import ORDER_FIELDS
from stats.api.serializers import UsageExportParamsSerializer
from tests.envelope import assert_ok, assert_validation_error

pytestmark = pytest.mark.django_db

ALL_SCOPES = " ".join(sorted(SCOPE_NAMES))


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/v1/schema")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def operation(schema: dict, operation_id: str) -> dict:
    return next(op for _, _, op in operations(schema) if op["operationId"] == operation_id)


def parameter(schema: dict, operation_id: str, name: str) -> dict:
    return next(p for p in operation(schema, operation_id)["parameters"] if p["name"] == name)


# --- Parameters carry the validation's own limits ----------------------------------------------


def test_paging_parameters_state_the_serializer_limits(schema):
    fields = PageParamsSerializer().fields
    for operation_id in ("proxy_list", "user_balance_history", "geo_countries", "geo_zip"):
        limit = parameter(schema, operation_id, "limit")["schema"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (
            fields["limit"].min_value,
            fields["limit"].max_value,
            fields["limit"].default,
        )
        page = parameter(schema, operation_id, "page")["schema"]
        assert (page["minimum"], page["maximum"]) == (
            fields["page"].min_value,
            fields["page"].max_value,
        )
        assert parameter(schema, operation_id, "order")["schema"]["enum"] == list(
            fields["order"].choices
        )


def test_choices_are_enums(schema):
    assert parameter(schema, "proxy_list", "order_by")["schema"]["enum"] == list(ORDER_FIELDS)
    assert parameter(schema, "plans_list", "proxy_type")["schema"]["enum"] == ProxyType.values


@pytest.mark.parametrize(
    ("operation_id", "first", "last", "span"),
    [
        ("user_traffic", "date_from", "date_to", DateRangeParamsSerializer.max_span_days),
        (
            "user_balance_history",
            "date_from",
            "date_to",
            BalanceHistoryParamsSerializer.max_span_days,
        ),
        (
            "proxy_usage_export",
            "date_from",
            "date_to",
            UsageExportParamsSerializer.max_span_days,
        ),
        ("proxy_list", "statistic_from", "statistic_to", MAX_STATISTIC_DAYS),
        ("proxy_get", "statistic_from", "statistic_to", MAX_STATISTIC_DAYS),
    ],
)
def test_days_state_their_bounds_and_ranges_describe_order_and_span(
    schema, operation_id, first, last, span
):
    for name in (first, last):
        day = parameter(schema, operation_id, name)["schema"]
        assert day["format"] == "date"
        assert day["pattern"] == day_pattern(MIN_DAY, MAX_DAY)
    description = parameter(schema, operation_id, last)["description"]
    assert f"On or after `{first}`" in description
    assert f"at most {span} days" in description


def test_the_day_pattern_admits_exactly_the_days_the_validator_does():
    pattern = re.compile(day_pattern(MIN_DAY, MAX_DAY))
    for year in range(10000):
        expected = MIN_DAY.year <= year <= MAX_DAY.year
        assert bool(pattern.match(f"{year:04d}-06-15")) is expected, year
    assert pattern.match(MIN_DAY.isoformat()) and pattern.match(MAX_DAY.isoformat())
    assert not pattern.match("2026-1-01")
    assert not pattern.match(" 2026-01-01")


@pytest.mark.parametrize(
    ("low", "high"),
    [("0", "9"), ("3", "3"), ("00", "99"), ("07", "93"), ("1970", "9998"), ("0999", "1000")],
)
def test_digit_range_patterns_match_exactly_their_range(low, high):
    pattern = re.compile(f"^(?:{digit_range_pattern(low, high)})$")
    width = len(low)
    for number in range(10**width):
        expected = int(low) <= number <= int(high)
        assert bool(pattern.match(f"{number:0{width}d}")) is expected, number


def test_a_digit_range_needs_two_numbers_of_one_width_in_order():
    for low, high in (("1", "10"), ("9", "1"), ("1a", "20")):
        with pytest.raises(ValueError):
            digit_range_pattern(low, high)
    with pytest.raises(ValueError):
        day_pattern(date(1970, 2, 1), MAX_DAY)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "active",
        "active,suspended",
        " pending , inactive ",
        "active,,",
        ",",
        "unknown",
        "active,unknown",
        "active suspended",
        "active;pending",
        "ACTIVE",
        "active\x00",
    ],
)
def test_the_status_filter_pattern_admits_exactly_what_the_filter_accepts(schema, value):
    field = parameter(schema, "proxy_list", "status")["schema"]
    assert field["maxLength"] == STATUS_FILTER_MAX_LENGTH
    accepted = ProxyListParamsSerializer(data={"status": value}).is_valid()
    assert bool(re.search(field["pattern"], value)) is accepted


def test_free_text_says_it_takes_no_nul_and_counts_its_length_as_sent(schema, api_client, make_key):
    search = parameter(schema, "geo_countries", "search")["schema"]
    assert search["pattern"] == NO_NUL_PATTERN
    key = make_key(scopes="geo:read").key
    too_long = " " * (search["maxLength"] + 1)
    response = api_client.get("/v1/geo/countries", {"search": too_long}, HTTP_X_API_KEY=key)
    assert_validation_error(response, "search")
    at_most = " " * search["maxLength"]
    response = api_client.get("/v1/geo/countries", {"search": at_most}, HTTP_X_API_KEY=key)
    assert_ok(response)


def test_country_codes_state_their_form_and_describe_the_directory(
    schema, api_client, make_key, geo
):
    for operation_id in ("geo_states", "geo_cities", "geo_zip"):
        country_code = parameter(schema, operation_id, "country_code")
        assert country_code["required"] is True
        assert country_code["schema"]["pattern"] == "^[A-Za-z]{2}$"
        assert "GET /v1/geo/countries" in country_code["description"]
        assert "400" in country_code["description"]
    key = make_key(scopes="geo:read").key
    for code, status in (("us", 200), ("US", 200), (" us", 400), ("ZZ", 400)):
        response = api_client.get("/v1/geo/states", {"country_code": code}, HTTP_X_API_KEY=key)
        assert response.status_code == status, code


def test_the_idempotency_key_header_states_its_pattern(schema):
    header = parameter(schema, "proxy_create", "Idempotency-Key")
    assert header["in"] == "header"
    assert header["schema"]["pattern"] == f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"


def test_request_bodies_refuse_undeclared_fields_and_bound_the_limit(schema):
    components = schema["components"]["schemas"]
    for name in ("ProxyCreateInputRequest", "ProxyUpdateInputRequest", "LimitsInputRequest"):
        assert components[name]["additionalProperties"] is False, name
    total_limit = components["LimitsInputRequest"]["properties"]["total_limit"]
    assert (total_limit["minimum"], total_limit["maximum"]) == (0, int(MAX_LIMIT))
    assert components["ProxyCreateInputRequest"]["properties"]["name"]["pattern"] == (
        "^[a-z0-9_]+$"
    )


# --- Empty values: an optional parameter sent empty is left out --------------------------------

# Each GET operation with optional query parameters, with its required parameters filled in.
GET_QUERIES = {
    "/v1/geo/countries": {},
    "/v1/geo/states": {"country_code": "US"},
    "/v1/geo/cities": {"country_code": "US"},
    "/v1/geo/zip": {"country_code": "US"},
    "/v1/proxy": {},
    "/v1/proxy/{id}": {},
    "/v1/plans": {"proxy_type": "residential"},
    "/v1/user/balance-history": {"date_from": "2026-01-01", "date_to": "2026-01-31"},
}


def test_optional_query_parameters_and_only_they_admit_an_empty_value(schema):
    for path, method, op in operations(schema):
        for p in op.get("parameters", []):
            if p["in"] != "query":
                continue
            assert p.get("allowEmptyValue", False) is not p.get("required", False), (
                path,
                method,
                p["name"],
            )


def optional_query_parameters(schema: dict, path: str) -> list[str]:
    return [
        p["name"]
        for p in schema["paths"][path]["get"].get("parameters", [])
        if p["in"] == "query" and not p.get("required")
    ]


def test_every_get_operation_with_optional_parameters_is_covered_here(schema):
    listed = {path for path, method, _ in operations(schema) if method == "get"}
    assert {path for path in listed if optional_query_parameters(schema, path)} == set(GET_QUERIES)


@pytest.mark.parametrize("path", GET_QUERIES)
def test_an_empty_optional_parameter_answers_as_if_left_out(
    schema, api_client, make_key, make_proxy, funded, geo, path
):
    key = make_key(scopes=ALL_SCOPES, owner=funded).key
    url = path.format(id=make_proxy(funded).public_id)
    required = GET_QUERIES[path]
    expected = assert_ok(api_client.get(url, required, HTTP_X_API_KEY=key))
    optional = optional_query_parameters(schema, path)
    for name in optional:
        response = api_client.get(url, {**required, name: ""}, HTTP_X_API_KEY=key)
        assert assert_ok(response) == expected, name
    everything_empty = {**required, **dict.fromkeys(optional, "")}
    assert assert_ok(api_client.get(url, everything_empty, HTTP_X_API_KEY=key)) == expected


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/v1/geo/states", {"country_code": ""}, "country_code"),
        ("/v1/plans", {"proxy_type": ""}, "proxy_type"),
        ("/v1/user/traffic", {"date_from": "", "date_to": "2026-01-31"}, "date_from"),
        (
            "/v1/user/balance-history",
            {"date_from": "2026-01-01", "date_to": ""},
            "date_to",
        ),
    ],
)
def test_an_empty_required_parameter_is_refused(schema, api_client, make_key, path, query, field):
    documented = next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == field)
    assert documented["required"] is True
    assert "allowEmptyValue" not in documented
    key = make_key(scopes=ALL_SCOPES).key
    assert_validation_error(api_client.get(path, query, HTTP_X_API_KEY=key), field)


# --- Error responses per operation --------------------------------------------------------------


def test_every_operation_documents_the_errors_every_request_can_meet(schema):
    for path, method, op in operations(schema):
        responses = op["responses"]
        authenticated = bool(op.get("security"))
        expected = ("401", "403", "429", "500", "503") if authenticated else ("429", "500", "503")
        for status in expected:
            assert status in responses, (path, method, status)
            body = responses[status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorEnvelope"}
        assert "Retry-After" in responses["429"]["headers"]
        if not authenticated:
            # The leak report needs no key: it cannot answer 401 or 403.
            assert "401" not in responses and "403" not in responses, (path, method)
            continue
        assert "WWW-Authenticate" in responses["401"]["headers"]
        for scope in op["x-required-scopes"]:
            assert f"`{scope}`" in responses["403"]["description"], (path, method)


def test_only_the_leak_report_is_public(schema):
    public = [(path, method) for path, method, op in operations(schema) if not op.get("security")]
    assert public == [("/v1/credentials/revoke", "post")]


def test_404_only_where_a_path_names_an_object(schema):
    for path, method, op in operations(schema):
        assert ("404" in op["responses"]) is ("{id}" in path), (path, method)


def test_400_only_where_there_is_input_and_409_only_on_create(schema):
    without_input = {("/v1/user/balance", "get"), ("/v1/proxy/{id}", "delete")}
    for path, method, op in operations(schema):
        assert ("400" in op["responses"]) is ((path, method) not in without_input), (path, method)
        assert ("409" in op["responses"]) is (op["operationId"] == "proxy_create")
        has_body = "requestBody" in op
        assert ("415" in op["responses"]) is has_body
        assert ("413" in op["responses"]) is has_body


def test_the_schema_documents_only_the_published_operations(schema):
    assert sorted(schema["paths"]) == [
        "/v1/credentials/revoke",
        "/v1/geo/cities",
        "/v1/geo/countries",
        "/v1/geo/states",
        "/v1/geo/zip",
        "/v1/plans",
        "/v1/proxy",
        "/v1/proxy/{id}",
        "/v1/proxy/{id}/usage/export",
        "/v1/user/balance",
        "/v1/user/balance-history",
        "/v1/user/traffic",
    ]


# --- Links from the created proxy ---------------------------------------------------------------


def test_a_created_proxy_links_to_the_operations_on_its_id(schema):
    created = operation(schema, "proxy_create")["responses"]["201"]
    links = created["links"]
    assert sorted(links) == ["proxy_delete", "proxy_get", "proxy_update", "proxy_usage_export"]
    for operation_id, link in links.items():
        assert link["operationId"] == operation_id
        assert link["parameters"] == {"id": "$response.body#/data/id"}
        target = operation(schema, operation_id)
        assert any(p["in"] == "path" and p["name"] == "id" for p in target["parameters"])
    envelope = schema["components"]["schemas"]["ProxyEnvelope"]
    assert envelope["properties"]["data"] == {"$ref": "#/components/schemas/ProxyOutput"}
    assert "id" in schema["components"]["schemas"]["ProxyOutput"]["properties"]


def test_the_linked_id_is_the_one_the_operations_take(api_client, make_key, funded, plan, geo):
    """What the link promises: `data.id` of the 201 reads, changes, exports and deletes it."""
    key = make_key(scopes=ALL_SCOPES, owner=funded).key
    body = {"name": "linked", "proxy_type": plan.proxy_type, "tariff_id": plan.pk}
    created = assert_ok(api_client.post("/v1/proxy", body, format="json", HTTP_X_API_KEY=key), 201)
    proxy_id = created["data"]["id"]
    assert_ok(api_client.get(f"/v1/proxy/{proxy_id}", HTTP_X_API_KEY=key))
    change = {"description": "via the link"}
    assert_ok(api_client.put(f"/v1/proxy/{proxy_id}", change, format="json", HTTP_X_API_KEY=key))
    export = api_client.get(
        f"/v1/proxy/{proxy_id}/usage/export",
        {"date_from": "2026-01-01", "date_to": "2026-01-02"},
        HTTP_X_API_KEY=key,
    )
    assert export.status_code == 200
    assert_ok(api_client.delete(f"/v1/proxy/{proxy_id}", HTTP_X_API_KEY=key))
