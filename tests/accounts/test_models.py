"""AS2 identity rules as database constraints, and AS6 trust for operator-made accounts."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import UserFactory
from tests.manage_process import migrated_sqlite_env, run_manage

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            {"username": "alice", "email": "a@example.com"},
            {"username": "ALICE", "email": "b@x.com"},
        ),
        (
            {"username": "alice", "email": "Same@Example.com"},
            {"username": "bob", "email": "same@example.COM"},
        ),
    ],
)
def test_usernames_and_emails_are_unique_ignoring_case_in_the_database(first, second):
    User.objects.create(**first)
    with pytest.raises(IntegrityError), transaction.atomic():
        # Plain create(): no form or model validation, only the database stands in the way.
        User.objects.create(**second)


def test_accounts_without_email_do_not_collide():
    User.objects.create(username="one", email="")
    User.objects.create(username="two", email="")
    assert User.objects.filter(email="").count() == 2


@pytest.mark.parametrize("username", ["bob@example.com", "@", "a@b"])
def test_a_username_can_never_look_like_an_email_address(username):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=username, email="x@example.com")


def test_model_validation_reports_the_rules_as_messages():
    User.objects.create(username="alice", email="alice@example.com")
    clash = User(username="Alice", email="ALICE@example.com", password="x")
    with pytest.raises(ValidationError) as raised:
        clash.full_clean()
    text = " ".join(raised.value.messages)
    assert "username already exists" in text
    assert "e-mail address already exists" in text


def test_create_user_and_create_superuser_trust_the_address():
    user = User.objects.create_user("op_made", "Op.Made@Example.com", "pw-123456789")
    admin = User.objects.create_superuser("root", "root@example.com", "pw-123456789")
    for account in (user, admin):
        address = EmailAddress.objects.get(user=account)
        assert address.verified and address.primary
        assert address.email == account.email.lower()


def test_an_operator_account_without_address_gets_no_email_record():
    user = User.objects.create_user("no_mail", "", "pw-123456789")
    assert not EmailAddress.objects.filter(user=user).exists()


def test_an_account_added_in_the_admin_is_trusted_and_validated(staff_client):
    url = reverse("admin:accounts_user_add")
    response = staff_client.post(
        url,
        {
            "username": "added",
            "email": "added@example.com",
            "password1": "s3cure-enough-pass",
            "password2": "s3cure-enough-pass",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = User.objects.get(username="added")
    assert EmailAddress.objects.get(user=added).verified

    clash = staff_client.post(
        url,
        {
            "username": "ADDED",
            "email": "x@example.com",
            "password1": "s3cure-enough-pass",
            "password2": "s3cure-enough-pass",
            "usable_password": "true",
        },
    )
    assert clash.status_code == 200
    assert "already exists" in clash.content.decode()
    assert User.objects.filter(username__iexact="added").count() == 1


def test_createsuperuser_account_signs_in_at_once(tmp_path, client):
    env = migrated_sqlite_env(tmp_path) | {"DJANGO_SUPERUSER_PASSWORD": "pw-123456789"}
    result = run_manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    shell = run_manage(
        "shell",
        "-c",
        "from allauth.account.models import EmailAddress as E; "
        "print(E.objects.get(user__username='boss').verified)",
        env=env,
    )
    assert shell.stdout.strip().splitlines()[-1] == "True"


def test_factory_traits_mirror_the_two_kinds_of_account():
    assert EmailAddress.objects.get(user=UserFactory()).verified
    assert not EmailAddress.objects.get(user=UserFactory(unverified=True)).verified
