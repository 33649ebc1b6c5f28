"""Billing endpoints (SPEC 3.2, A4, A5, K4): balance, balance history and plans."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from billing.models import Transaction
from billing.services import balance_refund, balance_topup
from tests.envelope import assert_ok, assert_validation_error
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

TX_KEYS = {"id", "tx_id", "type", "source", "amount", "currency", "description", "created_at"}
PLAN_KEYS = {
    "id",
    "title",
    "description",
    "amount",
    "currency",
    "proxy_type",
    "price_unit",
    "enabled",
    "popular",
}
GB = 10**9


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def client(api_client, make_key):
    api_client.credentials(HTTP_X_API_KEY=make_key(scopes="balance:read").key)
    return api_client


# --- /v1/user/balance ---------------------------------------------------------------------------


def test_a_new_account_has_zero_funds(client):
    assert assert_ok(client.get("/v1/user/balance"))["data"] == {"funds_available": 0}


def test_balance_is_a_json_number_with_cents(client, user):
    balance_topup(owner=user, amount="42.50")
    response = client.get("/v1/user/balance")
    assert assert_ok(response)["data"] == {"funds_available": 42.5}
    assert b'"funds_available":42.5' in response.content  # a number, never a string


def test_balance_equals_the_sum_of_the_ledger(client, user, record, make_proxy):
    plan = PlanFactory(price_per_gb=Decimal("3.33"))
    balance_topup(owner=user, amount="20.00")
    balance_refund(owner=user, amount="1.10")
    proxy = make_proxy(user, plan=plan)
    for n in range(3):
        record(proxy, GB + n * 12_345_678)

    funds = assert_ok(client.get("/v1/user/balance"))["data"]["funds_available"]

    ledger = Transaction.objects.filter(owner=user).aggregate(total=Sum("amount"))["total"]
    assert Decimal(str(funds)) == ledger
    assert ledger < Decimal("21.10")


def test_balance_is_per_account(client, other_user):
    balance_topup(owner=other_user, amount="99.00")
    assert assert_ok(client.get("/v1/user/balance"))["data"]["funds_available"] == 0


# --- /v1/user/balance-history -------------------------------------------------------------------


@pytest.fixture
def ledger(user, other_user, record, make_proxy):
    """Top-up, usage charge and refund on three different days, plus another account's entry."""
    days = [today() - timedelta(days=n) for n in (3, 2, 1)]
    balance_topup(owner=user, amount="50.00", now=at(days[0]), description="Card payment")
    proxy = make_proxy(user)  # at $4.00/GB
    record(proxy, GB, now=at(days[1]))
    balance_refund(owner=user, amount="1.25", now=at(days[2]))
    balance_topup(owner=other_user, amount="7.00", now=at(days[1]))
    return days


def history(client, **params) -> dict:
    return assert_ok(client.get("/v1/user/balance-history", params))


def test_history_items_carry_the_documented_fields(client, ledger):
    body = history(client, date_from=ledger[0].isoformat(), date_to=ledger[2].isoformat())

    assert body["meta"] == {"total": 3, "page": 0, "limit": 100}
    items = body["data"]
    assert all(set(item) == TX_KEYS for item in items)
    refund, charge, topup = items  # newest first by default
    assert (topup["type"], topup["amount"], topup["source"]) == ("Top-up", 50.0, "manual")
    assert topup["description"] == "Card payment"
    assert (charge["type"], charge["amount"], charge["source"]) == ("Charge", -4.0, "usage")
    assert (refund["type"], refund["amount"]) == ("Refund", 1.25)
    assert all(item["currency"] == "USD" for item in items)
    assert all(re.fullmatch(r"tx_[A-Za-z0-9]{16}", item["tx_id"]) for item in items)
    assert topup["created_at"] == f"{ledger[0].isoformat()}T12:00:00Z"
    stored = Transaction.objects.get(tx_id=charge["tx_id"])
    assert charge["id"] == stored.pk


def test_history_covers_whole_utc_days_of_the_range(client, ledger):
    day = ledger[1].isoformat()
    items = history(client, date_from=day, date_to=day)["data"]
    assert [item["type"] for item in items] == ["Charge"]


def test_history_pages_and_orders_by_created_at(client, ledger):
    params = {"date_from": ledger[0].isoformat(), "date_to": ledger[2].isoformat()}
    first = history(client, **params, limit=2, order="asc")
    second = history(client, **params, limit=2, page=1, order="asc")

    assert [i["type"] for i in first["data"]] == ["Top-up", "Charge"]
    assert [i["type"] for i in second["data"]] == ["Refund"]
    assert second["meta"] == {"total": 3, "page": 1, "limit": 2}


RANGE = {"date_from": "2026-01-01", "date_to": "2026-01-31"}


@pytest.mark.parametrize(
    ("field", "params"),
    [
        ("date_from", {"date_to": "2026-01-31"}),
        ("date_to", {"date_from": "2026-01-01"}),
        ("date_from", {"date_from": "2026-01-32", "date_to": "2026-02-01"}),
        ("date_from", {"date_from": "2026-02-01", "date_to": "2026-01-01"}),
        ("date_to", {"date_from": "2024-01-01", "date_to": "2025-01-01"}),
        ("limit", {**RANGE, "limit": 0}),
        ("limit", {**RANGE, "limit": 1001}),
        ("limit", {**RANGE, "limit": "abc"}),
        ("page", {**RANGE, "page": -1}),
        ("order", {**RANGE, "order": "newest"}),
    ],
)
def test_history_bad_parameters_are_400_naming_the_field(client, field, params):
    assert_validation_error(client.get("/v1/user/balance-history", params), field)


@pytest.mark.parametrize("entries", [1, 6])
def test_history_runs_a_constant_number_of_queries(
    client, user, entries, django_assert_num_queries
):
    for _ in range(entries):
        balance_topup(owner=user, amount="1.00")
    params = {"date_from": today().isoformat(), "date_to": today().isoformat()}
    history(client, **params)

    # key lookup, count, page
    with django_assert_num_queries(3):
        assert len(history(client, **params)["data"]) == entries


# --- /v1/plans ----------------------------------------------------------------------------------


@pytest.fixture
def plans():
    return {
        "basic": PlanFactory(title="Basic", price_per_gb=Decimal("4.00")),
        "pro": PlanFactory(title="Pro", price_per_gb=Decimal("2.75"), popular=True),
        "legacy": PlanFactory(title="Legacy", price_per_gb=Decimal("6.00"), disabled=True),
        "mobile": PlanFactory(title="Mobile", mobile=True, description="4G/5G"),
    }


def titles(body) -> list[str]:
    return [plan["title"] for plan in body["data"]]


def test_plans_of_a_type_with_documented_fields_cheapest_first(client, plans):
    body = assert_ok(client.get("/v1/plans", {"proxy_type": "residential"}))

    assert titles(body) == ["Pro", "Basic", "Legacy"]
    assert body["meta"] == {"total": 3}
    assert all(set(plan) == PLAN_KEYS for plan in body["data"])
    assert body["data"][0] == {
        "id": plans["pro"].pk,
        "title": "Pro",
        "description": "",
        "amount": 2.75,
        "currency": "USD",
        "proxy_type": "residential",
        "price_unit": "GB",
        "enabled": True,
        "popular": True,
    }
    assert titles(assert_ok(client.get("/v1/plans", {"proxy_type": "mobile"}))) == ["Mobile"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"enabled": "true"}, ["Pro", "Basic"]),
        ({"enabled": "1"}, ["Pro", "Basic"]),
        ({"enabled": "false"}, ["Legacy"]),
        ({"enabled": "0"}, ["Legacy"]),
        ({"popular": "true"}, ["Pro"]),
        ({"popular": "false", "enabled": "true"}, ["Basic"]),
        ({"enabled": ""}, ["Pro", "Basic", "Legacy"]),
    ],
)
def test_plans_filter_by_enabled_and_popular(client, plans, params, expected):
    body = assert_ok(client.get("/v1/plans", {"proxy_type": "residential", **params}))
    assert titles(body) == expected


@pytest.mark.parametrize(
    ("field", "params"),
    [
        ("proxy_type", {}),
        ("proxy_type", {"proxy_type": "datacenter"}),
        ("enabled", {"proxy_type": "mobile", "enabled": "maybe"}),
        ("enabled", {"proxy_type": "mobile", "enabled": "2"}),
        ("popular", {"proxy_type": "mobile", "popular": "yes please"}),
    ],
)
def test_plans_bad_parameters_are_400(client, plans, field, params):
    assert_validation_error(client.get("/v1/plans", params), field)


@pytest.mark.parametrize("count", [1, 8])
def test_plans_run_a_constant_number_of_queries(client, count, django_assert_num_queries):
    for _ in range(count):
        PlanFactory()
    client.get("/v1/plans", {"proxy_type": "residential"})

    with django_assert_num_queries(2):  # key lookup, plans
        body = assert_ok(client.get("/v1/plans", {"proxy_type": "residential"}))
    assert len(body["data"]) == count
