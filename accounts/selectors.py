"""Reads of user accounts."""

from django.contrib.auth import get_user_model


def user_find(*, username_or_email: str):
    """The user with exactly this username, else the first one with this email address (any
    case); None if there is neither.  Operator commands name accounts this way."""
    if not username_or_email.strip():
        return None  # never the accounts that have no email address
    users = get_user_model().objects
    return (
        users.filter(username=username_or_email).first()
        or users.filter(email__iexact=username_or_email).order_by("pk").first()
    )
