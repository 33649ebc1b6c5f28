"""Account events into the security log (K27), from Django's and django-allauth's signals.

Connected in `AccountsConfig.ready`.  A failed sign-in is logged on the account it named (by
username or e-mail, any case); one that names no account has no log to go in.
"""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals

from .models import SecurityActor, SecurityEventType
from .selectors import user_find_for_sign_in
from .services import SYSTEM, Origin, account_of, security_event_record


def _origin(request) -> Origin:
    return Origin.from_request(request, actor=SecurityActor.OWNER) if request else SYSTEM


def _record(request, user, event: SecurityEventType, **details) -> None:
    account = account_of(user)
    if account is not None:
        security_event_record(
            account_id=account.pk, event=event, origin=_origin(request), details=details
        )


def signed_in(sender, request, user, **kwargs) -> None:
    _record(request, user, SecurityEventType.SIGNED_IN)


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    login = credentials.get("email") or credentials.get("username") or ""
    if isinstance(login, str) and login:
        _record(request, user_find_for_sign_in(login), SecurityEventType.SIGN_IN_FAILED)


def second_factor_failed(sender, request, user, authenticator=None, **kwargs) -> None:
    method = getattr(authenticator, "type", "") or ""
    _record(request, user, SecurityEventType.SIGN_IN_FAILED, second_factor=str(method))


def password_changed(sender, request, user, **kwargs) -> None:
    _record(request, user, SecurityEventType.PASSWORD_CHANGED)


def password_reset(sender, request, user, **kwargs) -> None:
    _record(request, user, SecurityEventType.PASSWORD_RESET)


def email_changed(sender, request, user, from_email_address=None, to_email_address=None, **kw):
    _record(
        request,
        user,
        SecurityEventType.EMAIL_CHANGED,
        old=getattr(from_email_address, "email", "") or "",
        new=getattr(to_email_address, "email", "") or "",
    )


def _authenticator_event(event: SecurityEventType):
    def receiver(sender, request, user, authenticator=None, **kwargs) -> None:
        _record(request, user, event, method=str(getattr(authenticator, "type", "") or ""))

    return receiver


authenticator_added = _authenticator_event(SecurityEventType.MFA_ADDED)
authenticator_removed = _authenticator_event(SecurityEventType.MFA_REMOVED)
authenticator_reset = _authenticator_event(SecurityEventType.MFA_RECOVERY_CODES_RESET)


def connect() -> None:
    uid = "accounts.security_log"
    auth_signals.user_logged_in.connect(signed_in, dispatch_uid=f"{uid}.signed_in")
    auth_signals.user_login_failed.connect(sign_in_failed, dispatch_uid=f"{uid}.failed")
    mfa_signals.authentication_failed.connect(second_factor_failed, dispatch_uid=f"{uid}.mfa")
    account_signals.password_changed.connect(password_changed, dispatch_uid=f"{uid}.password")
    account_signals.password_set.connect(password_changed, dispatch_uid=f"{uid}.password_set")
    account_signals.password_reset.connect(password_reset, dispatch_uid=f"{uid}.reset")
    account_signals.email_changed.connect(email_changed, dispatch_uid=f"{uid}.email")
    mfa_signals.authenticator_added.connect(authenticator_added, dispatch_uid=f"{uid}.mfa_add")
    mfa_signals.authenticator_removed.connect(authenticator_removed, dispatch_uid=f"{uid}.mfa_rm")
    mfa_signals.authenticator_reset.connect(authenticator_reset, dispatch_uid=f"{uid}.mfa_reset")
