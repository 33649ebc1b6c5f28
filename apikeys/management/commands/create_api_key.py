"""`manage.py create_api_key --user U (or --user-id ID) --name N --scopes a,b [--expires 90d]
[--allowed-ips 203.0.113.0/24,2001:db8::/32]`.

Prints the full key as the last line of stdout (the only time it is ever shown).  Bad input exits
non-zero with a one-line reason.  The owner is e-mailed that a key was created on their account
(K29; name, prefix, scopes, expiry, allowlist, never the key); a mail that cannot be sent is
reported on stderr and does not undo the key.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_for_command
from apikeys.models import Expiration
from apikeys.notifications import OPERATOR_MAIL_FAILED, operator_key_created_send
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
        parser.add_argument(
            "--allowed-ips",
            default="",
            help="Comma-separated IPv4/IPv6 addresses and CIDR networks the key works from "
            "(default: anywhere).",
        )

    def handle(
        self,
        *args,
        user: str | None,
        user_id: int | None,
        name: str,
        scopes: str,
        expires: str,
        allowed_ips: str,
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
                owner=owner,
                name=name,
                scopes=scopes.split(","),
                expiration=expires,
                allowed_ips=allowed_ips,
            )
        except ValidationError as error:
            raise CommandError(_one_line(error)) from None
        api_key = created.api_key
        expiry = (
            api_key.expires_at.strftime("%Y-%m-%d %H:%M UTC") if api_key.expires_at else "never"
        )
        where = ",".join(api_key.allowed_ip_list) or "anywhere"
        self.stdout.write(
            f"Created API key {api_key.name!r} for {owner.username} "
            f"(scopes: {api_key.scopes.replace(' ', ',')}; expires: {expiry}; "
            f"allowed from: {where}). Store it now:"
        )
        if not operator_key_created_send(api_key=api_key):
            self.stderr.write(OPERATOR_MAIL_FAILED)
        self.stdout.write(created.key)


def _one_line(error: ValidationError) -> str:
    """Each field's messages, named by the option that set them."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    options = {"allowed_ips": "--allowed-ips", "scopes": "--scopes", "name": "--name"}
    return " ".join(
        f"{options.get(field, field)}: {' '.join(messages)}"
        for field, messages in error.message_dict.items()
    )
