"""`manage.py seed_demo`: plans, the demo account, keys, proxies and a year of consistent history."""

import io
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from apikeys.models import APIKey
from billing.models import Balance, Plan, Transaction, TransactionType
from demo.data import PROXIES, plans_seed
from demo.history import ACTIVITY, HISTORY_DAYS, TOPUP_BELOW, history_seed, usage_plan
from proxies.geo.models import Country
from proxies.models import Proxy, ProxyStatus, UsageDaily
from stats.services import usage_cost
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CENTS = Decimal("0.01")


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Everything seed_demo writes, in a comparable form."""
    demo = get_user_model().objects.get(username="demo")
    return {
        "password": demo.password,
        "plans": list(Plan.objects.order_by("pk").values()),
        "keys": list(APIKey.objects.order_by("pk").values_list("pk", "name", "revoked_at")),
        "proxies": list(Proxy.objects.order_by("pk").values()),
        "usage": list(UsageDaily.objects.order_by("pk").values()),
        "ledger": list(Transaction.objects.order_by("pk").values()),
        "balance": Balance.objects.get(owner=demo).funds_available,
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """(output, demo user) of one seed_demo run, shared by this module's tests: seeding takes
    seconds.  The run sits in a module-wide transaction, rolled back at the end; each test's own
    transaction nests inside it, so what a test changes is undone before the next one."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            output = run("seed_demo")
            yield output, get_user_model().objects.get(username="demo")
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_seed_demo_is_idempotent_and_prints_credentials(seeded):
    first, _ = seeded
    assert "demo / demo-password" in first
    assert first.count("2xt_") == 3
    before = snapshot()
    second = run("seed_demo")
    assert "2xt_" not in second
    assert "demo / demo-password" in second
    assert "already present" in second
    assert snapshot() == before
    assert APIKey.objects.filter(owner__username="demo").count() == 3


def test_a_revoked_demo_key_is_replaced_and_printed(seeded):
    from apikeys.services import api_key_revoke

    api_key_revoke(api_key=APIKey.objects.get(name="Geo lookup"))
    output = run("seed_demo")
    assert output.count("2xt_") == 1
    assert "Demo key 'Geo lookup' (geo:read): 2xt_" in output


def test_password_comes_from_the_environment(seeded, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo")
    assert "demo / s3cret-demo" in run("seed_demo")
    assert get_user_model().objects.get(username="demo").check_password("s3cret-demo")


def test_plans_for_both_types_one_disabled(seeded):
    plans = {
        (p.proxy_type, p.title): (p.price_per_gb, p.enabled, p.popular) for p in Plan.objects.all()
    }
    assert plans[("residential", "Pay as you go")] == (Decimal("4.00"), True, True)
    assert plans[("residential", "Business")] == (Decimal("3.00"), True, False)
    assert plans[("mobile", "Mobile PAYG")] == (Decimal("8.00"), True, True)
    assert any(not enabled for _, enabled, _ in plans.values())


def test_plans_are_not_overwritten_when_an_operator_changed_them(seeded):
    plan = Plan.objects.get(title="Business")
    plan.price_per_gb = Decimal("2.75")
    plan.save()
    assert plans_seed()["Business"].price_per_gb == Decimal("2.75")


def test_demo_proxies_with_countries_whitelists_limits_and_states(seeded, geo):
    _, demo = seeded
    proxies = {p.name: p for p in Proxy.objects.filter(owner=demo)}
    assert set(proxies) == {spec.name for spec in PROXIES}
    shop = proxies["shop_scraper"]
    # Codes missing from the geo directory are skipped (the test directory is a small slice).
    known = Country.objects.filter(code__in=["US", "DE", "GB"]).values_list("code", flat=True)
    assert sorted(shop.countries.values_list("code", flat=True)) == sorted(known)
    assert {"US", "DE"} <= set(known)
    assert shop.ip_whitelist == ["203.0.113.10", "198.51.100.0/24"]
    assert (shop.limit_type, shop.limit_period, shop.limit_total) == (
        "money",
        "daily",
        Decimal("14.00"),
    )
    assert proxies["seo_checker"].plan.proxy_type == "mobile"
    assert shop.status == proxies["price_monitor"].status == ProxyStatus.ACTIVE
    assert proxies["ad_verifier"].status == ProxyStatus.INACTIVE
    assert proxies["old_crawler"].deleted_at is not None
    assert all(p.public_id.isalnum() and len(p.public_id) == 6 for p in proxies.values())


def test_a_year_of_daily_usage_ending_yesterday(seeded):
    _, demo = seeded
    today = timezone.now().astimezone(UTC).date()
    dates = set(UsageDaily.objects.filter(owner=demo).values_list("date", flat=True))
    assert len(dates) == HISTORY_DAYS
    assert (min(dates), max(dates)) == (
        today - timedelta(days=HISTORY_DAYS),
        today - timedelta(days=1),
    )
    # A proxy switched off or deleted stops carrying traffic; the deleted one keeps its history.
    old = Proxy.objects.get(owner=demo, name="old_crawler")
    assert UsageDaily.objects.filter(proxy=old).count() > 100
    assert max(UsageDaily.objects.filter(proxy=old).values_list("date", flat=True)) < (
        old.deleted_at.date()
    )


def test_weekdays_are_busier_than_weekends(seeded):
    _, demo = seeded
    by_kind = defaultdict(list)
    for day, traffic in UsageDaily.objects.filter(
        owner=demo, proxy__name="shop_scraper"
    ).values_list("date", "traffic_bytes"):
        by_kind[day.weekday() >= 5].append(traffic)
    weekday = sum(by_kind[False]) / len(by_kind[False])
    weekend = sum(by_kind[True]) / len(by_kind[True])
    assert weekend < weekday / 2
    assert len(set(by_kind[False])) == len(by_kind[False])  # noisy, not a constant


def test_every_days_cost_is_the_rounded_traffic_and_the_sum_of_its_charges(seeded):
    _, demo = seeded
    charged: dict = defaultdict(Decimal)
    for proxy_id, created_at, amount, kind in Transaction.objects.filter(owner=demo).values_list(
        "proxy", "created_at", "amount", "type"
    ):
        if kind == TransactionType.CHARGE:
            charged[(proxy_id, created_at.date())] -= amount
    rows = UsageDaily.objects.filter(owner=demo).select_related("proxy__plan")
    assert rows.count() == len([r for r in usage_plan()])
    for row in rows:
        cost = usage_cost(row.traffic_bytes, row.proxy.plan.price_per_gb)
        assert row.cost == cost.quantize(CENTS, ROUND_HALF_UP)
        assert row.cost == charged.pop((row.proxy_id, row.date), Decimal("0.00"))
    assert not charged


def test_balance_is_the_ledger_sum_and_never_ran_out(seeded):
    output, demo = seeded
    ledger = list(
        Transaction.objects.filter(owner=demo)
        .order_by("created_at", "pk")
        .values_list("amount", "type")
    )
    balance = Balance.objects.get(owner=demo).funds_available
    assert balance == sum((amount for amount, _ in ledger), Decimal("0.00"))
    assert min(accumulate(amount for amount, _ in ledger)) > 0
    assert f"balance {balance} USD" in output
    kinds = [kind for _, kind in ledger]
    assert kinds.count(TransactionType.TOP_UP) >= 3
    assert kinds.count(TransactionType.REFUND) == 1


def test_usage_plan_is_deterministic():
    assert list(usage_plan(first_weekday=3)) == list(usage_plan(first_weekday=3))
    assert list(usage_plan(first_weekday=3)) != list(usage_plan(first_weekday=5))


def test_every_demo_proxy_has_its_activity_in_the_same_order():
    """`usage_plan` draws its random numbers in this order, so a reordering changes the figures."""
    assert [activity.proxy for activity in ACTIVITY] == [spec.name for spec in PROXIES]


def test_a_card_topup_comes_exactly_on_the_mornings_the_balance_is_below_the_threshold(geo):
    """The credits are booked after the usage, dated when they happen: replayed in time order, the
    ledger shows a card top-up on each morning the balance had fallen below the threshold."""
    owner, days = UserFactory(), 60
    now = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)
    history_seed(owner=owner, plans=plans_seed(), now=now, days=days)
    ledger = list(
        Transaction.objects.filter(owner=owner).values_list("created_at", "amount", "description")
    )
    first = now.date() - timedelta(days=days)
    low_mornings = []
    for offset in range(days):
        morning = datetime.combine(first + timedelta(days=offset), time(8), tzinfo=UTC)
        if sum((amount for at, amount, _ in ledger if at < morning), Decimal(0)) < TOPUP_BELOW:
            low_mornings.append(morning)
    topups = sorted(at for at, _, description in ledger if description == "Card top-up")
    assert topups == low_mornings
    assert len(topups) >= 1


def test_the_demo_login_works_at_once_without_two_factor(seeded, client):
    """The printed credentials sign in straight through the real form: verified, no 2FA step."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from django.urls import reverse

    _, demo = seeded
    assert EmailAddress.objects.get(user=demo).verified
    assert not Authenticator.objects.filter(user=demo).exists()
    response = client.post(reverse("account_login"), {"login": "demo", "password": "demo-password"})
    assert response.status_code == 302
    assert response["Location"] == reverse("apikeys:list")


def test_refuses_production_settings_unless_forced(settings):
    from django.core.management import CommandError

    settings.ENVIRONMENT = "production"
    users, keys = get_user_model().objects.count(), APIKey.objects.count()
    with pytest.raises(CommandError, match="--force"):
        run("seed_demo")
    assert (get_user_model().objects.count(), APIKey.objects.count()) == (users, keys)
