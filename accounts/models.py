"""The account: Django's user with the identity rules of AS2 enforced by the database."""

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower

# Usernames never contain "@" and every e-mail address does, so a username can never equal any
# account's e-mail address (AS2), whichever of the two was registered first.
username_validator = RegexValidator(
    r"^[\w.+-]+\Z",
    "Use letters, digits and . + - _ only (no @: that is for e-mail addresses).",
    code="invalid_username",
)


class UserManager(DjangoUserManager):
    """`create_user` and `create_superuser` are the operator's paths (shell, `createsuperuser`):
    the address given there is trusted as verified (AS6), so the account signs in at once.
    Self sign-ups go through allauth instead and verify their address by e-mail."""

    @transaction.atomic
    def create_user(self, username, email=None, password=None, **extra_fields):
        user = super().create_user(username, email, password, **extra_fields)
        self.trust_email(user)
        return user

    @transaction.atomic
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        user = super().create_superuser(username, email, password, **extra_fields)
        self.trust_email(user)
        return user

    def trust_email(self, user: "User") -> None:
        """Record `user.email` as verified and primary in allauth's address book (an operator
        vouches for it).  Nothing to do for an account without an address."""
        if user.email:
            EmailAddress.objects.update_or_create(
                user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
            )


class User(AbstractUser):
    """One account (SPEC 1).  Usernames and e-mail addresses are unique ignoring case, and no
    username can be read as an e-mail address: all three rules are database constraints, so
    concurrent sign-ups cannot break them."""

    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        validators=[username_validator],
        help_text="150 characters or fewer: letters, digits and . + - _ only.",
        error_messages={"unique": "A user with that username already exists."},
    )

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that e-mail address already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(username__contains="@"),
                name="accounts_user_username_not_an_email",
                violation_error_message="A username cannot contain @.",
            ),
        ]
