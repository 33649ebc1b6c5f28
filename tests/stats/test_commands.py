"""Usage operator commands: `record_usage FILE.csv` (nothing if a row is bad, with bad rows by line
number; else every row, a chunk per transaction) and `apply_limit_resets` (the cron job behind
A10's period resets)."""

import io
from datetime import UTC, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.models import Balance, Transaction, TransactionType
from proxies.models import ProxyStatus, SuspensionReason, UsageDaily
from proxies.services import proxy_delete
from stats import services
from stats.services import MAX_BACKDATE_DAYS
from tests.factories import PlanFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "proxy_id,date,traffic_bytes,requests\n"
GB = 10**9


def today():
    return timezone.now().astimezone(UTC).date()


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


@pytest.fixture
def proxies(funded, fund, make_proxy):
    """Two proxies of the funded account ($4.00/GB and $8.00/GB) and one of another account."""
    other = fund(UserFactory())
    return (
        make_proxy(funded, "one"),
        make_proxy(funded, "two", plan=PlanFactory(mobile=True)),
        make_proxy(other, "one"),
    )


def write(tmp_path, text: str):
    path = tmp_path / "usage.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args) -> tuple[str, list[str]]:
    err = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=io.StringIO(), stderr=err)
    return str(error.value), err.getvalue().splitlines()


def nothing_recorded() -> bool:
    return (
        not UsageDaily.objects.exists()
        and not Transaction.objects.filter(type=TransactionType.CHARGE).exists()
    )


# --- record_usage: applying --------------------------------------------------------------------


def test_record_usage_applies_every_row_and_prints_a_summary(tmp_path, proxies):
    one, two, foreign = proxies
    path = write(
        tmp_path,
        HEADER
        + f"{one.public_id},{days_ago(1)},{GB},100\n"
        + f"{one.public_id},{days_ago(1)},{GB // 2},50\n"  # same proxy and day: adds up
        + f"{two.public_id},{days_ago(0)},{GB // 4},7\n"
        + "\n"
        + f"{foreign.public_id},{days_ago(400)},1,1\n",
    )
    out, err = run("record_usage", str(path))
    assert err == ""
    assert out == (
        "Recorded 4 rows for 3 proxies of 2 accounts: 1,750,000,001 bytes, 158 requests, "
        "charged 8.00 USD.\n"
    )
    assert set(
        UsageDaily.objects.values_list("proxy", "date", "traffic_bytes", "requests", "cost")
    ) == {
        (one.pk, today() - timedelta(days=1), 3 * GB // 2, 150, Decimal("6.00")),
        (two.pk, today(), GB // 4, 7, Decimal("2.00")),
        (foreign.pk, today() - timedelta(days=400), 1, 1, Decimal("0.00")),
    }
    assert Balance.objects.get(owner=one.owner).funds_available == Decimal("992.00")


def test_record_usage_applies_limits(tmp_path, user, fund, make_proxy):
    proxy = make_proxy(
        fund(user, "10"),
        limits={"limit_type": "traffic", "time_period": "daily", "total_limit": GB},
    )
    run("record_usage", str(write(tmp_path, HEADER + f"{proxy.public_id},{days_ago(0)},{GB},1\n")))
    proxy.refresh_from_db()
    assert (proxy.status, proxy.suspended_reason) == (ProxyStatus.SUSPENDED, SuspensionReason.LIMIT)


def test_header_only_records_nothing(tmp_path):
    out, _ = run("record_usage", str(write(tmp_path, HEADER)))
    assert "nothing recorded" in out
    assert nothing_recorded()


def test_header_may_carry_a_bom_and_spaces_and_crlf(tmp_path, proxies):
    one = proxies[0]
    path = tmp_path / "usage.csv"
    path.write_bytes(
        b"\xef\xbb\xbfproxy_id, date ,traffic_bytes,requests\r\n"
        + f" {one.public_id} ,{days_ago(0)}, {GB} ,1\r\n".encode()
    )
    run("record_usage", str(path))
    assert UsageDaily.objects.get().traffic_bytes == GB


def test_a_proxy_deleted_today_still_gets_its_earlier_traffic(tmp_path, proxies):
    one = proxies[0]
    proxy_delete(proxy=one)
    run("record_usage", str(write(tmp_path, HEADER + f"{one.public_id},{days_ago(1)},{GB},1\n")))
    assert UsageDaily.objects.get().proxy == one


def five_rows(one, two) -> str:
    """Five rows on lines 2-3 and 5-7 (line 4 is blank), each charging $4.00 or $8.00."""
    return (
        HEADER
        + f"{one.public_id},{days_ago(1)},{GB},1\n"
        + f"{two.public_id},{days_ago(1)},{GB},2\n"
        + "\n"
        + f"{one.public_id},{days_ago(0)},{GB},3\n"
        + f"{one.public_id},{days_ago(1)},{GB},4\n"
        + f"{two.public_id},{days_ago(2)},{GB},5\n"
    )


def test_record_usage_applies_chunks_in_the_files_order_and_says_so(tmp_path, proxies):
    one, two, _ = proxies
    path = write(tmp_path, five_rows(one, two))
    out, err = run("record_usage", str(path), "--chunk-size", "2", "-v", "2")
    assert err == ""
    assert out.splitlines() == [
        "Recorded 5 rows for 2 proxies of 1 account: 5,000,000,000 bytes, 15 requests, "
        "charged 28.00 USD.",
        "Chunk 1 of 3 (lines 2-3, 2 rows): applied, charged 12.00 USD.",
        "Chunk 2 of 3 (lines 5-6, 2 rows): applied, charged 8.00 USD.",
        "Chunk 3 of 3 (line 7, 1 row): applied, charged 8.00 USD.",
        "Applied in 3 chunks of up to 2 rows, one transaction each: all applied.",
    ]
    assert UsageDaily.objects.get(proxy=one, date=today() - timedelta(days=1)).requests == 5
    assert Balance.objects.get(owner=one.owner).funds_available == Decimal("972.00")


def test_a_failed_chunk_names_the_lines_that_were_not_recorded(tmp_path, proxies):
    one, two, _ = proxies
    path = write(tmp_path, five_rows(one, two))
    real, calls = services.balance_charge_bulk, []

    def fail_in_the_second_chunk(**kwargs):
        calls.append(kwargs)
        booked = real(**kwargs)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return booked

    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(services, "balance_charge_bulk", fail_in_the_second_chunk),
        pytest.raises(CommandError) as error,
    ):
        call_command("record_usage", str(path), "--chunk-size", "2", stdout=out, stderr=err)

    assert str(error.value) == (
        f"Chunk 2 of 3 failed: lines 2-3 (chunk 1) recorded, lines 5-7 of {path} not. Record "
        "those lines again (after the header) once the cause is fixed."
    )
    assert err.getvalue() == (
        "Chunk 2 of 3 (lines 5-6, 2 rows): failed and was rolled back: RuntimeError: "
        "connection lost\n"
    )
    assert out.getvalue() == (
        "Recorded 2 rows for 2 proxies of 1 account: 2,000,000,000 bytes, 3 requests, "
        "charged 12.00 USD.\n"
    )
    assert sorted(UsageDaily.objects.values_list("proxy", "requests")) == [(one.pk, 1), (two.pk, 2)]
    assert Balance.objects.get(owner=one.owner).funds_available == Decimal("988.00")


def test_a_failed_first_chunk_records_nothing(tmp_path, proxies):
    one, two, _ = proxies
    path = write(tmp_path, five_rows(one, two))
    with mock.patch.object(services, "balance_charge_bulk", side_effect=RuntimeError("no")):
        error, lines = run_failing("record_usage", str(path))
    assert error == (
        f"Chunk 1 of 1 failed: nothing recorded, lines 2-7 of {path} not. Record those lines "
        "again (after the header) once the cause is fixed."
    )
    assert lines == [
        "Chunk 1 of 1 (lines 2-7, 5 rows): failed and was rolled back: RuntimeError: no"
    ]
    assert nothing_recorded()


@pytest.mark.parametrize("size", ["0", "-1", "two", "1.5"])
def test_the_chunk_size_is_a_whole_number_of_rows(tmp_path, proxies, size):
    path = write(tmp_path, five_rows(*proxies[:2]))
    with pytest.raises(CommandError, match="is not a whole number of rows from 1"):
        call_command("record_usage", str(path), f"--chunk-size={size}", stdout=io.StringIO())
    assert nothing_recorded()


# --- record_usage: refusing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{id},{d0},{gb}", "expected 4 columns, got 3"),
        ("{id},{d0},{gb},1,9", "expected 4 columns, got 5"),
        ("NoSuch,{d0},1,1", "unknown proxy id 'NoSuch'"),
        (",{d0},1,1", "unknown proxy id ''"),
        ("{id},2026-02-30,1,1", "date '2026-02-30' is not a date"),
        ("{id},14/03/2026,1,1", "date '14/03/2026' is not a date"),
        ("{id},20260314,1,1", "date '20260314' is not a date"),
        ("{id},,1,1", "date '' is not a date"),
        ("{id},{tomorrow},1,1", "is in the future"),
        ("{id},{too_old},1,1", f"more than {MAX_BACKDATE_DAYS} days ago"),
        ("{id},{d0},-1,1", "traffic_bytes '-1' is not a whole number"),
        ("{id},{d0},1.5,1", "traffic_bytes '1.5' is not a whole number"),
        ("{id},{d0},1e9,1", "traffic_bytes '1e9' is not a whole number"),
        ("{id},{d0},abc,1", "traffic_bytes 'abc' is not a whole number"),
        ("{id},{d0},,1", "traffic_bytes '' is not a whole number"),
        ("{id},{d0},1_000,1", "traffic_bytes '1_000' is not a whole number"),
        ("{id},{d0},10000000000000001,1", "traffic_bytes '10000000000000001' is not a whole"),
        ("{id},{d0},1,-3", "requests '-3' is not a whole number"),
        ("{id},{d0},1,+3", "requests '+3' is not a whole number"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_recorded(tmp_path, proxies, row, message):
    one = proxies[0]
    values = {
        "id": one.public_id,
        "d0": days_ago(0),
        "gb": GB,
        "tomorrow": days_ago(-1),
        "too_old": days_ago(MAX_BACKDATE_DAYS + 1),
    }
    good = f"{one.public_id},{days_ago(0)},{GB},1\n"
    path = write(tmp_path, HEADER + good + row.format(**values) + "\n" + good)
    error, lines = run_failing("record_usage", str(path))
    assert error == f"1 bad row in {path}; nothing was recorded."
    assert len(lines) == 1
    assert lines[0].startswith("line 3: ")
    assert message in lines[0]
    assert nothing_recorded()


def test_every_bad_row_is_reported_with_every_problem(tmp_path, proxies):
    one = proxies[0]
    path = write(
        tmp_path,
        HEADER
        + f"{one.public_id},{days_ago(0)},{GB},1\n"  # line 2: fine
        + "ghost,yesterday,-1,x\n"  # line 3: four problems
        + "\n"  # line 4: blank, ignored
        + f'"{one.public_id}\nsplit",{days_ago(0)},1,1\n'  # lines 5-6: a quoted newline
        + f"{one.public_id},{days_ago(0)}\n",  # line 7
    )
    error, lines = run_failing("record_usage", str(path))
    assert error == f"3 bad rows in {path}; nothing was recorded."
    assert lines == [
        "line 3: date 'yesterday' is not a date (YYYY-MM-DD); unknown proxy id 'ghost'; "
        "traffic_bytes '-1' is not a whole number from 0 to 1000000000000000; "
        "requests 'x' is not a whole number from 0 to 1000000000000.",
        f"line 5: unknown proxy id '{one.public_id}\\nsplit'.",
        "line 7: expected 4 columns, got 2.",
    ]
    assert nothing_recorded()


def test_traffic_after_a_proxys_deletion_is_refused(tmp_path, proxies):
    one = proxies[0]
    proxy_delete(proxy=one, now=timezone.now() - timedelta(days=2))
    path = write(tmp_path, HEADER + f"{one.public_id},{days_ago(1)},1,1\n")
    _, lines = run_failing("record_usage", str(path))
    assert "was deleted on" in lines[0]
    assert nothing_recorded()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "proxy_id,date,traffic_bytes\n",  # missing column
        "proxy_id,date,traffic_bytes,requests,cost\n",  # extra column
        "date,proxy_id,traffic_bytes,requests\n",  # wrong order
        "PROXY_ID,DATE,TRAFFIC_BYTES,REQUESTS\n",
        "abc123,2026-01-01,1,1\n",  # no header at all
    ],
)
def test_a_missing_or_wrong_header_is_refused(tmp_path, proxies, text):
    path = write(tmp_path, text + f"{proxies[0].public_id},{days_ago(0)},1,1\n" * (text != ""))
    error, lines = run_failing("record_usage", str(path))
    assert error == f"1 bad row in {path}; nothing was recorded."
    assert lines[0].startswith("line ")
    assert "expected the header proxy_id,date,traffic_bytes,requests" in lines[0]
    assert nothing_recorded()


def test_many_bad_rows_are_capped_in_the_report(tmp_path):
    path = write(tmp_path, HEADER + "ghost,2026-01-01,1,1\n" * 150)
    error, lines = run_failing("record_usage", str(path))
    assert error == f"150 bad rows in {path}; nothing was recorded."
    assert len(lines) == 101
    assert lines[-1] == "... and 50 more bad rows."


def test_unreadable_files_fail_with_one_line(tmp_path):
    error, _ = run_failing("record_usage", str(tmp_path / "missing.csv"))
    assert error.startswith("Cannot read ")
    assert "\n" not in error
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "caf\xe9,2026-01-01,1,1\n".encode("latin-1"))
    error, _ = run_failing("record_usage", str(latin))
    assert "not UTF-8" in error


# --- apply_limit_resets ------------------------------------------------------------------------


def test_apply_limit_resets_resumes_proxies_whose_period_ended(user, fund, make_proxy, record):
    yesterday = timezone.now() - timedelta(days=1)
    proxy = make_proxy(
        fund(user, "100"),
        limits={"limit_type": "traffic", "time_period": "daily", "total_limit": GB},
        now=yesterday,
    )
    record(proxy, GB, now=yesterday)
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.SUSPENDED
    out, _ = run("apply_limit_resets")
    assert out == "Applied limit resets: 1 proxy changed.\n"
    proxy.refresh_from_db()
    assert proxy.status == ProxyStatus.ACTIVE
    assert run("apply_limit_resets")[0] == "Applied limit resets: 0 proxies changed.\n"
    assert run("apply_limit_resets", "-v0")[0] == ""
