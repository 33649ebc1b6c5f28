"""`manage.py send_key_expiry_reminders [--within DAYS]`: e-mail owners about keys that expire
within DAYS days (default 7), once per key (K26).  Run it daily from cron:

    15 7 * * *  cd /srv/proxy-dashboard && .venv/bin/python manage.py send_key_expiry_reminders

Each reminder is claimed in the database before it is sent, so a re-run, or two runs at once, send
nothing twice; a mail that fails is released and tried again by the next run.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apikeys.notifications import key_mail_send
from apikeys.selectors import api_keys_expiring
from apikeys.services import api_key_expiry_reminder_claim, api_key_expiry_reminder_release

MAX_DAYS = 366


class Command(BaseCommand):
    help = "E-mail each owner once about API keys that expire soon."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--within",
            default=str(settings.API_KEY_EXPIRY_REMINDER_DAYS),
            help=f"Remind about keys expiring within this many days (1-{MAX_DAYS}; "
            f"default {settings.API_KEY_EXPIRY_REMINDER_DAYS}).",
        )

    def handle(self, *args, within: str, **options) -> None:
        try:
            days = int(within)
        except ValueError:
            raise CommandError(
                f"--within must be a whole number of days, not {within!r}."
            ) from None
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--within must be between 1 and {MAX_DAYS} days.")
        now = timezone.now()
        sent = failed = 0
        for api_key in api_keys_expiring(within=timedelta(days=days), now=now):
            if not api_key.owner.email:
                continue  # nowhere to send it; the dashboard still shows the expiry
            if not api_key_expiry_reminder_claim(api_key=api_key, now=now):
                continue  # another run has it
            if key_mail_send(api_key=api_key, template="key_expiring"):
                sent += 1
            else:
                api_key_expiry_reminder_release(api_key=api_key, claimed_at=now)
                failed += 1
        self.stdout.write(f"Sent {sent} expiry reminder(s); {failed} could not be sent.")
        if failed:
            raise CommandError(
                f"{failed} reminder(s) could not be sent; the next run retries them."
            )
