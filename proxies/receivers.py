"""Proxies' side of what lower layers announce (connected in `ProxiesConfig.ready`)."""

from django.dispatch import receiver

from billing.signals import funds_credited

from .services import proxies_refresh_for_account


@receiver(funds_credited, dispatch_uid="proxies.resume_after_credit")
def resume_after_credit(sender, *, owner_id: int, balance, now, **kwargs) -> None:
    """A10: proxies suspended for lack of balance resume as soon as money comes in."""
    proxies_refresh_for_account(owner_id=owner_id, balance=balance, now=now)
