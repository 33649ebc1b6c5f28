"""AS6's production mail path: EMAIL_URL -> Django's SMTP backend -> a real SMTP server.

The server is aiosmtpd, started by the test on a free loopback port and stopped after it.
"""

import re
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse

from config.settings.base import mailer_from_url

pytestmark = pytest.mark.django_db


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


def test_email_url_configures_smtp():
    mailer = mailer_from_url("smtp://mailer:s3cret@smtp.example.com:587?tls=True")
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] | {"timeout": None} == {
        "host": "smtp.example.com",
        "port": 587,
        "username": "mailer",
        "password": "s3cret",
        "use_tls": True,
        "use_ssl": False,
        "timeout": None,
    }
    assert mailer["OPTIONS"]["timeout"] == 10
    assert mailer_from_url("console://")["BACKEND"].endswith("console.EmailBackend")


def test_sign_up_verification_goes_out_through_a_real_smtp_server(client, settings, smtp_server):
    settings.MAILERS = {"default": mailer_from_url(smtp_server.url)}

    response = client.post(
        reverse("account_signup"),
        {
            "username": "smtp_user",
            "email": "smtp_user@example.com",
            "password1": "s3cure-enough-pass",
            "password2": "s3cure-enough-pass",
        },
    )

    assert response.status_code == 302
    ((recipients, message),) = smtp_server.messages
    assert recipients == ["smtp_user@example.com"]
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Subject"].startswith("[Proxy Dashboard]")
    body = message.get_payload(decode=True).decode()
    confirm = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", body).group(1)
    assert client.post(confirm).status_code == 302
    assert client.get(reverse("apikeys:list")).status_code == 200


def test_an_unreachable_mail_server_is_logged_not_a_500(client, settings, caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{dead}")}

    response = client.post(
        reverse("account_signup"),
        {
            "username": "patient",
            "email": "patient@example.com",
            "password1": "s3cure-enough-pass",
            "password2": "s3cure-enough-pass",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "Could not send the email_confirmation_signup e-mail" in caplog.text
    assert "s3cure-enough-pass" not in caplog.text
