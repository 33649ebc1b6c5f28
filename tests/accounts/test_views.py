"""Sign up, log in with username or email, log out, password change (SPEC 1)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def test_signup_creates_account_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "s3cure-enough-pass",
            "password2": "s3cure-enough-pass",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert user.check_password("s3cure-enough-pass")
    assert client.get(reverse("apikeys:list")).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "taken@example.com"}, "already exists"),
        ({"email": "not-an-email"}, "valid email"),
        ({"password2": "different"}, "match"),
        ({"password1": "123", "password2": "123"}, "too short"),
    ],
)
def test_signup_rejects_bad_input(client, data, message):
    UserFactory(username="someone", email="TAKEN@example.com")
    payload = {
        "username": "newbie",
        "email": "newbie@example.com",
        "password1": "s3cure-enough-pass",
        "password2": "s3cure-enough-pass",
    } | data
    response = client.post(reverse("signup"), payload)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.parametrize("identifier", ["alice", "alice@example.com", "ALICE@EXAMPLE.COM"])
def test_login_with_username_or_email(client, identifier):
    UserFactory(username="alice", email="alice@example.com")
    response = client.post(reverse("login"), {"username": identifier, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("apikeys:list")


def test_login_with_wrong_password_fails(client):
    UserFactory(username="alice")
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_log_in(client):
    UserFactory(username="alice", is_active=False)
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client, user):
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("apikeys:list")).status_code == 302


def test_password_change(client, user):
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "brand-new-pass-42",
            "new_password2": "brand-new-pass-42",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-42")
