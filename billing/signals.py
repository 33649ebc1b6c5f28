"""What billing announces to the layers above it, which it never imports.

`funds_credited`: money was booked into an account (a top-up or a refund).  Sent inside the
crediting transaction, with the account's `Balance` row locked and already holding the new total,
so a receiver's writes commit or roll back with the credit.  Arguments: `owner_id`, `balance`
(the locked row), `now`.  `proxies` listens: suspended proxies resume at once (A10).
"""

from django.dispatch import Signal

funds_credited = Signal()
