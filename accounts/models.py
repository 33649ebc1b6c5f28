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


class SecurityEventType(models.TextChoices):
    """What happened (K27).  Key events name the key by its display prefix."""

    KEY_CREATED = "key_created", "API key created"
    KEY_ROTATED = "key_rotated", "API key rotated"
    KEY_RETIRED = "key_retired", "API key retired"
    KEY_REVOKED = "key_revoked", "API key revoked"
    KEY_ALLOWLIST_CHANGED = "key_allowlist_changed", "API key allowlist changed"
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET = "password_reset", "Password reset"
    EMAIL_CHANGED = "email_changed", "E-mail address changed"
    MFA_ADDED = "mfa_added", "Two-factor method added"
    MFA_REMOVED = "mfa_removed", "Two-factor method removed"
    MFA_RECOVERY_CODES_RESET = "mfa_recovery_codes_reset", "Recovery codes regenerated"


class SecurityActor(models.TextChoices):
    """Who did it: the account's owner, a staff user (named in `actor_user`), the product itself
    (a scheduled job, an operator's command), or an anonymous leak report."""

    OWNER = "owner", "Owner"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"
    LEAK_REPORT = "leak_report", "Leak report"


class SecurityEvent(models.Model):
    """One entry of an account's security log (K27): append-only, written in the same transaction
    as the change it records.  Keys are referred to by id and display prefix, not by a foreign
    key: the log sits below the key app, and an entry outlives whatever it names."""

    account = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="security_events", db_index=False
    )
    created_at = models.DateTimeField()
    event = models.CharField(max_length=32, choices=SecurityEventType.choices)
    actor = models.CharField(max_length=16, choices=SecurityActor.choices)
    actor_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key_id = models.BigIntegerField(null=True, blank=True)
    key_prefix = models.CharField(max_length=16, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            # The Security log page: one account's entries, newest first, optionally by type.
            models.Index(fields=["account", "-created_at", "-id"], name="security_account_idx"),
            models.Index(
                fields=["account", "event", "-created_at", "-id"], name="security_event_idx"
            ),
            models.Index(fields=["key_id"], name="security_key_idx"),
            models.Index(fields=["ip"], name="security_ip_idx"),
        ]
        constraints = [
            # A key retires once (K25): its entry is written at rotation (`--grace now`) or, for
            # a later end of grace, by the minute job (apikeys.services.api_key_retirements_log),
            # which relies on this to never write it twice, however many runs overlap.
            models.UniqueConstraint(
                fields=["key_id"],
                condition=Q(event="key_retired"),
                name="security_key_retired_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def summary(self) -> str:
        """The details in a sentence for people (the dashboard page and the admin)."""
        details = self.details if isinstance(self.details, dict) else {}
        parts = []
        if details.get("reason") == "leaked":
            parts.append("reported as leaked")
        if details.get("replacement"):
            parts.append(f"replaced by {details['replacement']}...")
        if details.get("retires_at"):
            parts.append(
                f"old key works until {str(details['retires_at'])[:16].replace('T', ' ')} UTC"
            )
        if details.get("rotated_from"):
            parts.append(f"replaces {details['rotated_from']}...")
        if details.get("old") or details.get("new"):
            parts.append(f"{details.get('old') or '—'} → {details.get('new') or '—'}")
        for key in ("method", "second_factor"):
            if details.get(key):
                parts.append(str(details[key]))
        return "; ".join(parts)
