"""`manage.py seed_demo`: a demo account with a few API keys.  Idempotent.

Prints the demo credentials, and the full value of any key it creates (existing keys cannot be
shown again: only their digest is stored).
"""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apikeys.models import APIKey, Expiration
from apikeys.scopes import BALANCE_READ, GEO_READ, PROXIES_READ, PROXIES_WRITE, STATS_READ
from apikeys.services import api_key_create

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_KEYS = [
    ("Monitoring", [STATS_READ, BALANCE_READ], Expiration.YEAR_1),
    ("Geo lookup", [GEO_READ], Expiration.DAYS_90),
    ("Provisioning pipeline", [PROXIES_READ, PROXIES_WRITE, GEO_READ], Expiration.NEVER),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo account and its API keys."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD", "demo-password")
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=DEMO_USERNAME, defaults={"email": DEMO_EMAIL})
        user.set_password(password)
        user.save(update_fields=["password"])
        existing = set(APIKey.objects.filter(owner=user).active().values_list("name", flat=True))
        for name, scopes, expiration in DEMO_KEYS:
            if name in existing:
                continue
            created = api_key_create(owner=user, name=name, scopes=scopes, expiration=expiration)
            self.stdout.write(f"Demo key {name!r} ({', '.join(scopes)}): {created.key}")
        self.stdout.write(
            f"Demo account ready. Log in at http://127.0.0.1:8000/accounts/login/ "
            f"as {DEMO_USERNAME} / {password}"
        )
