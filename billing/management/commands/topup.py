"""`manage.py topup --user USERNAME (or --user-id ID) --amount 12.50 [--description TEXT]`:
add funds to an account.

Books a top-up in the ledger through `billing.services.balance_topup`, so proxies suspended for lack
of balance resume at once (A10).  Bad input exits non-zero with a one-line reason and books nothing.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_for_command
from billing.selectors import balance_get
from billing.services import balance_topup


class Command(BaseCommand):
    help = "Top up an account's balance (USD) and print the new balance."

    def add_arguments(self, parser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="Username or e-mail address of the account.")
        who.add_argument("--user-id", type=int, help="Numeric id of the account.")
        parser.add_argument(
            "--amount", required=True, help="USD, positive, at most two decimals, e.g. 12.50."
        )
        parser.add_argument("--description", default="", help="Shown in the transaction history.")

    def handle(
        self, *args, user: str | None, user_id: int | None, amount: str, description: str, **options
    ) -> None:
        try:
            owner = user_for_command(user=user, user_id=user_id)
        except LookupError as error:
            raise CommandError(str(error)) from None
        try:
            entry = balance_topup(owner=owner, amount=amount, description=description.strip())
        except ValidationError as error:
            raise CommandError(f"--amount {amount!r}: {' '.join(error.messages)}") from None
        self.stdout.write(
            f"Topped up {owner.username} by {entry.amount} {entry.currency} ({entry.tx_id}); "
            f"balance now {balance_get(owner_id=owner.pk)} {entry.currency}."
        )
