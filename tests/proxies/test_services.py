"""Proxy services: validation, names, whitelists, limits, and the A10 status rules.

Time enters through `now=`: NOW is mid-month, mid-day UTC, so day and month boundaries are explicit.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from billing.services import balance_topup
from proxies.geo.models import Country
from proxies.inputs import MAX_WHITELIST_ENTRIES, clean_ip_whitelist
from proxies.models import LimitPeriod, LimitType, Proxy, ProxyStatus, SuspensionReason, UsageDaily
from proxies.services import (
    PUBLIC_ID_LENGTH,
    next_period_start,
    proxy_delete,
    proxy_limit_resets_apply,
)
from stats.selectors import account_traffic, breakdown_proxy_list, proxy_breakdown
from tests.factories import PlanFactory, UserFactory, create_proxy, update_proxy
from tests.ledger import ledger_sum

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
GB = 10**9


@pytest.fixture
def now():
    """`fund`, `make_proxy` and `record` act at NOW unless told."""
    return NOW


def limit(limit_type: str, period: str, total) -> dict:
    return {"limit_type": limit_type, "time_period": period, "total_limit": total}


def state(proxy: Proxy) -> tuple:
    proxy.refresh_from_db()
    return proxy.status, proxy.suspended_reason


ACTIVE = (ProxyStatus.ACTIVE, SuspensionReason.NONE)
LIMITED = (ProxyStatus.SUSPENDED, SuspensionReason.LIMIT)
BROKE = (ProxyStatus.SUSPENDED, SuspensionReason.BALANCE)
INACTIVE = (ProxyStatus.INACTIVE, SuspensionReason.NONE)


# --- Create: fields and validation --------------------------------------------------------------


def test_create_stores_every_field_and_an_opaque_public_id(funded, plan, geo):
    us, de = Country.objects.get(code="US"), Country.objects.get(code="DE")
    proxy = create_proxy(
        owner=funded,
        name="shop_scraper",
        proxy_type="residential",
        tariff_id=plan.pk,
        countries=[us.pk, de.pk, us.pk],
        description="  Scrapes shops  ",
        ip_whitelist=["203.0.113.7"],
        limits=limit("money", "daily", "25.5"),
        now=NOW,
    )
    proxy.refresh_from_db()
    assert (proxy.name, proxy.proxy_type, proxy.plan, proxy.description) == (
        "shop_scraper",
        "residential",
        plan,
        "Scrapes shops",
    )
    assert sorted(proxy.countries.values_list("code", flat=True)) == ["DE", "US"]
    assert (proxy.limit_type, proxy.limit_period, proxy.limit_total) == (
        LimitType.MONEY,
        LimitPeriod.DAILY,
        Decimal("25.50"),
    )
    assert state(proxy) == ACTIVE
    assert proxy.created_at == NOW
    assert len(proxy.public_id) == PUBLIC_ID_LENGTH
    assert proxy.public_id.isalnum()
    assert proxy.public_id != str(proxy.pk)


def test_public_ids_differ(make_proxy):
    ids = {make_proxy(name=f"p{i}").public_id for i in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize(
    "name", ["", "Shop", "shop-scraper", "shop scraper", "ümlaut", "a" * 65, None, 5, "a.b"]
)
def test_bad_names_are_refused_and_nothing_is_written(make_proxy, name):
    with pytest.raises(ValidationError) as error:
        make_proxy(name=name)
    assert "name" in error.value.message_dict
    assert not Proxy.objects.exists()


@pytest.mark.parametrize("name", ["a", "shop_scraper", "x" * 64, "007", "_"])
def test_good_names(make_proxy, name):
    assert make_proxy(name=name).name == name


def test_name_is_unique_per_account(make_proxy):
    make_proxy(name="shop")
    with pytest.raises(ValidationError, match="already have a proxy named 'shop'"):
        make_proxy(name="shop")
    make_proxy(UserFactory(), name="shop")
    assert Proxy.objects.filter(name="shop").count() == 2


def test_name_is_reusable_after_delete(make_proxy):
    first = make_proxy(name="shop")
    proxy_delete(proxy=first)
    second = make_proxy(name="shop")
    assert second.pk != first.pk
    assert Proxy.objects.filter(name="shop").count() == 2
    assert list(Proxy.objects.alive().filter(name="shop")) == [second]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (None, []),
        ([], []),
        ([" 203.0.113.7 "], ["203.0.113.7"]),
        (["2001:DB8::0:1"], ["2001:db8::1"]),
        (["10.0.0.0/24", "2001:db8::/32"], ["10.0.0.0/24", "2001:db8::/32"]),
        (
            ["203.0.113.7", "203.0.113.7", " 203.0.113.7", "2001:db8::1", "2001:DB8:0::1"],
            ["203.0.113.7", "2001:db8::1"],
        ),
        (["10.0.0.2", "10.0.0.1"], ["10.0.0.2", "10.0.0.1"]),  # order kept
    ],
)
def test_whitelist_is_normalised_and_deduplicated(entries, expected):
    assert clean_ip_whitelist(entries) == expected


@pytest.mark.parametrize(
    "entries",
    [
        "203.0.113.7",
        {"ip": "1.2.3.4"},
        ["300.1.1.1"],
        ["10.0.0.7/24"],  # host bits set: refused, not silently widened
        ["10.0.0.0/33"],
        ["example.com"],
        [""],
        [None],
        [12345],
        ["1.2.3.4", "nope"],
        ["1.2.3.4"] * (MAX_WHITELIST_ENTRIES + 1),
    ],
)
def test_bad_whitelists_are_refused(make_proxy, entries):
    with pytest.raises(ValidationError) as error:
        make_proxy(ip_whitelist=entries)
    assert "ip_whitelist" in error.value.message_dict
    assert not Proxy.objects.exists()


def test_whitelist_update_is_normalised(make_proxy):
    proxy = make_proxy(ip_whitelist=["1.1.1.1"])
    update_proxy(proxy=proxy, ip_whitelist=["2001:DB8::1", "2001:db8::1", "10.0.0.0/8"])
    proxy.refresh_from_db()
    assert proxy.ip_whitelist == ["2001:db8::1", "10.0.0.0/8"]


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ("10", "limits"),
        ({"limit_type": "money", "time_period": "daily"}, "limits.total_limit"),
        (limit("euros", "daily", 1), "limits.limit_type"),
        (limit("money", "weekly", 1), "limits.time_period"),
        (limit("money", "daily", -1), "limits.total_limit"),
        (limit("money", "daily", "1.234"), "limits.total_limit"),
        (limit("money", "daily", "abc"), "limits.total_limit"),
        (limit("money", "daily", True), "limits.total_limit"),
        (limit("money", "daily", None), "limits.total_limit"),
        (limit("money", "daily", "NaN"), "limits.total_limit"),
        (limit("money", "daily", "1e16"), "limits.total_limit"),
        (limit("traffic", "monthly", "1.5"), "limits.total_limit"),
        ({**limit("money", "daily", 1), "extra": 1}, "limits"),
    ],
)
def test_bad_limits_are_refused_per_field(make_proxy, limits, field):
    with pytest.raises(ValidationError) as error:
        make_proxy(limits=limits)
    assert field in error.value.message_dict
    assert not Proxy.objects.exists()


@pytest.mark.parametrize(
    ("limits", "stored"),
    [
        (limit("money", "daily", 10), ("money", "daily", Decimal("10.00"))),
        (limit("money", "monthly", "0.5"), ("money", "monthly", Decimal("0.50"))),
        (limit("traffic", "daily", 5 * GB), ("traffic", "daily", Decimal(5 * GB))),
        (limit("traffic", "monthly", "1e12"), ("traffic", "monthly", Decimal(10**12))),
        (None, ("", "", None)),
    ],
)
def test_limits_are_stored_as_decimal(make_proxy, limits, stored):
    proxy = make_proxy(limits=limits)
    proxy.refresh_from_db()
    assert (proxy.limit_type, proxy.limit_period, proxy.limit_total) == stored


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        ({"proxy_type": "datacenter"}, {"proxy_type"}),
        ({"tariff_id": "1"}, {"tariff_id"}),
        ({"tariff_id": 999_999}, {"tariff_id"}),
        ({"countries": [999]}, {"countries"}),
        ({"countries": ["US"]}, {"countries"}),
        ({"countries": "US"}, {"countries"}),
        ({"description": "x" * 501}, {"description"}),
        ({"description": 5}, {"description"}),
        # Every bad field is reported at once.
        (
            {"name": "Bad", "ip_whitelist": ["x"], "tariff_id": None},
            {"name", "ip_whitelist", "tariff_id"},
        ),
    ],
)
def test_bad_fields_are_all_reported_and_nothing_is_written(funded, plan, geo, fields, keys):
    values = {"name": "p", "proxy_type": plan.proxy_type, "tariff_id": plan.pk, **fields}
    with pytest.raises(ValidationError) as error:
        create_proxy(owner=funded, **values)
    assert set(error.value.message_dict) == keys
    assert not Proxy.objects.exists()


def test_disabled_plan_or_plan_of_the_other_type_is_refused(funded):
    disabled = PlanFactory(disabled=True)
    mobile = PlanFactory(mobile=True)
    for proxy_type, tariff in (("residential", disabled), ("residential", mobile)):
        with pytest.raises(ValidationError) as error:
            create_proxy(owner=funded, name="p", proxy_type=proxy_type, tariff_id=tariff.pk)
        assert "tariff_id" in error.value.message_dict
    assert not Proxy.objects.exists()


def test_bad_update_changes_nothing(make_proxy):
    proxy = make_proxy(description="keep", ip_whitelist=["1.1.1.1"])
    with pytest.raises(ValidationError) as error:
        update_proxy(
            proxy=proxy, description="new", ip_whitelist=["bad"], status="suspended", now=NOW
        )
    assert set(error.value.message_dict) == {"ip_whitelist", "status"}
    proxy.refresh_from_db()
    assert (proxy.description, proxy.ip_whitelist, proxy.status) == ("keep", ["1.1.1.1"], "active")


def test_update_countries_description_and_switch(make_proxy, geo):
    proxy = make_proxy()
    us = Country.objects.get(code="US")
    update_proxy(proxy=proxy, countries=[us.pk], description="new", status="inactive", now=NOW)
    proxy.refresh_from_db()
    assert list(proxy.countries.all()) == [us]
    assert (proxy.description, proxy.enabled) == ("new", False)
    assert state(proxy) == INACTIVE
    update_proxy(proxy=proxy, status="active", now=NOW)
    assert state(proxy) == ACTIVE


def test_a_deleted_proxy_cannot_be_updated(make_proxy):
    proxy = make_proxy()
    proxy_delete(proxy=proxy, now=NOW)
    with pytest.raises(ValidationError):
        update_proxy(proxy=proxy, status="active", now=NOW)
    proxy.refresh_from_db()
    assert (proxy.enabled, proxy.status, proxy.deleted_at) == (False, ProxyStatus.INACTIVE, NOW)


# --- A10: limits --------------------------------------------------------------------------------

# At $4.00/GB: 1 GB costs $4.00.
LIMIT_CASES = [
    pytest.param(limit("money", "daily", "8.00"), 2 * GB, id="money-daily"),
    pytest.param(limit("traffic", "daily", 2 * GB), 2 * GB, id="traffic-daily"),
    pytest.param(limit("money", "monthly", "8.00"), 2 * GB, id="money-monthly"),
    pytest.param(limit("traffic", "monthly", 2 * GB), 2 * GB, id="traffic-monthly"),
]


@pytest.mark.parametrize(("limits", "at_limit"), LIMIT_CASES)
def test_proxy_is_suspended_when_usage_reaches_the_limit(make_proxy, record, limits, at_limit):
    proxy = make_proxy(limits=limits)
    record(proxy, at_limit - GB // 100)  # $0.04 or 10 MB short of the limit
    assert state(proxy) == ACTIVE
    record(proxy, GB // 100)
    assert state(proxy) == LIMITED
    assert proxy.suspended_until == next_period_start(limits["time_period"], NOW)


def test_monthly_limit_counts_every_day_of_the_month_and_no_earlier_one(make_proxy, record):
    proxy = make_proxy(limits=limit("traffic", "monthly", 3 * GB), now=NOW - timedelta(days=40))
    last_month = datetime(2026, 2, 28, 12, tzinfo=UTC)
    record(proxy, 10 * GB, now=last_month)
    for day in (1, 5, 13):
        record(proxy, GB - 1, now=NOW.replace(day=day))
    assert state(proxy) == ACTIVE
    record(proxy, 3, now=NOW)
    assert state(proxy) == LIMITED
    assert proxy.suspended_until == datetime(2026, 4, 1, tzinfo=UTC)


def test_daily_limit_ignores_yesterday(make_proxy, record):
    proxy = make_proxy(limits=limit("money", "daily", "4.00"))
    record(proxy, 10 * GB, now=NOW - timedelta(days=1))
    record(proxy, GB - 10**7, now=NOW)  # $3.96
    assert state(proxy) == ACTIVE


def test_a_zero_limit_suspends_at_once(make_proxy):
    proxy = make_proxy(limits=limit("traffic", "daily", 0))
    assert state(proxy) == LIMITED


@pytest.mark.parametrize(("limits", "at_limit"), LIMIT_CASES)
def test_raising_the_limit_reactivates_at_once(make_proxy, record, limits, at_limit):
    proxy = make_proxy(limits=limits)
    record(proxy, at_limit)
    assert state(proxy) == LIMITED
    raised = {**limits, "total_limit": Decimal(str(limits["total_limit"])) * 2}
    update_proxy(proxy=proxy, limits=raised, now=NOW)
    assert state(proxy) == ACTIVE
    assert proxy.suspended_until is None


def test_raising_the_limit_too_little_keeps_it_suspended(make_proxy, record):
    proxy = make_proxy(limits=limit("money", "daily", "8.00"))
    record(proxy, 3 * GB)  # $12.00
    update_proxy(proxy=proxy, limits=limit("money", "daily", "12.00"), now=NOW)
    assert state(proxy) == LIMITED
    update_proxy(proxy=proxy, limits=limit("money", "daily", "12.01"), now=NOW)
    assert state(proxy) == ACTIVE


def test_removing_the_limit_reactivates_at_once(make_proxy, record):
    proxy = make_proxy(limits=limit("traffic", "daily", GB))
    record(proxy, GB)
    assert state(proxy) == LIMITED
    update_proxy(proxy=proxy, limits=None, now=NOW)
    assert state(proxy) == ACTIVE


def test_lowering_the_limit_below_usage_suspends_at_once(make_proxy, record):
    proxy = make_proxy(limits=limit("traffic", "daily", 10 * GB))
    record(proxy, 2 * GB)
    update_proxy(proxy=proxy, limits=limit("traffic", "daily", GB), now=NOW)
    assert state(proxy) == LIMITED


@pytest.mark.parametrize(
    ("period", "last_moment", "reset_at"),
    [
        (
            "daily",
            datetime(2026, 3, 14, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 3, 15, tzinfo=UTC),
        ),
        (
            "monthly",
            datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 4, 1, tzinfo=UTC),
        ),
    ],
)
def test_counters_reset_at_midnight_utc_and_on_the_first(
    make_proxy, record, period, last_moment, reset_at
):
    proxy = make_proxy(limits=limit("traffic", period, GB))
    record(proxy, GB)
    assert state(proxy) == LIMITED
    assert proxy.suspended_until == reset_at
    assert proxy_limit_resets_apply(now=last_moment) == 0
    assert state(proxy) == LIMITED
    assert proxy_limit_resets_apply(now=reset_at) == 1
    assert state(proxy) == ACTIVE
    assert proxy.suspended_until is None


def test_month_end_reset_in_december_and_february():
    assert next_period_start("monthly", datetime(2026, 12, 31, 23, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert next_period_start("monthly", datetime(2028, 2, 29, 1, tzinfo=UTC)) == datetime(
        2028, 3, 1, tzinfo=UTC
    )
    assert next_period_start("daily", datetime(2028, 2, 28, 23, 59, tzinfo=UTC)) == datetime(
        2028, 2, 29, tzinfo=UTC
    )


def test_reset_uses_utc_whatever_the_offset_of_now(make_proxy, record):
    from zoneinfo import ZoneInfo

    proxy = make_proxy(limits=limit("traffic", "daily", GB))
    record(proxy, GB)
    # 20:00 in New York on the 14th is 00:00 UTC on the 15th.
    new_york = datetime(2026, 3, 14, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    assert proxy_limit_resets_apply(now=new_york - timedelta(hours=1)) == 0
    assert proxy_limit_resets_apply(now=new_york) == 1
    assert state(proxy) == ACTIVE


def test_reset_applies_to_every_account_and_only_to_due_proxies(make_proxy, fund, record):
    due = make_proxy(name="due", limits=limit("traffic", "daily", GB))
    monthly = make_proxy(name="monthly", limits=limit("traffic", "monthly", GB))
    other = fund(UserFactory(), "100")
    foreign = make_proxy(other, name="due", limits=limit("traffic", "daily", GB))
    for proxy in (due, monthly, foreign):
        record(proxy, GB)
    assert proxy_limit_resets_apply(now=NOW + timedelta(days=1)) == 2
    assert (state(due), state(foreign), state(monthly)) == (ACTIVE, ACTIVE, LIMITED)


def test_new_usage_on_the_next_day_reactivates_without_the_reset_job(make_proxy, record):
    proxy = make_proxy(limits=limit("traffic", "daily", GB))
    record(proxy, GB)
    record(proxy, 1, now=NOW + timedelta(days=1))
    assert state(proxy) == ACTIVE


def test_reset_when_the_balance_is_gone_leaves_it_suspended_for_balance(
    user, fund, make_proxy, record
):
    proxy = make_proxy(fund(user, "4.00"), limits=limit("money", "daily", "4.00"))
    record(proxy, GB)  # $4.00: the limit and the balance both run out; the limit is reported
    assert state(proxy) == LIMITED
    proxy_limit_resets_apply(now=NOW + timedelta(days=1))
    assert state(proxy) == BROKE


# --- A10: balance ------------------------------------------------------------------------------


def test_a_new_proxy_of_an_account_without_funds_is_suspended(user, make_proxy):
    proxy = make_proxy(user)
    assert state(proxy) == BROKE


def test_balance_reaching_zero_suspends_every_payg_proxy_and_a_topup_resumes_them(
    user, fund, make_proxy, record
):
    fund(user, "8.00")
    make = lambda name, **kw: make_proxy(user, name, **kw)  # noqa: E731
    busy, idle, switched_off = make("busy"), make("idle"), make("off")
    limited = make("limited", limits=limit("traffic", "daily", GB))
    update_proxy(proxy=switched_off, status="inactive", now=NOW)
    deleted = make("gone")
    proxy_delete(proxy=deleted, now=NOW)
    record(limited, GB)  # $4.00 left
    record(busy, GB - 1)  # $3.999999996 -> $4.00: balance exactly zero
    assert ledger_sum(owner=user) == 0
    assert (state(busy), state(idle), state(limited)) == (BROKE, BROKE, LIMITED)
    assert state(switched_off) == INACTIVE
    assert state(deleted) == INACTIVE

    balance_topup(owner=user, amount="0.01", now=NOW)
    assert (state(busy), state(idle), state(limited)) == (ACTIVE, ACTIVE, LIMITED)
    assert state(switched_off) == INACTIVE
    assert state(deleted) == INACTIVE


def test_balance_below_zero_after_the_last_record_is_booked_in_full(user, fund, make_proxy, record):
    proxy = make_proxy(fund(user, "1.00"))
    record(proxy, GB)
    assert state(proxy) == BROKE
    assert ledger_sum(owner=user) == Decimal("-3.00")


def test_switching_a_proxy_on_without_funds_suspends_it(user, make_proxy):
    proxy = make_proxy(user)
    update_proxy(proxy=proxy, status="inactive")
    assert state(proxy) == INACTIVE
    update_proxy(proxy=proxy, status="active")
    assert state(proxy) == BROKE


def test_inactive_proxy_stays_inactive_through_usage_limits_and_resets(make_proxy, record):
    proxy = make_proxy(limits=limit("traffic", "daily", GB))
    update_proxy(proxy=proxy, status="inactive", now=NOW)
    record(proxy, 2 * GB)
    assert state(proxy) == INACTIVE
    update_proxy(proxy=proxy, limits=None, now=NOW)
    proxy_limit_resets_apply(now=NOW + timedelta(days=2))
    assert state(proxy) == INACTIVE


# --- Delete --------------------------------------------------------------------------------------


def test_delete_keeps_usage_and_charges(make_proxy, funded, record):
    proxy = make_proxy()
    record(proxy, 2 * GB, now=NOW - timedelta(days=1))
    record(proxy, GB)
    proxy_delete(proxy=proxy, now=NOW)
    proxy.refresh_from_db()
    assert proxy.deleted_at == NOW
    assert not Proxy.objects.alive().filter(pk=proxy.pk).exists()
    assert UsageDaily.objects.filter(proxy=proxy).aggregate(t=Sum("traffic_bytes"))["t"] == 3 * GB
    assert ledger_sum(proxy=proxy) == Decimal("-12.00")
    series = account_traffic(owner_id=funded.pk, date_from=TODAY - timedelta(days=1), date_to=TODAY)
    assert [day.traffic_bytes for day in series] == [2 * GB, GB]
    listed = breakdown_proxy_list(
        owner_id=funded.pk, date_from=TODAY - timedelta(days=1), date_to=TODAY
    )
    [row] = proxy_breakdown(
        proxies=list(listed), date_from=TODAY - timedelta(days=1), date_to=TODAY
    )
    assert (row["proxy__name"], row["cost"], row["proxy__deleted_at"]) == (
        "shop_scraper",
        Decimal("12.00"),
        NOW,
    )


def test_delete_twice_keeps_the_first_deletion_time(make_proxy):
    proxy = make_proxy()
    proxy_delete(proxy=proxy, now=NOW)
    proxy_delete(proxy=proxy, now=NOW + timedelta(hours=1))
    proxy.refresh_from_db()
    assert proxy.deleted_at == NOW
