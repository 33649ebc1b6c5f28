"""Proxy endpoints of the Public API (SPEC 3.2, A4, A8-A10), through the URL with a real X-API-Key."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Transaction
from proxies.models import Proxy, ProxyStatus, UsageDaily
from tests.envelope import assert_error, assert_not_found, assert_ok, assert_validation_error
from tests.factories import PlanFactory, ProxyFactory, UsageDailyFactory, UserFactory

pytestmark = pytest.mark.usefixtures("geo")

PROXY_KEYS = {
    "id",
    "name",
    "proxy_type",
    "status",
    "tariff",
    "countries",
    "description",
    "ip_whitelist",
    "limits",
    "traffic_used",
    "total_spent",
    "created_at",
}
US, DE = 840, 276
GB = 10**9


def today() -> date:
    return timezone.now().astimezone(UTC).date()


# --- Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def client(api_client, make_key, funded):
    """Reads and writes proxies and reads stats, for an account with funds."""
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="proxies:read proxies:write").key)
    return api_client


@pytest.fixture
def create(client, plan):
    def create(**fields) -> dict:
        body = {"name": "main", "proxy_type": "residential", "tariff_id": plan.pk, **fields}
        response = client.post("/v1/proxy", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["data"]

    return create


def snapshot(proxy: Proxy) -> tuple:
    proxy = Proxy.objects.get(pk=proxy.pk)
    return (
        proxy.name,
        proxy.description,
        proxy.ip_whitelist,
        proxy.limit_type,
        proxy.limit_period,
        proxy.limit_total,
        proxy.enabled,
        proxy.status,
        proxy.plan_id,
        proxy.deleted_at,
        sorted(proxy.countries.values_list("pk", flat=True)),
    )


# --- Create and read ----------------------------------------------------------------------------


def test_create_answers_201_with_the_proxy_object(client, plan):
    body = {
        "name": "scraper_1",
        "proxy_type": "residential",
        "tariff_id": plan.pk,
        "countries": [US, DE, US],
        "description": "  Price monitoring  ",
        "ip_whitelist": ["203.0.113.7", "10.0.0.0/24", "2001:db8::/32", "203.0.113.7"],
        "limits": {"limit_type": "money", "time_period": "monthly", "total_limit": 25.5},
    }
    response = client.post("/v1/proxy", body, format="json")

    data = assert_ok(response, 201)["data"]
    assert set(data) == PROXY_KEYS
    assert re.fullmatch(r"[A-Za-z0-9]{6}", data["id"])
    assert data["name"] == "scraper_1"
    assert data["proxy_type"] == "residential"
    assert data["status"] == "active"
    assert data["tariff"] == {"id": plan.pk, "name": "Residential Standard"}
    assert data["countries"] == [
        {"id": DE, "code": "DE", "name": "Germany"},
        {"id": US, "code": "US", "name": "United States"},
    ]
    assert data["description"] == "Price monitoring"
    assert data["ip_whitelist"] == ["203.0.113.7", "10.0.0.0/24", "2001:db8::/32"]
    assert data["limits"] == {"limit_type": "money", "time_period": "monthly", "total_limit": 25.5}
    assert data["traffic_used"] == {
        "total_used": 0,
        "requests": 0,
        "period_from": today().replace(day=1).isoformat(),
        "period_to": today().isoformat(),
    }
    assert data["total_spent"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["created_at"])
    proxy = Proxy.objects.get(public_id=data["id"])
    assert proxy.limit_total == Decimal("25.50")


def test_create_then_get_returns_the_same_object(client, create):
    created = create(
        countries=[US],
        ip_whitelist=["198.51.100.1"],
        limits={"limit_type": "traffic", "time_period": "daily", "total_limit": 5 * GB},
    )

    fetched = assert_ok(client.get(f"/v1/proxy/{created['id']}"))["data"]

    assert fetched == created
    assert fetched["limits"]["total_limit"] == 5 * GB
    assert isinstance(fetched["limits"]["total_limit"], int)


def test_minimal_create_has_no_limit_and_empty_lists(create):
    data = create()
    assert data["limits"] is None
    assert data["countries"] == []
    assert data["ip_whitelist"] == []
    assert data["description"] == ""


def test_trailing_slash_is_tolerated(client, create):
    proxy = create()
    assert assert_ok(client.get("/v1/proxy/"))["data"][0]["id"] == proxy["id"]
    assert assert_ok(client.get(f"/v1/proxy/{proxy['id']}/"))["data"]["id"] == proxy["id"]


def test_without_funds_a_new_proxy_is_suspended(api_client, make_key, plan, other_user):
    key = make_key(scopes="proxies:write", owner=other_user)
    body = {"name": "broke", "proxy_type": "residential", "tariff_id": plan.pk}
    response = api_client.post("/v1/proxy", body, format="json", HTTP_X_API_KEY=key.key)
    assert assert_ok(response, 201)["data"]["status"] == "suspended"


def test_name_must_be_unique_per_account(client, create, plan, other_user):
    create(name="dup")
    response = client.post(
        "/v1/proxy",
        {"name": "dup", "proxy_type": "residential", "tariff_id": plan.pk},
        format="json",
    )
    assert_validation_error(response, "name")
    assert Proxy.objects.filter(name="dup").count() == 1
    ProxyFactory(owner=other_user, name="taken_elsewhere", plan=plan)
    assert create(name="taken_elsewhere")["name"] == "taken_elsewhere"


def test_name_of_a_deleted_proxy_can_be_reused(client, create):
    first = create(name="again")
    assert_ok(client.delete(f"/v1/proxy/{first['id']}"))
    second = create(name="again")
    assert second["id"] != first["id"]


# --- Bad input on create (nothing written) ------------------------------------------------------

LONG_IP_LIST = [f"10.0.{i // 256}.{i % 256}" for i in range(101)]


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        # names
        ("name", {"name": "Upper"}),
        ("name", {"name": "with-dash"}),
        ("name", {"name": "with space"}),
        ("name", {"name": " padded"}),
        ("name", {"name": ""}),
        ("name", {"name": "a" * 65}),
        ("name", {"name": 5}),
        ("name", {"name": None}),
        ("name", {"name": ["main"]}),
        # proxy type
        ("proxy_type", {"proxy_type": "datacenter"}),
        ("proxy_type", {"proxy_type": 1}),
        # IP whitelist
        ("ip_whitelist", {"ip_whitelist": ["999.1.1.1"]}),
        ("ip_whitelist", {"ip_whitelist": ["10.0.0.1/33"]}),
        ("ip_whitelist", {"ip_whitelist": ["10.0.0.7/24"]}),
        ("ip_whitelist", {"ip_whitelist": [""]}),
        ("ip_whitelist", {"ip_whitelist": [5]}),
        ("ip_whitelist", {"ip_whitelist": "10.0.0.1"}),
        ("ip_whitelist", {"ip_whitelist": 5}),
        ("ip_whitelist", {"ip_whitelist": LONG_IP_LIST}),
        # limits
        ("limits", {"limits": {"limit_type": "bytes", "time_period": "daily", "total_limit": 1}}),
        ("limits", {"limits": {"limit_type": "money", "time_period": "weekly", "total_limit": 1}}),
        ("limits", {"limits": {"limit_type": "money", "time_period": "daily", "total_limit": -1}}),
        ("limits", {"limits": {"limit_type": "money", "time_period": "daily", "total_limit": "9"}}),
        (
            "limits",
            {"limits": {"limit_type": "money", "time_period": "daily", "total_limit": True}},
        ),
        (
            "limits",
            {"limits": {"limit_type": "traffic", "time_period": "daily", "total_limit": 1.5}},
        ),
        (
            "limits",
            {"limits": {"limit_type": "money", "time_period": "daily", "total_limit": 1.005}},
        ),
        (
            "limits",
            {"limits": {"limit_type": "money", "time_period": "daily", "total_limit": 1e16}},
        ),
        ("limits", {"limits": {"limit_type": "money", "time_period": "daily"}}),
        (
            "limits",
            {
                "limits": {
                    "limit_type": "money",
                    "time_period": "daily",
                    "total_limit": 1,
                    "currency": "EUR",
                }
            },
        ),
        ("limits", {"limits": "10 USD"}),
        ("limits", {"limits": [1]}),
        # countries
        ("countries", {"countries": [999]}),
        ("countries", {"countries": [10**30]}),
        ("countries", {"countries": [0]}),
        ("countries", {"countries": ["840"]}),
        ("countries", {"countries": [840.0]}),
        ("countries", {"countries": [True]}),
        ("countries", {"countries": "840"}),
        ("countries", {"countries": 840}),
        # description
        ("description", {"description": 5}),
        ("description", {"description": "x" * 501}),
    ],
)
def test_bad_create_input_is_400_per_field_and_writes_nothing(client, plan, field, overrides):
    body = {"name": "main", "proxy_type": "residential", "tariff_id": plan.pk, **overrides}
    before = (Proxy.objects.count(), Transaction.objects.count())

    assert_validation_error(client.post("/v1/proxy", body, format="json"), field)

    assert (Proxy.objects.count(), Transaction.objects.count()) == before


@pytest.mark.parametrize("tariff", ["disabled", "other_type", "unknown", "string", "missing"])
def test_bad_tariff_is_400_and_writes_nothing(client, tariff):
    tariff_ids = {
        "disabled": PlanFactory(disabled=True).pk,
        "other_type": PlanFactory(mobile=True).pk,
        "unknown": 987654,
        "string": str(PlanFactory().pk),
    }
    body = {"name": "main", "proxy_type": "residential"}
    if tariff != "missing":
        body["tariff_id"] = tariff_ids[tariff]

    assert_validation_error(client.post("/v1/proxy", body, format="json"), "tariff_id")

    assert not Proxy.objects.exists()


def test_required_fields_are_each_named(client):
    body = assert_validation_error(client.post("/v1/proxy", {}, format="json"), "name")
    assert {"name", "proxy_type", "tariff_id"} <= set(body["meta"]["fields"])


def test_unknown_body_fields_are_400_naming_them(client, plan):
    body = {
        "name": "main",
        "proxy_type": "residential",
        "tariff_id": plan.pk,
        "colour": "red",
        "owner_id": 1,
    }
    response = client.post("/v1/proxy", body, format="json")

    error = assert_validation_error(response, "colour")
    assert "owner_id" in error["meta"]["fields"]
    assert not Proxy.objects.exists()


def test_several_bad_fields_are_reported_together(client, plan):
    body = {"name": 7, "proxy_type": "residential", "tariff_id": plan.pk, "countries": "US", "x": 1}
    fields = assert_validation_error(client.post("/v1/proxy", body, format="json"), "name")
    assert {"name", "countries", "x"} <= set(fields["meta"]["fields"])


@pytest.mark.parametrize("payload", [[{"name": "main"}], "main", 5])
def test_a_body_that_is_not_an_object_is_400(client, payload):
    response = client.post("/v1/proxy", payload, format="json")
    assert_error(response, 400, "validation_error")
    assert not Proxy.objects.exists()


# --- List ---------------------------------------------------------------------------------------


@pytest.fixture
def fleet(user, plan):
    """Four proxies of the account in every status, with usage this month and last month."""
    cheap = PlanFactory(title="Alpha", price_per_gb=Decimal("1.00"))
    proxies = {
        "delta": ProxyFactory(owner=user, name="delta", plan=plan, status="active"),
        "alpha": ProxyFactory(owner=user, name="alpha", plan=cheap, status="inactive"),
        "charlie": ProxyFactory(owner=user, name="charlie", plan=plan, status="suspended"),
        "bravo": ProxyFactory(owner=user, name="bravo", plan=cheap, status="pending"),
    }
    now = timezone.now()
    for offset, name in enumerate(["alpha", "bravo", "charlie", "delta"]):
        proxy = proxies[name]
        Proxy.objects.filter(pk=proxy.pk).update(created_at=now - timedelta(hours=10 - offset))
        UsageDailyFactory(
            proxy=proxy, date=today(), traffic_bytes=(offset + 1) * GB, requests=10 * (offset + 1)
        )
    return proxies


def names(response) -> list[str]:
    return [item["name"] for item in assert_ok(response)["data"]]


def test_list_returns_only_the_accounts_live_proxies(client, fleet, other_user, plan):
    ProxyFactory(owner=other_user, plan=plan, name="foreign")
    ProxyFactory(owner=fleet["alpha"].owner, plan=plan, name="gone", deleted_at=timezone.now())

    body = assert_ok(client.get("/v1/proxy"))

    assert sorted(item["name"] for item in body["data"]) == ["alpha", "bravo", "charlie", "delta"]
    assert all(set(item) == PROXY_KEYS for item in body["data"])
    assert body["meta"] == {"total": 4, "page": 0, "limit": 100}


def test_list_defaults_to_newest_first(client, fleet):
    assert names(client.get("/v1/proxy")) == ["delta", "charlie", "bravo", "alpha"]


@pytest.mark.parametrize(
    ("order_by", "ascending"),
    [
        ("name", ["alpha", "bravo", "charlie", "delta"]),
        ("status", ["delta", "alpha", "bravo", "charlie"]),
        ("tariff.name", ["alpha", "bravo", "charlie", "delta"]),
        ("traffic_used.total_used", ["alpha", "bravo", "charlie", "delta"]),
        ("total_spent", ["alpha", "bravo", "charlie", "delta"]),
        ("created_at", ["alpha", "bravo", "charlie", "delta"]),
    ],
)
def test_every_documented_order_by(client, fleet, order_by, ascending):
    UsageDaily.objects.filter(proxy__name__in=["alpha", "bravo"]).update(cost=Decimal("0.50"))
    UsageDaily.objects.filter(proxy=fleet["bravo"]).update(cost=Decimal("0.75"))
    UsageDaily.objects.filter(proxy=fleet["charlie"]).update(cost=Decimal("3.00"))
    UsageDaily.objects.filter(proxy=fleet["delta"]).update(cost=Decimal("4.00"))

    asc = names(client.get("/v1/proxy", {"order_by": order_by, "order": "asc"}))
    desc = names(client.get("/v1/proxy", {"order_by": order_by, "order": "desc"}))

    if order_by in ("status", "tariff.name"):
        # Ties (same status or plan) fall back to the id, so compare the sort keys.
        key = {
            "status": lambda n: fleet[n].status,
            "tariff.name": lambda n: fleet[n].plan.title,
        }[order_by]
        assert [key(n) for n in asc] == sorted(key(n) for n in asc)
        assert [key(n) for n in desc] == sorted((key(n) for n in desc), reverse=True)
    else:
        assert asc == ascending
        assert desc == ascending[::-1]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["delta"]),
        ("active,inactive", ["alpha", "delta"]),
        ("pending, suspended", ["bravo", "charlie"]),
        ("", ["alpha", "bravo", "charlie", "delta"]),
    ],
)
def test_status_filter_takes_a_comma_list(client, fleet, status, expected):
    assert sorted(names(client.get("/v1/proxy", {"status": status}))) == expected


def test_search_matches_part_of_the_name_in_any_case(client, fleet):
    assert names(client.get("/v1/proxy", {"search": "CHAR"})) == ["charlie"]
    assert names(client.get("/v1/proxy", {"search": "zzz"})) == []


def test_paging_reports_total_page_and_limit(client, fleet):
    body = assert_ok(
        client.get("/v1/proxy", {"order_by": "name", "order": "asc", "limit": 3, "page": 1})
    )
    assert [item["name"] for item in body["data"]] == ["delta"]
    assert body["meta"] == {"total": 4, "page": 1, "limit": 3}


def test_traffic_figures_cover_the_current_month_by_default(client, fleet):
    last_month = today().replace(day=1) - timedelta(days=1)
    UsageDailyFactory(proxy=fleet["delta"], date=last_month, traffic_bytes=7 * GB, requests=5)

    item = assert_ok(client.get("/v1/proxy", {"search": "delta"}))["data"][0]

    assert item["traffic_used"] == {
        "total_used": 4 * GB,
        "requests": 40,
        "period_from": today().replace(day=1).isoformat(),
        "period_to": today().isoformat(),
    }
    assert item["total_spent"] == 4.0


def test_statistic_period_chooses_the_traffic_figures(client, fleet):
    last_month = today().replace(day=1) - timedelta(days=1)
    UsageDailyFactory(
        proxy=fleet["delta"], date=last_month, traffic_bytes=7 * GB, requests=5, cost="28.00"
    )
    params = {"search": "delta", "statistic_from": last_month.isoformat()}

    last_only = {**params, "statistic_to": last_month.isoformat()}
    only_last = assert_ok(client.get("/v1/proxy", last_only))["data"][0]
    both = assert_ok(client.get("/v1/proxy", {**params, "statistic_to": today().isoformat()}))[
        "data"
    ][0]

    assert only_last["traffic_used"]["total_used"] == 7 * GB
    assert only_last["traffic_used"]["period_to"] == last_month.isoformat()
    assert only_last["total_spent"] == 28.0
    assert both["traffic_used"]["total_used"] == 11 * GB
    assert both["traffic_used"]["requests"] == 45
    assert both["total_spent"] == 32.0


def test_detail_accepts_the_statistic_period_too(client, fleet):
    last_month = today().replace(day=1) - timedelta(days=1)
    params = {"statistic_from": last_month.isoformat(), "statistic_to": last_month.isoformat()}
    data = assert_ok(client.get(f"/v1/proxy/{fleet['delta'].public_id}", params))["data"]
    assert data["traffic_used"]["total_used"] == 0
    assert data["traffic_used"]["period_from"] == last_month.isoformat()


@pytest.mark.parametrize(
    ("field", "params"),
    [
        ("limit", {"limit": 0}),
        ("limit", {"limit": 1001}),
        ("limit", {"limit": "abc"}),
        ("page", {"page": -1}),
        ("page", {"page": "x"}),
        ("order", {"order": "up"}),
        ("order_by", {"order_by": "owner"}),
        ("order_by", {"order_by": "tariff__title"}),
        ("status", {"status": "deleted"}),
        ("status", {"status": "active,bogus"}),
        ("statistic_from", {"statistic_from": "2026-13-01"}),
        ("statistic_from", {"statistic_from": "01/02/2026"}),
        ("statistic_to", {"statistic_to": "yesterday"}),
        ("statistic_from", {"statistic_from": "0001-01-01"}),
        ("statistic_to", {"statistic_to": "9999-12-31"}),
        ("statistic_from", {"statistic_from": "2026-03-02", "statistic_to": "2026-03-01"}),
        ("statistic_to", {"statistic_from": "2024-01-01", "statistic_to": "2025-12-31"}),
        ("search", {"search": "x" * 101}),
    ],
)
def test_bad_list_parameters_are_400_naming_the_field(client, fleet, field, params):
    assert_validation_error(client.get("/v1/proxy", params), field)


def test_unknown_order_by_names_the_allowed_values(client):
    body = assert_validation_error(client.get("/v1/proxy", {"order_by": "owner"}), "order_by")
    message = body["meta"]["fields"]["order_by"][0]
    for allowed in ("name", "status", "tariff.name", "traffic_used.total_used", "total_spent"):
        assert allowed in message


def test_unknown_status_names_the_allowed_values(client):
    body = assert_validation_error(client.get("/v1/proxy", {"status": "bogus"}), "status")
    message = body["meta"]["fields"]["status"][0]
    assert "bogus" in message
    assert all(s in message for s in ("active", "pending", "inactive", "suspended"))


@pytest.mark.parametrize("count", [1, 5])
def test_list_runs_a_constant_number_of_queries(
    client, user, plan, count, django_assert_num_queries
):
    for index in range(count):
        proxy = ProxyFactory(owner=user, plan=plan, name=f"p{index}")
        proxy.countries.set([US, DE])
        UsageDailyFactory(proxy=proxy)
    assert_ok(client.get("/v1/proxy"))  # the key's last-used write happens on first use only

    # key lookup, limit-reset check, count, page, countries
    with django_assert_num_queries(5):
        body = assert_ok(client.get("/v1/proxy"))

    assert len(body["data"]) == count
    assert all(len(item["countries"]) == 2 for item in body["data"])


# --- Update -------------------------------------------------------------------------------------


def test_put_changes_fields_and_status(client, create):
    proxy = create(countries=[US], ip_whitelist=["10.0.0.1"])
    url = f"/v1/proxy/{proxy['id']}"
    body = {
        "description": "new text",
        "countries": [DE],
        "ip_whitelist": ["192.0.2.0/24", "192.0.2.0/24"],
        "limits": {"limit_type": "traffic", "time_period": "monthly", "total_limit": 10 * GB},
        "status": "inactive",
    }

    data = assert_ok(client.put(url, body, format="json"))["data"]

    assert data["description"] == "new text"
    assert [c["id"] for c in data["countries"]] == [DE]
    assert data["ip_whitelist"] == ["192.0.2.0/24"]
    assert data["limits"] == {
        "limit_type": "traffic",
        "time_period": "monthly",
        "total_limit": 10 * GB,
    }
    assert data["status"] == "inactive"
    assert assert_ok(client.get(url))["data"] == data

    reactivated = assert_ok(client.put(url, {"status": "active"}, format="json"))["data"]
    assert reactivated["status"] == "active"
    assert reactivated["description"] == "new text"  # left-out fields keep their value


def test_put_with_null_limits_removes_the_limit(client, create):
    proxy = create(limits={"limit_type": "money", "time_period": "daily", "total_limit": 3})
    data = assert_ok(client.put(f"/v1/proxy/{proxy['id']}", {"limits": None}, format="json"))[
        "data"
    ]
    assert data["limits"] is None
    assert Proxy.objects.get(public_id=proxy["id"]).limit_type == ""


@pytest.mark.parametrize("field", ["name", "proxy_type", "tariff_id"])
def test_put_refuses_to_change_name_type_or_plan(client, create, field):
    proxy = create()
    other_plan = PlanFactory()
    changed = {"name": "renamed", "proxy_type": "mobile", "tariff_id": other_plan.pk}[field]
    stored = Proxy.objects.get(public_id=proxy["id"])
    before = snapshot(stored)

    body = assert_validation_error(
        client.put(f"/v1/proxy/{proxy['id']}", {field: changed, "description": "x"}, format="json"),
        field,
    )

    assert "cannot be changed" in body["meta"]["fields"][field][0]
    assert snapshot(stored) == before


def test_put_accepts_the_current_name_type_and_plan_unchanged(client, create):
    proxy = create()
    body = {
        "name": proxy["name"],
        "proxy_type": proxy["proxy_type"],
        "tariff_id": proxy["tariff"]["id"],
        "description": "echoed",
    }
    data = assert_ok(client.put(f"/v1/proxy/{proxy['id']}", body, format="json"))["data"]
    assert data["description"] == "echoed"


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("status", {"status": "suspended"}),
        ("status", {"status": "pending"}),
        ("status", {"status": True}),
        ("description", {"description": ["x"]}),
        ("countries", {"countries": [999]}),
        ("countries", {"countries": "DE"}),
        ("ip_whitelist", {"ip_whitelist": ["10.0.0.7/24"]}),
        ("ip_whitelist", {"ip_whitelist": None}),
        (
            "limits",
            {"limits": {"limit_type": "traffic", "time_period": "daily", "total_limit": 0.5}},
        ),
        ("limits", {"limits": {"limit_type": "money", "time_period": "yearly", "total_limit": 5}}),
        ("enabled", {"enabled": False}),
        ("id", {"id": "abcdef"}),
    ],
)
def test_bad_update_is_400_and_changes_nothing(client, create, field, body):
    proxy = create(description="keep", countries=[US], ip_whitelist=["10.0.0.1"])
    stored = Proxy.objects.get(public_id=proxy["id"])
    before = snapshot(stored)

    response = client.put(
        f"/v1/proxy/{proxy['id']}", {"description": "changed", **body}, format="json"
    )

    assert_validation_error(response, field)
    assert snapshot(stored) == before


# --- Delete -------------------------------------------------------------------------------------


def test_delete_answers_200_with_null_data_and_keeps_usage_and_ledger(client, create, user, record):
    proxy = create()
    stored = Proxy.objects.get(public_id=proxy["id"])
    record(stored, GB, 3)
    usage_rows, ledger_rows = UsageDaily.objects.count(), Transaction.objects.count()

    body = assert_ok(client.delete(f"/v1/proxy/{proxy['id']}"))

    assert body["data"] is None
    assert_not_found(client.get(f"/v1/proxy/{proxy['id']}"))
    assert assert_ok(client.get("/v1/proxy"))["data"] == []
    assert UsageDaily.objects.count() == usage_rows == 1
    assert Transaction.objects.count() == ledger_rows == 2  # the top-up and the charge
    stored.refresh_from_db()
    assert stored.deleted_at is not None
    assert_not_found(client.delete(f"/v1/proxy/{proxy['id']}"))
    assert_not_found(client.put(f"/v1/proxy/{proxy['id']}", {"status": "active"}, format="json"))
    stored.refresh_from_db()
    assert stored.enabled is False


# --- Limits (A10) -------------------------------------------------------------------------------


def test_reaching_the_limit_suspends_and_raising_or_removing_it_reactivates(client, create, record):
    proxy = create(limits={"limit_type": "traffic", "time_period": "daily", "total_limit": GB})
    url = f"/v1/proxy/{proxy['id']}"
    stored = Proxy.objects.get(public_id=proxy["id"])

    record(stored, GB)
    assert assert_ok(client.get(url))["data"]["status"] == "suspended"
    assert names(client.get("/v1/proxy", {"status": "suspended"})) == ["main"]

    raised = {"limits": {"limit_type": "traffic", "time_period": "daily", "total_limit": 2 * GB}}
    assert assert_ok(client.put(url, raised, format="json"))["data"]["status"] == "active"

    record(stored, GB)
    assert assert_ok(client.get(url))["data"]["status"] == "suspended"

    removed = assert_ok(client.put(url, {"limits": None}, format="json"))["data"]
    assert removed["status"] == "active"
    assert removed["limits"] is None


def test_money_limit_counts_charges(client, create, record):
    proxy = create(limits={"limit_type": "money", "time_period": "monthly", "total_limit": 4})
    stored = Proxy.objects.get(public_id=proxy["id"])
    record(stored, GB)  # $4.00

    data = assert_ok(client.get(f"/v1/proxy/{proxy['id']}"))["data"]

    assert data["status"] == "suspended"
    assert data["total_spent"] == 4.0
    assert data["traffic_used"]["total_used"] == GB


def test_a_limit_suspension_whose_period_ended_reads_as_active(client, create, record):
    proxy = create(limits={"limit_type": "traffic", "time_period": "daily", "total_limit": 100})
    stored = Proxy.objects.get(public_id=proxy["id"])
    yesterday_noon = datetime.combine(today() - timedelta(days=1), datetime.min.time(), UTC)
    yesterday_noon += timedelta(hours=12)
    record(stored, 100, now=yesterday_noon)
    stored.refresh_from_db()
    assert stored.status == ProxyStatus.SUSPENDED  # until 00:00 UTC today, already past

    assert names(client.get("/v1/proxy", {"status": "active"})) == ["main"]
    assert assert_ok(client.get(f"/v1/proxy/{proxy['id']}"))["data"]["status"] == "active"


# --- Tenant isolation and unknown ids (A8) ------------------------------------------------------


@pytest.fixture
def foreign_proxy(other_user, plan, fund):
    fund(other_user, "10.00")
    proxy = ProxyFactory(owner=other_user, plan=plan, name="theirs", description="private")
    proxy.countries.set([US])
    return proxy


@pytest.mark.parametrize(
    ("method", "suffix", "kwargs"),
    [
        ("get", "", {}),
        ("put", "", {"data": {"description": "hijacked", "status": "inactive"}, "format": "json"}),
        ("delete", "", {}),
        ("get", "/usage/export", {"data": {"date_from": "2026-01-01", "date_to": "2026-01-31"}}),
    ],
)
def test_another_accounts_proxy_is_404_and_untouched(
    api_client, make_key, make_proxy, foreign_proxy, method, suffix, kwargs
):
    key = make_key(scopes="proxies:read proxies:write stats:read")
    before = snapshot(foreign_proxy)

    response = getattr(api_client, method)(
        f"/v1/proxy/{foreign_proxy.public_id}{suffix}", HTTP_X_API_KEY=key.key, **kwargs
    )

    assert_not_found(response)
    assert snapshot(foreign_proxy) == before
    # The same request for the key owner's own proxy is served: the 404 is the owner check, not
    # an unknown route (which would be a 404 envelope too).
    own = make_proxy(key.owner, "mine")
    mine = getattr(api_client, method)(
        f"/v1/proxy/{own.public_id}{suffix}", HTTP_X_API_KEY=key.key, **kwargs
    )
    assert mine.status_code == 200, mine.content


@pytest.mark.parametrize("proxy_id", ["nope42", "1", "x" * 200, "%20", "..", "Ab%3Bc"])
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_malformed_or_unknown_ids_are_404(client, create, proxy_id, method):
    create()
    kwargs = {"data": {"description": "x"}, "format": "json"} if method == "put" else {}
    assert_not_found(getattr(client, method)(f"/v1/proxy/{proxy_id}", **kwargs))


def test_the_sequential_primary_key_is_not_an_id(client, create):
    proxy = create()
    pk = Proxy.objects.get(public_id=proxy["id"]).pk
    assert_not_found(client.get(f"/v1/proxy/{pk}"))
    assert assert_ok(client.get(f"/v1/proxy/{proxy['id']}"))["data"]["id"] == proxy["id"]


def test_list_never_shows_another_accounts_proxies(api_client, make_key, foreign_proxy):
    owner = UserFactory()
    key = make_key(scopes="proxies:read", owner=owner)
    body = assert_ok(api_client.get("/v1/proxy", HTTP_X_API_KEY=key.key))
    assert body["data"] == []
    assert body["meta"]["total"] == 0


# --- Hardening: open whitelists are flagged, proxies per account are capped ---------------------


@pytest.mark.parametrize("everyone", ["0.0.0.0/0", "::/0"])
def test_a_whitelist_admitting_every_address_is_flagged(client, plan, everyone):
    response = client.post(
        "/v1/proxy",
        {
            "name": "open",
            "proxy_type": "residential",
            "tariff_id": plan.pk,
            "ip_whitelist": ["203.0.113.7", everyone],
        },
        format="json",
    )
    body = assert_ok(response, 201)
    assert body["data"]["ip_whitelist"] == ["203.0.113.7", everyone]
    (warning,) = body["meta"]["warnings"]
    assert "every address" in warning
    detail = assert_ok(client.get(f"/v1/proxy/{body['data']['id']}"))
    assert detail["meta"]["warnings"] == [warning]
    closed = assert_ok(
        client.put(f"/v1/proxy/{body['data']['id']}", {"ip_whitelist": []}, format="json")
    )
    assert "warnings" not in closed["meta"]


def test_an_ordinary_whitelist_carries_no_warning(create, client):
    proxy = create(ip_whitelist=["10.0.0.0/8"])
    assert "warnings" not in assert_ok(client.get(f"/v1/proxy/{proxy['id']}"))["meta"]


def test_proxies_per_account_are_capped(client, plan, settings, create):
    settings.PROXY_MAX_PER_ACCOUNT = 2
    create(name="one")
    second = create(name="two")
    response = client.post(
        "/v1/proxy",
        {"name": "three", "proxy_type": "residential", "tariff_id": plan.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "maximum per account" in response.json()["error"] + str(response.json()["meta"])
    assert not Proxy.objects.filter(name="three").exists()
    # A deleted proxy frees its place.
    assert_ok(client.delete(f"/v1/proxy/{second['id']}"))
    assert_ok(
        client.post(
            "/v1/proxy",
            {"name": "three", "proxy_type": "residential", "tariff_id": plan.pk},
            format="json",
        ),
        201,
    )
