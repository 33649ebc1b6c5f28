"""`manage.py check_usage_rollup`: every account's daily rollup against the sum of its proxies'
days; mismatches reported with a non-zero exit, `--fix` rewrites them, bad arguments refused."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from proxies.models import AccountUsageDaily, UsageDaily
from stats.management.commands import check_usage_rollup
from stats.rollup import account_usage_add
from stats.services import MAX_BACKDATE_DAYS
from tests.factories import UserFactory
from tests.manage_process import migrated_sqlite_env, run_manage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
GB = 10**9


@pytest.fixture
def now():
    return NOW


@pytest.fixture(autouse=True)
def _command_clock(monkeypatch):
    """The command's default range ends on NOW's day."""
    monkeypatch.setattr(check_usage_rollup, "today_utc", lambda: TODAY)


@pytest.fixture
def accounts(fund, make_proxy, record):
    """Two funded accounts with two proxies each and usage on three days, through the service."""
    owners = []
    for n in range(2):
        owner = fund(UserFactory(username=f"owner{n}"))
        proxies = [make_proxy(owner, "a"), make_proxy(owner, "b")]
        for offset in range(3):
            for index, proxy in enumerate(proxies):
                record(proxy, GB // (index + 2) + offset, 3, day=TODAY - timedelta(days=offset))
        owners.append(owner)
    return owners


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("check_usage_rollup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args) -> tuple[str, list[str]]:
    err = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("check_usage_rollup", *args, stdout=io.StringIO(), stderr=err)
    return str(error.value), err.getvalue().splitlines()


def rollup(owner, days_ago: int) -> AccountUsageDaily:
    return AccountUsageDaily.objects.get(owner=owner, date=TODAY - timedelta(days=days_ago))


def test_a_rollup_written_by_the_service_checks_ok(accounts):
    out, err = run()
    first = TODAY - timedelta(days=MAX_BACKDATE_DAYS)
    assert out == (
        f"OK: 6 account-days of 2 accounts match their proxies' usage "
        f"({first} to {TODAY}, all accounts).\n"
    )
    assert err == ""


def sums_of_proxies(owner, days_ago: int) -> tuple[int, int, Decimal]:
    rows = UsageDaily.objects.filter(owner=owner, date=TODAY - timedelta(days=days_ago))
    return (
        sum(row.traffic_bytes for row in rows),
        sum(row.requests for row in rows),
        sum((row.cost for row in rows), Decimal("0.00")),
    )


def described(sums: tuple[int, int, Decimal]) -> str:
    return f"{sums[0]} B, {sums[1]} requests, ${sums[2]}"


def test_planted_mismatches_are_each_reported_and_fail(accounts):
    one, two = accounts
    AccountUsageDaily.objects.filter(pk=rollup(one, 0).pk).update(traffic_bytes=1)
    AccountUsageDaily.objects.filter(pk=rollup(one, 1).pk).update(cost=Decimal("0.01"))
    rollup(two, 2).delete()
    account_usage_add(  # a day without proxy rows
        owner_id=two.pk, deltas=[(TODAY - timedelta(days=5), 7, 1, Decimal("0.02"))]
    )
    one_today, one_yesterday = sums_of_proxies(one, 0), sums_of_proxies(one, 1)
    assert one_yesterday[2] != Decimal("0.01")

    message, lines = run_failing()

    day = [(TODAY - timedelta(days=n)).isoformat() for n in range(6)]
    assert lines == [
        f"account {one.pk} on {day[1]}: rollup {described((*one_yesterday[:2], '0.01'))}; "
        f"proxies {described(one_yesterday)}",
        f"account {one.pk} on {day[0]}: rollup {described((1, *one_today[1:]))}; "
        f"proxies {described(one_today)}",
        f"account {two.pk} on {day[5]}: rollup 7 B, 1 requests, $0.02; proxies no row",
        f"account {two.pk} on {day[2]}: rollup no row; proxies {described(sums_of_proxies(two, 2))}",
    ]
    assert message == (
        f"4 account-days of the rollup differ from their proxies' usage "
        f"({TODAY - timedelta(days=MAX_BACKDATE_DAYS)} to {TODAY}, all accounts); "
        "run with --fix to rewrite them."
    )


def test_fix_rewrites_the_mismatched_days_from_the_proxy_rows(accounts):
    one, two = accounts
    right = {row.pk: row.traffic_bytes for row in AccountUsageDaily.objects.filter(owner=two)}
    AccountUsageDaily.objects.filter(pk=rollup(one, 0).pk).update(requests=0, cost=0)
    rollup(one, 2).delete()
    account_usage_add(owner_id=one.pk, deltas=[(TODAY - timedelta(days=9), 1, 1, Decimal("1"))])

    out, err = run("--fix")
    assert out.startswith("Fixed: 3 account-days rewritten from their proxies' usage")
    assert len(err.splitlines()) == 3
    out, _ = run()
    assert out.startswith("OK: 6 account-days of 2 accounts")
    for days_ago in range(3):
        proxies = UsageDaily.objects.filter(owner=one, date=TODAY - timedelta(days=days_ago))
        row = rollup(one, days_ago)
        assert (row.traffic_bytes, row.requests, row.cost) == (
            sum(p.traffic_bytes for p in proxies),
            sum(p.requests for p in proxies),
            sum(p.cost for p in proxies),
        )
    assert not AccountUsageDaily.objects.filter(date=TODAY - timedelta(days=9)).exists()
    # The other account's rows were right and were left alone.
    assert {row.pk: row.traffic_bytes for row in AccountUsageDaily.objects.filter(owner=two)} == (
        right
    )


def test_one_account_and_a_range_limit_what_is_checked(accounts):
    one, two = accounts
    AccountUsageDaily.objects.filter(pk=rollup(two, 1).pk).update(traffic_bytes=1)
    out, _ = run("--user", one.email)
    assert out.startswith("OK: 3 account-days of 1 account match")
    assert f"account {one.pk})" in out
    out, _ = run("--user-id", str(one.pk), "--to", str(TODAY))
    assert out.startswith("OK: 3 account-days of 1 account match")
    out, _ = run("--from", str(TODAY))
    assert out.startswith(f"OK: 2 account-days of 2 accounts match their proxies' usage ({TODAY}")
    _, lines = run_failing("--user", two.username, "--to", str(TODAY - timedelta(days=1)))
    assert len(lines) == 1
    assert lines[0].startswith(f"account {two.pk} on {TODAY - timedelta(days=1)}: rollup 1 B")


def test_the_default_range_is_the_last_400_days(fund, make_proxy):
    owner = fund(UserFactory())
    oldest = TODAY - timedelta(days=MAX_BACKDATE_DAYS)
    account_usage_add(owner_id=owner.pk, deltas=[(oldest - timedelta(days=1), 1, 1, Decimal(0))])
    out, _ = run()
    assert out.startswith(f"OK: 0 account-days of 0 accounts match their proxies' usage ({oldest}")
    account_usage_add(owner_id=owner.pk, deltas=[(oldest, 1, 1, Decimal(0))])
    message, lines = run_failing()
    assert lines == [
        f"account {owner.pk} on {oldest}: rollup 1 B, 1 requests, $0.00; proxies no row"
    ]
    assert message.startswith("1 account-day of the rollup differ")


@pytest.mark.parametrize(
    ("args", "checked"),
    [
        (["--to", "0001-01-02"], "0001-01-01 to 0001-01-02"),
        (["--from", "0001-01-01", "--to", "9999-12-31"], "0001-01-01 to 9999-12-31"),
    ],
)
def test_ranges_at_the_ends_of_the_calendar_are_checked(args, checked):
    out, _ = run(*args)
    assert (
        out
        == f"OK: 0 account-days of 0 accounts match their proxies' usage ({checked}, all accounts).\n"
    )


def test_many_mismatches_are_reported_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(check_usage_rollup, "MAX_REPORTED_MISMATCHES", 2)
    owner = UserFactory()
    account_usage_add(
        owner_id=owner.pk,
        deltas=[(TODAY - timedelta(days=n), 1, 1, Decimal(0)) for n in range(5)],
    )
    message, lines = run_failing()
    assert len(lines) == 3
    assert lines[-1] == "... and 3 more."
    assert message.startswith("5 account-days")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--from", "2026-02-30"], "--from '2026-02-30' is not a date (YYYY-MM-DD)."),
        (["--from", "20260101"], "--from '20260101' is not a date (YYYY-MM-DD)."),
        (["--to", "2026-W05-6"], "--to '2026-W05-6' is not a date (YYYY-MM-DD)."),
        (["--to", "yesterday"], "--to 'yesterday' is not a date (YYYY-MM-DD)."),
        (["--to", ""], "--to '' is not a date (YYYY-MM-DD)."),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "--from 2026-03-02 is after --to"),
        (["--user", "nobody"], "No user 'nobody'."),
        (["--user-id", "999999"], "No user with id 999999."),
        (["--user", "x", "--user-id", "1"], "not allowed with argument"),
        (["--user-id", "one"], "invalid int value"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(args, reason):
    message, _ = run_failing(*args)
    assert reason in message


def test_an_ambiguous_user_is_refused_not_guessed():
    UserFactory(username="alice", email="a@example.com")
    UserFactory(username="bob", email="alice")
    message, _ = run_failing("--user", "alice")
    assert "matches more than one account" in message


def test_operators_get_exit_codes_and_one_line_reasons_not_tracebacks(tmp_path):
    env = migrated_sqlite_env(tmp_path)
    ok = run_manage("check_usage_rollup", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: 0 account-days of 0 accounts")
    bad = run_manage("check_usage_rollup", "--from", "2026-13-01", env=env)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "CommandError: --from '2026-13-01' is not a date (YYYY-MM-DD)."
    planted = run_manage(
        "shell",
        "-c",
        "from django.utils import timezone\n"
        "from accounts.models import User\n"
        "from stats.rollup import account_usage_add\n"
        "u = User.objects.create_user('m', 'm@example.com', 'pw-123456789')\n"
        "account_usage_add(owner_id=u.pk, deltas=[(timezone.now().date(), 5, 1, 0)])\n",
        env=env,
    )
    assert planted.returncode == 0, planted.stderr
    mismatch = run_manage("check_usage_rollup", env=env)
    assert mismatch.returncode == 1
    assert "Traceback" not in mismatch.stderr
    assert "rollup 5 B, 1 requests, $0.00; proxies no row" in mismatch.stderr
    assert mismatch.stderr.strip().splitlines()[-1].startswith("CommandError: 1 account-day")
