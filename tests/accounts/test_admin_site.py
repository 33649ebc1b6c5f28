"""The admin has no sign-in of its own and opens only for staff with a second factor (AS3, AS4)."""

import pytest
from django.urls import reverse

from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_admin_visits_go_to_the_dashboard_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    login = client.get(response["Location"], follow=True)
    assert login.redirect_chain[-1][0].startswith("/accounts/login/?next=")
    assert "/admin/" in login.redirect_chain[-1][0]


def test_the_admin_password_form_is_no_side_door(client):
    staff = UserFactory(is_staff=True, is_superuser=True, totp=True)
    response = client.post(
        reverse("admin:login"), {"username": staff.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_staff_without_a_second_factor_are_sent_to_enrol(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in(client, staff)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert "need two-factor authentication" in response.content.decode()
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302


def test_recovery_codes_alone_are_not_a_second_factor(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    staff = UserFactory(is_staff=True, is_superuser=True)
    RecoveryCodes.activate(staff)
    sign_in(client, staff)
    assert client.get("/admin/")["Location"].startswith(reverse("admin:login"))


def test_staff_with_totp_open_the_admin(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    assert "Site administration" in response.content.decode()


def test_non_staff_get_403_not_a_login_form(client, user):
    sign_in(client, user)
    assert client.get(reverse("admin:login")).status_code == 403
    assert client.get("/admin/")["Location"].startswith(reverse("admin:login"))


def test_admin_login_ignores_an_offsite_next(staff_client):
    response = staff_client.get(reverse("admin:login"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("admin:index")
