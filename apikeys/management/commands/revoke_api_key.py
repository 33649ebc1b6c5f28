"""`manage.py revoke_api_key KEY`: revoke a key given in full (e.g. one found in a leaked file)."""

from django.core.management.base import BaseCommand, CommandError

from apikeys.models import APIKey
from apikeys.services import api_key_revoke_by_value


class Command(BaseCommand):
    help = "Revoke an API key, given the full key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("key", help="The full API key.")

    def handle(self, *args, key: str, **options) -> None:
        try:
            api_key = api_key_revoke_by_value(key=key.strip())
        except APIKey.DoesNotExist:
            raise CommandError("No such API key.") from None
        self.stdout.write(
            f"Revoked API key {api_key.name!r} ({api_key.display_prefix}...) of {api_key.owner}."
        )
