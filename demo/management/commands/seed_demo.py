"""`manage.py seed_demo`: plans, and a demo account with API keys, proxies and a year of usage.

Idempotent: plans are matched by type and title, the account by username, keys by name; proxies
and their history are created only while the demo account has neither proxies nor ledger entries,
so a second run adds nothing (and changes nothing the demo user did meanwhile, except a password
that no longer matches: it is set again, so the printed credentials always work).  Everything is
one transaction: all or nothing.

The history is simulated day by day over the 365 days before today.  Traffic follows a weekday /
weekend pattern with a slow trend, noise and rare spikes from a fixed random seed (`usage_plan`),
so two fresh installs seed the same figures.  Proxies are created, switched off and deleted, and
the account topped up (whenever the balance falls below $150 in the morning) and refunded once,
through the product's services with `now=` set to the simulated moment.

Usage takes a documented bulk path, because ~1,400 `usage_record` calls would cost ~20 s on SQLite:
there is exactly one record per proxy and day, and for one record `usage_record` writes the day's
row with cost = round(bytes x price) (half up, to cents) and books that cost as one charge, dated
when it was recorded.  `history_seed` writes exactly those rows with `bulk_create`, reusing
`stats.services.usage_cost`, then moves the balance by the charges' sum in one update under the
account lock and re-derives every proxy's status (A10) as of now.  So the balance equals the
ledger's sum and every day's cost equals the sum of its charges; `through_services=True` records
through `usage_record` instead, and a test pins that both paths write the same rows.

Prints the demo credentials (password from DEMO_PASSWORD, default "demo-password"), and the full
value of any key it creates (existing keys cannot be shown again: only their digest is stored).
"""

import math
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apikeys.models import APIKey, Expiration
from apikeys.scopes import BALANCE_READ, GEO_READ, PROXIES_READ, PROXIES_WRITE, STATS_READ
from apikeys.services import api_key_create
from billing.models import Balance, Plan, ProxyType, Transaction, TransactionType
from billing.selectors import balance_get
from billing.services import account_lock, balance_refund, balance_topup, new_tx_id
from common.money import round_cents
from proxies.geo.models import Country
from proxies.models import Proxy, UsageDaily
from proxies.services import (
    proxies_refresh_for_account,
    proxy_create,
    proxy_delete,
    proxy_update,
)
from stats.services import usage_cost, usage_record

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_KEYS = [
    ("Monitoring", [STATS_READ, BALANCE_READ], Expiration.YEAR_1),
    ("Geo lookup", [GEO_READ], Expiration.DAYS_90),
    ("Provisioning pipeline", [PROXIES_READ, PROXIES_WRITE, GEO_READ], Expiration.NEVER),
]

SEED = 20260101
HISTORY_DAYS = 365
GB = 10**9
INITIAL_TOPUP = Decimal("500.00")
TOPUP_BELOW = Decimal("150.00")  # checked every simulated morning: the balance never runs out
TOPUP_AMOUNT = Decimal("500.00")
REFUND_DAY = 200  # days into the history
REFUND_AMOUNT = Decimal("15.00")


@dataclass(frozen=True)
class DemoPlan:
    proxy_type: str
    title: str
    price_per_gb: str
    description: str
    popular: bool = False
    enabled: bool = True


PLANS = [
    DemoPlan(
        ProxyType.RESIDENTIAL,
        "Pay as you go",
        "4.00",
        "Residential IPs in 190+ countries, billed per GB.",
        popular=True,
    ),
    DemoPlan(
        ProxyType.RESIDENTIAL, "Business", "3.00", "Residential traffic at a volume price per GB."
    ),
    DemoPlan(
        ProxyType.MOBILE,
        "Mobile PAYG",
        "8.00",
        "4G/5G mobile carrier IPs, billed per GB.",
        popular=True,
    ),
    DemoPlan(
        ProxyType.RESIDENTIAL,
        "Starter (legacy)",
        "5.00",
        "No longer offered; kept for old proxies.",
        enabled=False,
    ),
]


@dataclass(frozen=True)
class DemoProxy:
    """A demo proxy and the shape of its traffic: GB on a weekday, the weekend's share of that,
    the average request size, and which days of the history it carried traffic."""

    name: str
    proxy_type: str
    plan: str
    countries: tuple[str, ...]
    description: str
    ip_whitelist: tuple[str, ...]
    limits: dict | None
    weekday_gb: float
    weekend_share: float
    bytes_per_request: int
    first_day: int = 0
    switched_off_day: int | None = None  # the owner switched it off (inactive) that morning
    deleted_day: int | None = None


PROXIES = [
    DemoProxy(
        "shop_scraper",
        ProxyType.RESIDENTIAL,
        "Pay as you go",
        ("US", "DE", "GB"),
        "Product pages of partner shops, every night.",
        ("203.0.113.10", "198.51.100.0/24"),
        {"limit_type": "money", "time_period": "daily", "total_limit": "14.00"},
        weekday_gb=1.6,
        weekend_share=0.35,
        bytes_per_request=180_000,
    ),
    DemoProxy(
        "price_monitor",
        ProxyType.RESIDENTIAL,
        "Business",
        ("US",),
        "Competitor price checks, hourly.",
        ("2001:db8:1200::/48",),
        {"limit_type": "traffic", "time_period": "monthly", "total_limit": 60 * GB},
        weekday_gb=1.2,
        weekend_share=0.8,
        bytes_per_request=45_000,
    ),
    DemoProxy(
        "seo_checker",
        ProxyType.MOBILE,
        "Mobile PAYG",
        ("DE", "FR"),
        "Mobile search result positions.",
        ("192.0.2.44",),
        None,
        weekday_gb=0.22,
        weekend_share=0.15,
        bytes_per_request=95_000,
        first_day=30,
    ),
    DemoProxy(
        "ad_verifier",
        ProxyType.MOBILE,
        "Mobile PAYG",
        ("US", "GB"),
        "Ad placement checks; paused after the campaign ended.",
        (),
        {"limit_type": "money", "time_period": "monthly", "total_limit": "60.00"},
        weekday_gb=0.3,
        weekend_share=0.5,
        bytes_per_request=60_000,
        first_day=90,
        switched_off_day=320,
    ),
    DemoProxy(
        "old_crawler",
        ProxyType.RESIDENTIAL,
        "Pay as you go",
        ("DE",),
        "Replaced by shop_scraper.",
        (),
        None,
        weekday_gb=0.9,
        weekend_share=0.9,
        bytes_per_request=250_000,
        deleted_day=120,
    ),
]


@dataclass(frozen=True)
class DemoUsage:
    day_index: int
    proxy: str
    traffic_bytes: int
    requests: int


def usage_plan(days: int = HISTORY_DAYS, *, first_weekday: int = 0) -> Iterator[DemoUsage]:
    """The simulated traffic, day by day: deterministic for a given start weekday (0 = Monday)."""
    rng = random.Random(SEED)
    for index in range(days):
        weekend = (first_weekday + index) % 7 >= 5
        trend = 0.8 + 0.4 * index / days + 0.08 * math.sin(index / 29)  # growth, monthly wave
        for spec in PROXIES:
            noise = max(0.2, rng.gauss(1.0, 0.18))
            spike = 2.5 if rng.random() < 0.02 else 1.0
            if not _carries_traffic(spec, index):
                continue
            share = spec.weekend_share if weekend else 1.0
            traffic = int(spec.weekday_gb * GB * share * trend * noise * spike)
            requests = max(1, int(traffic / spec.bytes_per_request * rng.uniform(0.9, 1.1)))
            yield DemoUsage(index, spec.name, traffic, requests)


def _carries_traffic(spec: DemoProxy, index: int) -> bool:
    ends = [d for d in (spec.switched_off_day, spec.deleted_day) if d is not None]
    return spec.first_day <= index < min(ends, default=HISTORY_DAYS)


def plans_seed() -> dict[str, Plan]:
    """The demo plans by title; existing ones (matched by type and title) are left as they are."""
    plans = {}
    for spec in PLANS:
        plan, _ = Plan.objects.get_or_create(
            proxy_type=spec.proxy_type,
            title=spec.title,
            defaults={
                "price_per_gb": Decimal(spec.price_per_gb),
                "description": spec.description,
                "popular": spec.popular,
                "enabled": spec.enabled,
            },
        )
        plans[spec.title] = plan
    return plans


def history_seed(
    *,
    owner,
    plans: dict[str, Plan],
    today: date,
    days: int = HISTORY_DAYS,
    through_services: bool = False,
) -> dict[str, Proxy]:
    """Proxies, top-ups, a refund and `days` days of usage up to yesterday (module docstring)."""
    first = today - timedelta(days=days)

    def at(index: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(first + timedelta(days=index), time(hour, minute), tzinfo=UTC)

    countries = dict(Country.objects.values_list("code", "pk"))
    balance_topup(owner=owner, amount=INITIAL_TOPUP, description="Welcome top-up", now=at(0, 7))
    funds = INITIAL_TOPUP  # what the balance would be, usage included, on the bulk path
    proxies: dict[str, Proxy] = {}
    usage_rows: list[UsageDaily] = []
    charges: list[Transaction] = []
    usage = iter(usage_plan(days, first_weekday=first.weekday()))
    pending = next(usage, None)
    for index in range(days):
        day = first + timedelta(days=index)
        for spec in PROXIES:
            if spec.first_day == index:
                proxies[spec.name] = _proxy_create(owner, spec, plans, countries, at(index, 7))
            if spec.switched_off_day == index:
                proxy_update(proxy=proxies[spec.name], status="inactive", now=at(index, 7))
            if spec.deleted_day == index:
                proxy_delete(proxy=proxies[spec.name], now=at(index, 7))
        if (balance_get(owner_id=owner.pk) if through_services else funds) < TOPUP_BELOW:
            balance_topup(
                owner=owner, amount=TOPUP_AMOUNT, description="Card top-up", now=at(index, 8)
            )
            funds += TOPUP_AMOUNT
        if index == REFUND_DAY:
            balance_refund(
                owner=owner,
                amount=REFUND_AMOUNT,
                description=f"Refund: gateway outage on {day - timedelta(days=1):%Y-%m-%d}",
                now=at(index, 10),
            )
            funds += REFUND_AMOUNT
        # One record per proxy and day, late in the day, as a nightly gateway import would send.
        minute = 0
        while pending is not None and pending.day_index == index:
            proxy, recorded_at = proxies[pending.proxy], at(index, 23, minute)
            if through_services:
                usage_record(
                    proxy=proxy,
                    day=day,
                    traffic_bytes=pending.traffic_bytes,
                    requests=pending.requests,
                    now=recorded_at,
                )
            else:
                cost = round_cents(usage_cost(pending.traffic_bytes, proxy.tariff.price_per_gb))
                usage_rows.append(
                    UsageDaily(
                        proxy=proxy,
                        owner=owner,
                        date=day,
                        traffic_bytes=pending.traffic_bytes,
                        requests=pending.requests,
                        cost=cost,
                        price_per_gb=proxy.tariff.price_per_gb,
                    )
                )
                if cost:
                    charges.append(
                        Transaction(
                            owner=owner,
                            tx_id=new_tx_id(),
                            type=TransactionType.CHARGE,
                            source="usage",
                            amount=-cost,
                            description=f"Traffic of {proxy.name} on {day:%Y-%m-%d}",
                            proxy=proxy,
                            created_at=recorded_at,
                        )
                    )
                    funds -= cost
            minute += 5
            pending = next(usage, None)

    with transaction.atomic():
        balance = account_lock(owner.pk)
        if usage_rows:
            UsageDaily.objects.bulk_create(usage_rows, batch_size=500)
            Transaction.objects.bulk_create(charges, batch_size=500)
            charged = sum((-charge.amount for charge in charges), Decimal("0.00"))
            Balance.objects.filter(pk=balance.pk).update(
                funds_available=F("funds_available") - charged
            )
            balance.refresh_from_db()
        # Statuses as of now: the current day's and month's usage against the limits, the balance.
        proxies_refresh_for_account(owner_id=owner.pk, balance=balance, now=timezone.now())
    return proxies


def _proxy_create(
    owner, spec: DemoProxy, plans: dict[str, Plan], countries: dict[str, int], now: datetime
) -> Proxy:
    return proxy_create(
        owner=owner,
        name=spec.name,
        proxy_type=spec.proxy_type,
        tariff_id=plans[spec.plan].pk,
        countries=[countries[code] for code in spec.countries if code in countries],
        description=spec.description,
        ip_whitelist=list(spec.ip_whitelist),
        limits=spec.limits,
        now=now,
    )


class Command(BaseCommand):
    help = "Create (or refresh) demo plans and the demo account with keys, proxies and usage."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even under production settings (a known password on a real deployment).",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        if settings.ENVIRONMENT == "production" and not force:
            raise CommandError(
                "Refusing to seed a demo account with a known password under production "
                "settings. Pass --force if this really is a demo deployment."
            )
        password = os.environ.get("DEMO_PASSWORD", "demo-password")
        with transaction.atomic():
            plans = plans_seed()
            user = self.user_seed(password)
            created_keys = self.keys_seed(user)
            if (
                Proxy.objects.filter(owner=user).exists()
                or Transaction.objects.filter(owner=user).exists()
            ):
                self.stdout.write("Demo proxies and usage history already present; left as is.")
            else:
                if not Country.objects.exists():
                    self.stdout.write("The geo directory is empty: demo proxies get no countries.")
                today = timezone.now().astimezone(UTC).date()
                proxies = history_seed(owner=user, plans=plans, today=today)
                self.stdout.write(
                    f"Seeded {len(proxies)} demo proxies with {HISTORY_DAYS} days of usage, "
                    f"{today - timedelta(days=HISTORY_DAYS)} to {today - timedelta(days=1)}."
                )
        for name, scopes, key in created_keys:
            self.stdout.write(f"Demo key {name!r} ({', '.join(scopes)}): {key}")
        self.stdout.write(
            f"Demo account ready (balance {balance_get(owner_id=user.pk)} USD). Log in at "
            f"http://127.0.0.1:8000/accounts/login/ as {DEMO_USERNAME} / {password}"
        )

    @staticmethod
    def user_seed(password: str):
        """The demo account, signing in at once: made as an operator makes accounts, so its
        address counts as verified (AS6), and without two-factor authentication."""
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            return User.objects.create_user(DEMO_USERNAME, DEMO_EMAIL, password)
        User.objects.trust_email(user)
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return user

    @staticmethod
    def keys_seed(user) -> list[tuple[str, list[str], str]]:
        existing = set(APIKey.objects.filter(owner=user).active().values_list("name", flat=True))
        created = []
        for name, scopes, expiration in DEMO_KEYS:
            if name not in existing:
                key = api_key_create(owner=user, name=name, scopes=scopes, expiration=expiration)
                created.append((name, scopes, key.key))
        return created
