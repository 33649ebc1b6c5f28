"""The demo account's past: a year of proxies coming and going, top-ups, a refund and traffic.

Written through the product's services with `now=` set to the simulated moment, so the history
obeys the rules of real use: the balance is the ledger's sum, every day's cost is the sum of its
charges, statuses follow A10.  It is written in passes rather than day by day, because ~1,400
single `usage_record` calls (or one batch per night) would take seconds on SQLite:

1. the proxies, each created, switched off and deleted on the mornings of its days;
2. the traffic, one `usage_record_bulk` batch whose records are dated the night of their day;
3. the credits: a top-up every morning the balance (followed from the charges the batch reported)
   is below $150, so it never runs out, and a refund;
4. every proxy's status, derived as of now.

Traffic follows a weekday / weekend pattern with a slow trend, noise and rare spikes from a fixed
random seed (`usage_plan`), so two fresh installs seed the same figures.
"""

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing.models import Plan, Transaction
from billing.services import balance_lock, balance_refund, balance_topup
from proxies.inputs import ProxyUpdateInput
from proxies.models import Proxy
from proxies.services import proxies_refresh_for_account, proxy_delete, proxy_update
from stats.services import UsageEntry, usage_record_bulk

from .data import GB, PROXIES, country_ids_by_code, demo_proxy_create

SEED = 20260101
HISTORY_DAYS = 365
INITIAL_TOPUP = Decimal("500.00")
TOPUP_BELOW = Decimal("150.00")  # checked every simulated morning: the balance never runs out
TOPUP_AMOUNT = Decimal("500.00")
REFUND_DAY = 200  # days into the history
REFUND_AMOUNT = Decimal("15.00")


@dataclass(frozen=True)
class ProxyActivity:
    """What a demo proxy did: on which days of the history it was created, switched off and
    deleted, and the shape of its traffic (GB on a weekday, the weekend's share of that, the
    average request size)."""

    proxy: str
    weekday_gb: float
    weekend_share: float
    bytes_per_request: int
    first_day: int = 0
    switched_off_day: int | None = None  # the owner switched it off (inactive) that morning
    deleted_day: int | None = None


# In the order of `data.PROXIES`: the random draws of `usage_plan` follow it.
ACTIVITY = [
    ProxyActivity("shop_scraper", weekday_gb=1.6, weekend_share=0.35, bytes_per_request=180_000),
    ProxyActivity("price_monitor", weekday_gb=1.2, weekend_share=0.8, bytes_per_request=45_000),
    ProxyActivity(
        "seo_checker", weekday_gb=0.22, weekend_share=0.15, bytes_per_request=95_000, first_day=30
    ),
    ProxyActivity(
        "ad_verifier",
        weekday_gb=0.3,
        weekend_share=0.5,
        bytes_per_request=60_000,
        first_day=90,
        switched_off_day=320,
    ),
    ProxyActivity(
        "old_crawler",
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
        for activity in ACTIVITY:
            noise = max(0.2, rng.gauss(1.0, 0.18))
            spike = 2.5 if rng.random() < 0.02 else 1.0
            if not _carries_traffic(activity, index, days):
                continue
            share = activity.weekend_share if weekend else 1.0
            traffic = int(activity.weekday_gb * GB * share * trend * noise * spike)
            requests = max(1, int(traffic / activity.bytes_per_request * rng.uniform(0.9, 1.1)))
            yield DemoUsage(index, activity.proxy, traffic, requests)


def _carries_traffic(activity: ProxyActivity, index: int, days: int) -> bool:
    ends = [d for d in (activity.switched_off_day, activity.deleted_day) if d is not None]
    return activity.first_day <= index < min(ends, default=days)


def history_present(owner: User) -> bool:
    """Whether the account has a past already: any proxy (deleted ones too) or ledger entry."""
    return (
        Proxy.objects.filter(owner=owner).exists()
        or Transaction.objects.filter(owner=owner).exists()
    )


def history_seed(
    *,
    owner: User,
    plans: dict[str, Plan],
    now: datetime | None = None,
    days: int = HISTORY_DAYS,
) -> dict[str, Proxy]:
    """The proxies (by name), top-ups, refund and `days` days of usage up to yesterday (UTC), for
    an account without a history (`history_present`).  Statuses end as of `now`."""
    now = now or timezone.now()
    first = now.astimezone(UTC).date() - timedelta(days=days)

    def at(index: int, hour: int) -> datetime:
        return datetime.combine(first + timedelta(days=index), time(hour), tzinfo=UTC)

    balance_topup(owner=owner, amount=INITIAL_TOPUP, description="Welcome top-up", now=at(0, 7))
    proxies = _proxies_seed(owner=owner, plans=plans, at=at, days=days)
    usage = list(usage_plan(days, first_weekday=first.weekday()))
    entries = []
    for index, day_usage in groupby(usage, key=lambda u: u.day_index):
        day = first + timedelta(days=index)
        # One record per proxy and day, late that night, as a gateway's nightly import sends them.
        for slot, u in enumerate(day_usage):
            recorded_at = at(index, 23) + timedelta(minutes=5 * slot)
            entries.append(
                UsageEntry(proxies[u.proxy], day, u.traffic_bytes, u.requests, recorded_at)
            )
    recorded = usage_record_bulk(entries=entries, now=now)
    charged_on = [Decimal("0.00")] * days
    for u, result in zip(usage, recorded, strict=True):
        charged_on[u.day_index] += result.charged
    _credits_seed(owner=owner, charged_on=charged_on, at=at)
    # The credits re-derived the statuses as of their own (past) moments; settle them as of now.
    with transaction.atomic():
        balance = balance_lock(owner.pk)
        proxies_refresh_for_account(owner_id=owner.pk, balance=balance, now=now)
    for proxy in proxies.values():
        proxy.refresh_from_db()
    return proxies


def _proxies_seed(
    *,
    owner: User,
    plans: dict[str, Plan],
    at: Callable[[int, int], datetime],
    days: int,
) -> dict[str, Proxy]:
    """Each demo proxy created, switched off and deleted on the mornings of its days."""
    specs = {spec.name: spec for spec in PROXIES}
    countries = country_ids_by_code()
    proxies: dict[str, Proxy] = {}
    for index in range(days):
        for activity in ACTIVITY:
            name = activity.proxy
            if activity.first_day == index:
                proxies[name] = demo_proxy_create(
                    owner=owner,
                    spec=specs[name],
                    plans=plans,
                    countries=countries,
                    now=at(index, 7),
                )
            if activity.switched_off_day == index:
                proxy_update(
                    proxy=proxies[name], changes=ProxyUpdateInput(enabled=False), now=at(index, 7)
                )
            if activity.deleted_day == index:
                proxy_delete(proxy=proxies[name], now=at(index, 7))
    for proxy in proxies.values():
        proxy.refresh_from_db()  # a deleted proxy's usage is checked against its deletion day
    return proxies


def _credits_seed(
    *, owner: User, charged_on: list[Decimal], at: Callable[[int, int], datetime]
) -> None:
    """A card top-up every morning the balance is below TOPUP_BELOW, and the refund.

    Booked after the usage, dated when they happen: the morning balance is followed from the
    charges `usage_record_bulk` reported, so a top-up comes exactly when the balance called for it.
    """
    funds = INITIAL_TOPUP
    for index, charged in enumerate(charged_on):
        if funds < TOPUP_BELOW:
            balance_topup(
                owner=owner, amount=TOPUP_AMOUNT, description="Card top-up", now=at(index, 8)
            )
            funds += TOPUP_AMOUNT
        if index == REFUND_DAY:
            day = at(index, 0).date()
            balance_refund(
                owner=owner,
                amount=REFUND_AMOUNT,
                description=f"Refund: gateway outage on {day - timedelta(days=1):%Y-%m-%d}",
                now=at(index, 10),
            )
            funds += REFUND_AMOUNT
        funds -= charged
