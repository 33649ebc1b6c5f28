"""django-allauth glue: account lockout (AS3) and "sudo mode" after a fresh sign-in (AS5)."""

import hashlib
import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from .reauthentication import recently_authenticated
from .selectors import user_find_for_sign_in

logger = logging.getLogger(__name__)


def _per_account_rate() -> str:
    """The `/key` part of the login_failed rate: the failures one account may take."""
    rates = settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")
    return next(rate.strip() for rate in rates if rate.strip().endswith("/key"))


class AccountAdapter(DefaultAccountAdapter):
    """Sign-in failures are counted per account, whichever identifier (username or e-mail, in any
    case) was typed; after the per-account limit the account stays locked for
    ACCOUNT_LOCKOUT_SECONDS, even for the right password.  Other accounts are not affected."""

    error_messages = DefaultAccountAdapter.error_messages | {
        "too_many_login_attempts": (
            "Too many failed sign-in attempts. For your security, sign-in to this account is "
            "paused for a few minutes. Try again later, or reset your password."
        ),
    }

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # An unreachable mail server must not turn a sign-up, a reset or a key creation into a
        # 500 after the change was made: log it for the operator (never the message, which can
        # hold a reset link) and let the page answer; the user can ask for the mail again.
        try:
            super().send_mail(template_prefix, email, context)
        except Exception:
            logger.exception("Could not send the %s e-mail", template_prefix.rsplit("/", 1)[-1])

    def clean_email(self, email: str) -> str:
        # Django's form field allows 320 characters; the column holds 254 (RFC 5321's limit for a
        # deliverable address).  Refuse longer ones here rather than fail in the database.
        max_length = get_user_model()._meta.get_field("email").max_length
        if len(email) > max_length:
            raise ValidationError(f"Enter an e-mail address of at most {max_length} characters.")
        return super().clean_email(email)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials) -> str:
        # allauth keys the counter by the typed identifier; "alice", "ALICE" and alice's e-mail
        # would each get their own budget.  Key it by the account instead.
        login = credentials.get("email", credentials.get("username", "")) or ""
        user = user_find_for_sign_in(login)
        return f"account:{user.pk}" if user else f"login:{login.strip().lower()}"

    @staticmethod
    def _lockout_key(attempts_key: str) -> str:
        return "accounts:lockout:" + hashlib.sha256(attempts_key.encode()).hexdigest()

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        attempts_key = self._get_login_attempts_cache_key(request, **credentials)
        if cache.get(self._lockout_key(attempts_key)):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request: HttpRequest, **credentials) -> None:
        # The failure is already counted (pre_authenticate consumed it).  When it was the last one
        # the account may take, lock for the full period from now: allauth's sliding window alone
        # would reopen as soon as the oldest failure ages out.
        attempts_key = self._get_login_attempts_cache_key(request, **credentials)
        rate = _per_account_rate()
        still_open = ratelimit.consume(
            request,
            app="allauth.account",
            action="login_failed",
            config={"login_failed": rate},
            key=attempts_key,
            dry_run=True,
        )
        if not still_open:
            cache.set(self._lockout_key(attempts_key), 1, settings.ACCOUNT_LOCKOUT_SECONDS)

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials) -> None:
        # A successful password reset proves the owner: lift the lock along with the counters.
        super()._delete_login_attempts_cached_email(request, **credentials)
        attempts_key = self._get_login_attempts_cache_key(request, **credentials)
        cache.delete(self._lockout_key(attempts_key))

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        request = context.request
        return request is None or not recently_authenticated(request)
