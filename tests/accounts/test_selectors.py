"""How operator commands find the account they name (AS2)."""

import pytest

from accounts.selectors import AmbiguousUser, user_find
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("identifier", ["alice", "ALICE", "alice@example.com", "Alice@Example.COM"])
def test_user_found_by_username_or_email_in_any_case(identifier):
    alice = UserFactory(username="alice", email="alice@example.com")
    UserFactory(username="bob", email="bob@example.com")
    assert user_find(username_or_email=identifier) == alice


def test_an_identifier_naming_two_accounts_is_refused_not_guessed():
    alice = UserFactory(username="alice", email="alice@example.com")
    # Written straight to the database, as an import script might: an address that is not a real
    # e-mail address, spelled like alice's username.
    other = UserFactory(username="other", email="alice")
    with pytest.raises(AmbiguousUser) as raised:
        user_find(username_or_email="alice")
    assert set(raised.value.users) == {alice, other}
    assert str(alice.pk) in str(raised.value) and str(other.pk) in str(raised.value)


def test_unknown_identifier_finds_nobody():
    UserFactory(username="carol", email="carol@example.com")
    assert user_find(username_or_email="ghost") is None
    assert user_find(username_or_email="carol@example.org") is None


def test_a_blank_name_finds_nobody_not_the_accounts_without_email():
    UserFactory(username="dave", email="")
    assert user_find(username_or_email="") is None
    assert user_find(username_or_email="  ") is None
