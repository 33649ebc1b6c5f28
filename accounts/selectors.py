"""Reads of user accounts."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from .models import SecurityEvent


class AmbiguousUser(Exception):
    """An identifier names more than one account (AS2); the caller must say which by id."""

    def __init__(self, identifier: str, users: list) -> None:
        self.identifier, self.users = identifier, users
        ids = ", ".join(str(user.pk) for user in users)
        super().__init__(
            f"{identifier!r} matches more than one account (ids {ids}); name it by id instead."
        )


def user_find(*, username_or_email: str):
    """The one account whose username or e-mail address equals `username_or_email` (any case);
    None if there is none.  Raises AmbiguousUser when it names two accounts (one by username,
    another by an address that is not a real e-mail address, say): operator commands must never
    guess whose balance to credit or whose key to mint."""
    identifier = username_or_email.strip()
    if not identifier:
        return None  # never the accounts that have no email address
    users = list(
        get_user_model()
        .objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))
        .order_by("pk")[:3]
    )
    if len(users) > 1:
        raise AmbiguousUser(identifier, users)
    return users[0] if users else None


def user_find_for_sign_in(login: str):
    """The account a sign-in attempt is for, or None: used only to count failures per account,
    so an ambiguous identifier simply counts against itself."""
    try:
        return user_find(username_or_email=login)
    except AmbiguousUser:
        return None


def user_for_command(*, user: str | None, user_id: int | None):
    """The account an operator command names with `--user` (username or e-mail) or `--user-id`.
    Raises LookupError with a one-line reason when there is none, or when `--user` is ambiguous."""
    if (user is None) == (user_id is None):
        raise LookupError("Name the account with exactly one of --user or --user-id.")
    if user_id is not None:
        found = get_user_model().objects.filter(pk=user_id).first()
        if found is None:
            raise LookupError(f"No user with id {user_id}.")
        return found
    assert user is not None  # exactly one of the two was given
    try:
        found = user_find(username_or_email=user)
    except AmbiguousUser as error:
        raise LookupError(f"--user {error}") from None
    if found is None:
        raise LookupError(f"No user {user!r}.")
    return found


def security_event_list(
    *, account_id: int, event: str = "", key_id: int | None = None
) -> QuerySet[SecurityEvent]:
    """One account's security log, newest first (K27), optionally of one event type or of one
    key (its page, K32); the acting staff user comes in the same query."""
    events = SecurityEvent.objects.filter(account_id=account_id)
    if event:
        events = events.filter(event=event)
    if key_id is not None:
        events = events.filter(key_id=key_id)
    return events.select_related("actor_user").order_by("-created_at", "-id")
