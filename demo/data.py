"""The demo account as it stands: the plans, the account, its API keys and its proxies.

Each `*_seed` function is idempotent and changes nothing an operator or the demo user changed
meanwhile, except a password that no longer matches (set again, so the printed credentials always
work).  When each proxy was created, and what it did since, is the history's part (`demo.history`).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from accounts.models import User
from apikeys.models import APIKey, Expiration
from apikeys.scopes import BALANCE_READ, GEO_READ, PROXIES_READ, PROXIES_WRITE, STATS_READ
from apikeys.services import api_key_create
from billing.models import Plan, ProxyType
from proxies.geo.models import Country
from proxies.inputs import proxy_create_input
from proxies.models import Proxy
from proxies.services import proxy_create

GB = 10**9
DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"


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
class DemoKey:
    name: str
    scopes: tuple[str, ...]
    expiration: str


DEMO_KEYS = [
    DemoKey("Monitoring", (STATS_READ, BALANCE_READ), Expiration.YEAR_1),
    DemoKey("Geo lookup", (GEO_READ,), Expiration.DAYS_90),
    DemoKey("Provisioning pipeline", (PROXIES_READ, PROXIES_WRITE, GEO_READ), Expiration.NEVER),
]


@dataclass(frozen=True)
class CreatedDemoKey:
    """A demo key created by this run, with its full value: the only time it can be shown."""

    name: str
    scopes: tuple[str, ...]
    key: str


@dataclass(frozen=True)
class DemoProxy:
    """A demo proxy's settings, as its owner chose them when creating it."""

    name: str
    proxy_type: str
    plan: str
    countries: tuple[str, ...]
    description: str
    ip_whitelist: tuple[str, ...]
    limits: dict | None


PROXIES = [
    DemoProxy(
        "shop_scraper",
        ProxyType.RESIDENTIAL,
        "Pay as you go",
        ("US", "DE", "GB"),
        "Product pages of partner shops, every night.",
        ("203.0.113.10", "198.51.100.0/24"),
        {"limit_type": "money", "time_period": "daily", "total_limit": "14.00"},
    ),
    DemoProxy(
        "price_monitor",
        ProxyType.RESIDENTIAL,
        "Business",
        ("US",),
        "Competitor price checks, hourly.",
        ("2001:db8:1200::/48",),
        {"limit_type": "traffic", "time_period": "monthly", "total_limit": 60 * GB},
    ),
    DemoProxy(
        "seo_checker",
        ProxyType.MOBILE,
        "Mobile PAYG",
        ("DE", "FR"),
        "Mobile search result positions.",
        ("192.0.2.44",),
        None,
    ),
    DemoProxy(
        "ad_verifier",
        ProxyType.MOBILE,
        "Mobile PAYG",
        ("US", "GB"),
        "Ad placement checks; paused after the campaign ended.",
        (),
        {"limit_type": "money", "time_period": "monthly", "total_limit": "60.00"},
    ),
    DemoProxy(
        "old_crawler",
        ProxyType.RESIDENTIAL,
        "Pay as you go",
        ("DE",),
        "Replaced by shop_scraper.",
        (),
        None,
    ),
]


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


def demo_user_seed(password: str) -> User:
    """The demo account, signing in at once: made as an operator makes accounts, so its
    address counts as verified (AS6), and without two-factor authentication."""
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        return User.objects.create_user(DEMO_USERNAME, DEMO_EMAIL, password)
    User.objects.trust_email(user)
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def demo_keys_seed(owner: User) -> list[CreatedDemoKey]:
    """Creates each demo key the account has no active key of that name for (so a revoked or
    expired one is replaced), and returns those it created."""
    existing = set(APIKey.objects.filter(owner=owner).active().values_list("name", flat=True))
    created = []
    for spec in DEMO_KEYS:
        if spec.name not in existing:
            key = api_key_create(
                owner=owner, name=spec.name, scopes=spec.scopes, expiration=spec.expiration
            )
            created.append(CreatedDemoKey(spec.name, spec.scopes, key.key))
    return created


def demo_proxy_create(
    *,
    owner: User,
    spec: DemoProxy,
    plans: dict[str, Plan],
    countries: dict[str, int],
    now: datetime,
) -> Proxy:
    """One demo proxy, created as its owner would; codes missing from the geo directory
    (`countries`: id by ISO code) are left out."""
    data = proxy_create_input(
        {
            "name": spec.name,
            "proxy_type": spec.proxy_type,
            "tariff_id": plans[spec.plan].pk,
            "countries": [countries[code] for code in spec.countries if code in countries],
            "description": spec.description,
            "ip_whitelist": list(spec.ip_whitelist),
            "limits": spec.limits,
        }
    )
    return proxy_create(owner_id=owner.pk, data=data, now=now)


def country_ids_by_code() -> dict[str, int]:
    """The geo directory's country ids by ISO code; empty until `load_geo` has run."""
    return dict(Country.objects.values_list("code", "pk"))
