"""factory_boy factories.  `APIKeyFactory` keeps the full key on the instance as `.key` (tests only)."""

from datetime import timedelta
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from apikeys import crypto
from apikeys.models import APIKey, Expiration
from billing.models import Plan, ProxyType
from proxies.inputs import proxy_create_input, proxy_update_input
from proxies.models import Proxy, UsageDaily
from proxies.services import generate_public_id, proxy_create, proxy_update
from stats.rollup import account_usage_add

DEFAULT_PASSWORD = "correct-horse-battery"  # every factory-made account signs in with it


class UserFactory(factory.django.DjangoModelFactory):
    """An account as an operator would make it: its e-mail address trusted as verified (AS6).
    `unverified=True`: a self sign-up that has not confirmed its address yet.
    `totp=True`: TOTP enrolled, its secret kept on the instance as `totp_secret` (tests only)."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @classmethod
    def _create(cls, model_class, *args, unverified: bool = False, totp: bool = False, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        if unverified:
            EmailAddress.objects.create(user=user, email=user.email.lower(), primary=True)
        else:
            model_class.objects.trust_email(user)
        if totp:
            user.totp_secret = generate_totp_secret()
            TOTP.activate(user, user.totp_secret)
        return user


class APIKeyFactory(factory.django.DjangoModelFactory):
    """A stored key whose full value is available as `instance.key`.

    Traits: `revoked=True`, `expired=True`.
    """

    class Meta:
        model = APIKey

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Key {n}")
    scopes = "geo:read"
    expiration = Expiration.DAYS_90
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(days=90))

    class Params:
        revoked = factory.Trait(revoked_at=factory.LazyFunction(timezone.now))
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
        )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        prefix = settings.API_KEY_PREFIX
        key = crypto.generate_key(prefix)
        kwargs.setdefault("display_prefix", crypto.display_prefix(key, prefix))
        kwargs["digest"] = crypto.digest(key, settings.API_KEY_SECRET)
        instance = super()._create(model_class, *args, **kwargs)
        instance.key = key
        return instance


# --- Plans, proxies, usage ----------------------------------------------------------------------


class PlanFactory(factory.django.DjangoModelFactory):
    """A pay-as-you-go plan, residential at $4.00/GB unless told.  Traits: `mobile`, `disabled`."""

    class Meta:
        model = Plan

    proxy_type = ProxyType.RESIDENTIAL
    title = factory.Sequence(lambda n: f"Plan {n}")
    price_per_gb = Decimal("4.00")

    class Params:
        mobile = factory.Trait(proxy_type=ProxyType.MOBILE, price_per_gb=Decimal("8.00"))
        disabled = factory.Trait(enabled=False)


class ProxyFactory(factory.django.DjangoModelFactory):
    """A bare proxy row (status `active`, no limit).  For A10 behaviour create proxies through
    `proxies.services.proxy_create`, which derives the status from the balance and the limit."""

    class Meta:
        model = Proxy

    public_id = factory.LazyFunction(generate_public_id)
    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"proxy_{n}")
    plan = factory.SubFactory(PlanFactory)
    proxy_type = factory.LazyAttribute(lambda o: o.plan.proxy_type)


class UsageDailyFactory(factory.django.DjangoModelFactory):
    """A daily usage row written directly (no charge booked): for reads, not for ledger tests.

    Its amounts are added to the account's daily rollup too (`AccountUsageDaily`), as
    `usage_record` does, so account reports see it; a later `update()` of the row is not."""

    class Meta:
        model = UsageDaily

    proxy = factory.SubFactory(ProxyFactory)
    owner = factory.LazyAttribute(lambda o: o.proxy.owner)
    date = factory.LazyFunction(lambda: timezone.now().date())
    traffic_bytes = 10**9
    requests = 100
    cost = Decimal("4.00")
    price_per_gb = factory.LazyAttribute(lambda o: o.proxy.plan.price_per_gb)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        usage = super()._create(model_class, *args, **kwargs)
        account_usage_add(
            owner_id=usage.owner_id,
            deltas=[(usage.date, usage.traffic_bytes, usage.requests, Decimal(usage.cost))],
        )
        return usage


def create_proxy(*, owner, now=None, **raw) -> Proxy:
    """A proxy created as the dashboard and the API create one: the raw values (`name`,
    `proxy_type`, `tariff_id`, `countries`, ...) through `proxies.inputs`, then `proxy_create`."""
    return proxy_create(owner_id=owner.pk, data=proxy_create_input(raw), now=now)


def update_proxy(*, proxy, now=None, **raw) -> Proxy:
    """Change a proxy as the dashboard and the API do: raw values through `proxies.inputs`."""
    return proxy_update(proxy=proxy, changes=proxy_update_input(raw), now=now)
