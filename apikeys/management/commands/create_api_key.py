"""`manage.py create_api_key --user U (or --user-id ID) --name N --scopes a,b [--expires 90d]`.

Prints the full key as the last line of stdout (the only time it is ever shown).  Bad input exits
non-zero with a one-line reason.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_for_command
from apikeys.models import Expiration
from apikeys.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a user and print it once."

    def add_arguments(self, parser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="Username or e-mail address of the owner.")
        who.add_argument("--user-id", type=int, help="Numeric id of the owner.")
        parser.add_argument("--name", required=True, help="Key name, 1-100 characters.")
        parser.add_argument(
            "--scopes", required=True, help="Comma-separated scopes, e.g. geo:read,stats:read."
        )
        parser.add_argument(
            "--expires", default=Expiration.DAYS_90, help="30d, 90d, 6m, 1y or never (default 90d)."
        )

    def handle(
        self,
        *args,
        user: str | None,
        user_id: int | None,
        name: str,
        scopes: str,
        expires: str,
        **options,
    ) -> None:
        try:
            owner = user_for_command(user=user, user_id=user_id)
        except LookupError as error:
            raise CommandError(str(error)) from None
        if expires not in Expiration.values:
            raise CommandError(f"--expires must be one of {', '.join(Expiration.values)}.")
        try:
            created = api_key_create(
                owner=owner, name=name, scopes=scopes.split(","), expiration=expires
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        api_key = created.api_key
        expiry = (
            api_key.expires_at.strftime("%Y-%m-%d %H:%M UTC") if api_key.expires_at else "never"
        )
        self.stdout.write(
            f"Created API key {api_key.name!r} for {owner.username} "
            f"(scopes: {api_key.scopes.replace(' ', ',')}; expires: {expiry}). Store it now:"
        )
        self.stdout.write(created.key)
