"""`manage.py topup`: books a ledger top-up; bad input exits non-zero with one line, books nothing."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing.models import Transaction, TransactionType
from billing.selectors import balance_get
from billing.services import balance_topup
from proxies.models import ProxyStatus
from tests.factories import UserFactory
from tests.manage_process import migrated_sqlite_env, run_manage

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_topup_books_a_transaction_and_prints_the_new_balance(user):
    balance_topup(owner=user, amount="1.00")
    output = run("topup", "--user", user.username, "--amount", "12.50", "--description", "Wire 42")
    entry = Transaction.objects.filter(owner=user).latest("pk")
    assert (entry.type, entry.amount, entry.description) == (
        TransactionType.TOP_UP,
        Decimal("12.50"),
        "Wire 42",
    )
    assert balance_get(owner_id=user.pk) == Decimal("13.50")
    assert output == (
        f"Topped up {user.username} by 12.50 USD ({entry.tx_id}); balance now 13.50 USD.\n"
    )


def test_topup_by_email_with_default_description(user):
    run("topup", "--user", user.email.upper(), "--amount", "5")
    assert Transaction.objects.get(owner=user).description == "Balance top-up"


def test_topup_resumes_proxies_suspended_for_balance(user, make_proxy):
    proxy = make_proxy(user)
    assert proxy.status == ProxyStatus.SUSPENDED
    run("topup", "--user", user.username, "--amount", "1")
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.ACTIVE


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "greater than zero"),
        ("-1", "greater than zero"),
        ("1.234", "two decimal places"),
        ("abc", "such as 12.50"),
        ("", "such as 12.50"),
        ("1e30", "at most 1000000.00"),
        ("99999999999999999999999999999999", "at most 1000000.00"),
        ("1000000.01", "at most 1000000.00"),
        ("NaN", "greater than zero"),
    ],
)
def test_bad_amount_exits_with_one_line_and_books_nothing(user, amount, message):
    with pytest.raises(CommandError) as error:
        run("topup", "--user", user.username, "--amount", amount)
    assert message in str(error.value)
    assert str(error.value).startswith("--amount")
    assert "\n" not in str(error.value)
    assert not Transaction.objects.exists()


def test_unknown_user_exits_with_one_line():
    with pytest.raises(CommandError, match=r"^No user 'ghost'\.$"):
        run("topup", "--user", "ghost", "--amount", "5")
    assert not Transaction.objects.exists()


def test_failures_exit_non_zero_with_one_line_on_stderr(tmp_path):
    env = migrated_sqlite_env(tmp_path)
    ghost = run_manage("topup", "--user", "ghost", "--amount", "5", env=env)
    assert (ghost.returncode, ghost.stderr.strip()) == (1, "CommandError: No user 'ghost'.")
    missing = run_manage("topup", "--user", "ghost", env=env)
    assert missing.returncode != 0
    assert "--amount" in missing.stderr


def test_topup_by_user_id(user):
    run("topup", "--user-id", str(user.pk), "--amount", "7.25")
    assert Transaction.objects.get(owner=user).amount == Decimal("7.25")


def test_topup_refuses_an_ambiguous_user_and_books_nothing():
    alice = UserFactory(username="alice", email="alice@example.com")
    other = UserFactory(username="other", email="ALICE")
    with pytest.raises(CommandError) as raised:
        run("topup", "--user", "alice", "--amount", "5")
    assert "more than one account" in str(raised.value)
    assert f"{alice.pk}, {other.pk}" in str(raised.value)
    assert not Transaction.objects.exists()
