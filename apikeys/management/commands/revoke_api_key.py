"""`manage.py revoke_api_key KEY`: revoke a key given in full (e.g. one found in a leaked file).

`manage.py revoke_api_key -` reads the key from standard input instead, so it never appears in
the shell history or in the process list (`echo "$KEY" | manage.py revoke_api_key -`).
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from apikeys.models import APIKey
from apikeys.services import api_key_revoke_by_value

MAX_INPUT = 4096  # far more than any key; stops a mistaken pipe from reading a whole file


class Command(BaseCommand):
    help = "Revoke an API key, given the full key (or - to read it from standard input)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("key", help="The full API key, or - to read it from standard input.")

    def handle(self, *args, key: str, **options) -> None:
        if key == "-":
            key = sys.stdin.read(MAX_INPUT)
        try:
            api_key = api_key_revoke_by_value(key=key.strip())
        except APIKey.DoesNotExist:
            raise CommandError("No such API key.") from None
        self.stdout.write(
            f"Revoked API key {api_key.name!r} ({api_key.display_prefix}...) of {api_key.owner}."
        )
