"""`manage.py rotate_api_key KEY [--grace now|1h|24h|7d]`: replace a key (K25).

The replacement has the old key's name, scopes and expiration option (expiry counted from now);
the old key keeps working until the grace period ends (default 24h).  `-` reads the key from
standard input, keeping it out of the shell history and the process list
(`echo "$KEY" | manage.py rotate_api_key - --grace 1h`).  The new key is the last line of stdout.
The owner is e-mailed about the replacement (K29), as for `create_api_key`.
"""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apikeys.models import APIKey
from apikeys.notifications import OPERATOR_MAIL_FAILED, operator_key_created_send
from apikeys.services import (
    DEFAULT_GRACE,
    GRACE_PERIODS,
    api_key_find_by_value,
    api_key_rotate,
)

MAX_INPUT = 4096  # far more than any key; stops a mistaken pipe from reading a whole file


class Command(BaseCommand):
    help = "Rotate an API key: print its replacement once and retire it after the grace period."

    def add_arguments(self, parser) -> None:
        parser.add_argument("key", help="The full API key, or - to read it from standard input.")
        parser.add_argument(
            "--grace",
            default=DEFAULT_GRACE,
            help=f"How long the old key keeps working: {', '.join(GRACE_PERIODS)} "
            f"(default {DEFAULT_GRACE}).",
        )

    def handle(self, *args, key: str, grace: str, **options) -> None:
        if grace not in GRACE_PERIODS:
            raise CommandError(f"--grace must be one of {', '.join(GRACE_PERIODS)}.")
        if key == "-":
            key = sys.stdin.read(MAX_INPUT)
        try:
            old = api_key_find_by_value(key=key.strip())
            created = api_key_rotate(owner_id=old.owner_id, key_id=old.pk, grace=grace)
        except APIKey.DoesNotExist:
            raise CommandError("No such API key.") from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        old.refresh_from_db()
        retires = old.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC") if old.expires_at else "?"
        self.stdout.write(
            f"Rotated API key {old.name!r} ({old.display_prefix}...): it works until {retires}. "
            f"Its replacement {created.api_key.display_prefix}... — store it now:"
        )
        if not operator_key_created_send(api_key=created.api_key, rotated_from=old):
            self.stderr.write(OPERATOR_MAIL_FAILED)
        self.stdout.write(created.key)
