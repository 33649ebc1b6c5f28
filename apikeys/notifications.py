"""E-mail to key owners about their keys (K26, K28, K29), from templates: a subject, a plain-text
body and an HTML body each (`templates/apikeys/email/<name>_{subject,message}.txt`,
`<name>_message.html`).  No mail ever holds a full key: only the display prefix.

Sent outside a request as well (the reminder command), so links are built on DASHBOARD_URL.  A mail
server that fails is logged, never raised: the change the mail reports has already happened.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import APIKey

logger = logging.getLogger(__name__)


def dashboard_link(path: str) -> str:
    return f"{settings.DASHBOARD_URL}{path}"


def key_mail_send(*, api_key: APIKey, template: str, context: dict | None = None) -> bool:
    """Mail `api_key`'s owner the `template` message; False when it could not be sent (or the
    owner has no address)."""
    owner = api_key.owner
    if not owner.email:
        return False
    ctx = {
        "api_key": api_key,
        "owner": owner,
        "keys_url": dashboard_link(reverse("apikeys:list")),
        "rotate_url": dashboard_link(reverse("apikeys:rotate", args=[api_key.pk])),
        "security_log_url": dashboard_link(reverse("security_log")),
        **(context or {}),
    }
    prefix = f"apikeys/email/{template}"
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(
        render_to_string(f"{prefix}_subject.txt", ctx).split()
    )
    message = EmailMultiAlternatives(
        subject, render_to_string(f"{prefix}_message.txt", ctx), to=[owner.email]
    )
    message.attach_alternative(render_to_string(f"{prefix}_message.html", ctx), "text/html")
    try:
        message.send()
    except Exception:
        logger.exception("Could not send the %s e-mail", template)
        return False
    return True


# What the commands print on stderr when `operator_key_created_send` could not send.
OPERATOR_MAIL_FAILED = (
    "The owner could not be e-mailed about the new key (no address, or the mail server failed: "
    "see the log)."
)


def operator_key_created_send(*, api_key: APIKey, rotated_from: APIKey | None = None) -> bool:
    """K29 for a key made by an operator's command (`create_api_key`, `rotate_api_key`): the
    owner hears of it as of one made in the dashboard, without a client address (there is none)
    but saying where it came from; for a rotation, which key it replaces and until when that one
    works.  False when it could not be sent."""
    return key_mail_send(
        api_key=api_key, template="key_created", context={"rotated_from": rotated_from}
    )
