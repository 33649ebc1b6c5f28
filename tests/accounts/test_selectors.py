"""How operator commands find the account they name."""

import pytest

from accounts.selectors import user_find
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_found_by_exact_username_before_email():
    alice = UserFactory(username="alice", email="alice@example.com")
    # Another account whose email is spelled like alice's username must not shadow her.
    UserFactory(username="other", email="alice")
    assert user_find(username_or_email="alice") == alice


def test_user_found_by_email_in_any_case():
    bob = UserFactory(username="bob", email="Bob@Example.com")
    assert user_find(username_or_email="bob@example.COM") == bob


def test_unknown_or_differently_cased_username_finds_nobody():
    UserFactory(username="carol", email="carol@example.com")
    assert user_find(username_or_email="Carol") is None
    assert user_find(username_or_email="ghost") is None


def test_a_blank_name_finds_nobody_not_the_accounts_without_email():
    UserFactory(username="dave", email="")
    assert user_find(username_or_email="") is None
    assert user_find(username_or_email="  ") is None
