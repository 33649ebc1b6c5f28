"""Writes of the account layer: the security log (K27).

Every key event and every account event goes through `security_event_record`, called inside the
transaction of the change it records, so an entry exists exactly when the change does.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from common.clientip import client_ip

from .models import SecurityActor, SecurityEvent, SecurityEventType, User

USER_AGENT_MAX_LENGTH = SecurityEvent._meta.get_field("user_agent").max_length or 300


@dataclass(frozen=True)
class Origin:
    """Who made a change and from where, as the security log records it."""

    actor: str = SecurityActor.SYSTEM
    actor_user_id: int | None = None
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request, *, actor: str = SecurityActor.OWNER) -> "Origin":
        """The signed-in user of a dashboard or admin request, from the client address (A13)."""
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        return cls(
            actor=actor,
            actor_user_id=user_id,
            ip=client_ip(request),
            user_agent=user_agent_of(request),
        )


SYSTEM = Origin()


def user_agent_of(request) -> str:
    """The request's User-Agent, cut to what the log keeps, without control characters."""
    raw = str(request.META.get("HTTP_USER_AGENT", ""))[: USER_AGENT_MAX_LENGTH * 2]
    printable = "".join(character for character in raw if character.isprintable())
    return printable[:USER_AGENT_MAX_LENGTH]


def security_event_record(
    *,
    account_id: int,
    event: SecurityEventType,
    origin: Origin = SYSTEM,
    key_id: int | None = None,
    key_prefix: str = "",
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> SecurityEvent:
    """Append one entry to `account_id`'s security log.  Callers run it in the transaction of the
    change it records; nothing in the product edits or deletes an entry afterwards."""
    return SecurityEvent.objects.create(
        account_id=account_id,
        created_at=now or timezone.now(),
        event=event,
        actor=origin.actor,
        actor_user_id=origin.actor_user_id,
        key_id=key_id,
        key_prefix=key_prefix,
        ip=origin.ip,
        user_agent=origin.user_agent,
        details=details or {},
    )


def account_of(user: object) -> User | None:
    """`user` when it is a saved account (signals may send an anonymous or unsaved one)."""
    return user if isinstance(user, User) and user.pk is not None else None
