"""AS2 under real concurrency (PostgreSQL): sign-ups racing for one address or one username.

Each thread posts the sign-up form with its own client and database connection, as separate
workers would; the form checks pass in all of them, so only the database constraints decide.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.concurrency import run_in_parallel, skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    skip_unless_postgres()


def sign_up(username: str, email: str) -> int:
    response = Client().post(
        reverse("account_signup"),
        {
            "username": username,
            "email": email,
            "password1": "s3cure-enough-pass",
            "password2": "s3cure-enough-pass",
        },
        REMOTE_ADDR=f"203.0.113.{len(username)}",
    )
    return response.status_code


@pytest.mark.parametrize("parallel", [2, 6])
def test_one_address_in_any_case_makes_exactly_one_account(parallel):
    results = run_in_parallel(
        parallel,
        lambda i: sign_up(
            f"racer{i}",
            "Same.Person@EXAMPLE.com".swapcase() if i % 2 else "same.person@example.com",
        ),
    )
    assert results == [302] * parallel, results  # every racer gets an answer, none a 500
    assert get_user_model().objects.filter(email__iexact="same.person@example.com").count() == 1
    # Mail to the address is rate-limited per address: the verification link or an "already
    # registered" notice, whichever went first; never one message per racer.
    assert 1 <= len(mail.outbox) < parallel or parallel == 1
    assert {tuple(message.to) for message in mail.outbox} == {("same.person@example.com",)}


def test_one_username_makes_exactly_one_account():
    results = run_in_parallel(6, lambda i: sign_up("samename", f"person{i}@example.com"))
    assert results.count(302) == 1 and results.count(200) == 5, results
    assert get_user_model().objects.filter(username__iexact="samename").count() == 1
