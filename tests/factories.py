"""factory_boy factories.  `APIKeyFactory` keeps the full key on the instance as `.key` (tests only)."""

from datetime import timedelta

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from apikeys import crypto
from apikeys.models import APIKey, Expiration


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


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
