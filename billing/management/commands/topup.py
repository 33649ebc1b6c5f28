"""`manage.py topup --user USERNAME --amount 12.50 [--description TEXT]`: add funds to an account.

Books a top-up in the ledger through `billing.services.balance_topup`, so proxies suspended for lack
of balance resume at once (A10).  Bad input exits non-zero with a one-line reason and books nothing.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_find
from billing.selectors import balance_get
from billing.services import balance_topup


class Command(BaseCommand):
    help = "Top up an account's balance (USD) and print the new balance."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="Username (or email) of the account.")
        parser.add_argument(
            "--amount", required=True, help="USD, positive, at most two decimals, e.g. 12.50."
        )
        parser.add_argument("--description", default="", help="Shown in the transaction history.")

    def handle(self, *args, user: str, amount: str, description: str, **options) -> None:
        owner = user_find(username_or_email=user)
        if owner is None:
            raise CommandError(f"No user {user!r}.")
        try:
            entry = balance_topup(owner=owner, amount=amount, description=description.strip())
        except ValidationError as error:
            raise CommandError(f"--amount {amount!r}: {' '.join(error.messages)}") from None
        self.stdout.write(
            f"Topped up {owner.username} by {entry.amount} {entry.currency} ({entry.tx_id}); "
            f"balance now {balance_get(owner_id=owner.pk)} {entry.currency}."
        )
