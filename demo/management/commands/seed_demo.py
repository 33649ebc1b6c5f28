"""`manage.py seed_demo`: plans, and a demo account with API keys, proxies and a year of usage.

Idempotent: plans are matched by type and title, the account by username, keys by name
(`demo.data`); the proxies and their history (`demo.history`) are created only while the demo
account has neither proxies nor ledger entries, so a second run adds nothing.  Everything is one
transaction: all or nothing.

Prints the demo credentials (password from DEMO_PASSWORD, default "demo-password"), and the full
value of any key it creates (existing keys cannot be shown again: only their digest is stored).
"""

import os
from datetime import UTC, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from billing.selectors import balance_get
from demo.data import (
    DEMO_USERNAME,
    country_ids_by_code,
    demo_keys_seed,
    demo_user_seed,
    plans_seed,
)
from demo.history import HISTORY_DAYS, history_present, history_seed


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
            user = demo_user_seed(password)
            created_keys = demo_keys_seed(user)
            if history_present(user):
                self.stdout.write("Demo proxies and usage history already present; left as is.")
            else:
                if not country_ids_by_code():
                    self.stdout.write("The geo directory is empty: demo proxies get no countries.")
                now = timezone.now()
                proxies = history_seed(owner=user, plans=plans, now=now)
                today = now.astimezone(UTC).date()
                self.stdout.write(
                    f"Seeded {len(proxies)} demo proxies with {HISTORY_DAYS} days of usage, "
                    f"{today - timedelta(days=HISTORY_DAYS)} to {today - timedelta(days=1)}."
                )
        for created in created_keys:
            self.stdout.write(
                f"Demo key {created.name!r} ({', '.join(created.scopes)}): {created.key}"
            )
        self.stdout.write(
            f"Demo account ready (balance {balance_get(owner_id=user.pk)} USD). Log in at "
            f"http://127.0.0.1:8000/accounts/login/ as {DEMO_USERNAME} / {password}"
        )
