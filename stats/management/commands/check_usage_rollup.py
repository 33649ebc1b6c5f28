"""`manage.py check_usage_rollup [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--user U | --user-id ID]
[--fix]`: check that every account's daily rollup equals the sum of its proxies' days.

`AccountUsageDaily` (what the Statistics page and `/v1/user/traffic` read) is written in the same
transaction as the `UsageDaily` rows it sums, so the two should never differ; this is the audit.
For each account and UTC day of the range it compares traffic, requests and cost (in cents) and
reports every day that differs, that has proxy rows but no rollup row, or a rollup row but no
proxy rows.  The comparison is one SQL statement, so usage recorded while it runs cannot be
reported as a mismatch.

Defaults: every account; `--to` today (UTC); `--from` 400 days before `--to`
(`stats.services.MAX_BACKDATE_DAYS`: no day older than that can still receive usage, so a day
checked once stays checked).  Pass an earlier `--from` to audit the whole history.

Output: one line per mismatch (at most 100, then a count), and exit status 1 (CommandError) if
there is any; otherwise one line, `OK: ...`, and exit status 0.  With `--fix`, the mismatched days
are rewritten from the proxy rows (`stats.rollup.account_usage_rebuild`, under each account's
lock) and the command then succeeds.  Bad arguments (a malformed date, `--from` after `--to`, an
unknown or ambiguous account) exit non-zero with a one-line reason and change nothing.
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_for_command
from common.dates import parse_day, today_utc
from stats.rollup import account_usage_rebuild
from stats.selectors import RollupMismatch, Sums, usage_rollup_count, usage_rollup_mismatches
from stats.services import MAX_BACKDATE_DAYS

MAX_REPORTED_MISMATCHES = 100


def _day(value: str, option: str) -> date:
    day = parse_day(value)
    if day is None:
        raise CommandError(f"{option} {value!r} is not a date (YYYY-MM-DD).")
    return day


def _describe(sums: Sums | None) -> str:
    if sums is None:
        return "no row"
    return f"{sums.traffic_bytes} B, {sums.requests} requests, ${sums.cost}"


def describe(mismatch: RollupMismatch) -> str:
    return (
        f"account {mismatch.owner_id} on {mismatch.date:%Y-%m-%d}: "
        f"rollup {_describe(mismatch.rollup)}; proxies {_describe(mismatch.detail)}"
    )


class Command(BaseCommand):
    help = "Compare each account's daily usage rollup with the sum of its proxies' daily usage."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--from",
            dest="date_from",
            metavar="YYYY-MM-DD",
            help=f"First UTC day to check (default: {MAX_BACKDATE_DAYS} days before --to).",
        )
        parser.add_argument(
            "--to", dest="date_to", metavar="YYYY-MM-DD", help="Last UTC day (default: today)."
        )
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--user", help="Only this account: username or e-mail address.")
        who.add_argument("--user-id", type=int, help="Only this account: numeric id.")
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Rewrite the mismatched days of the rollup from the proxies' daily usage.",
        )

    def handle(
        self,
        *args,
        date_from: str | None,
        date_to: str | None,
        user: str | None,
        user_id: int | None,
        fix: bool,
        **options,
    ) -> None:
        end = _day(date_to, "--to") if date_to is not None else today_utc()
        if date_from is not None:
            start = _day(date_from, "--from")
        else:
            # Near year 1 the default reaches back past the first day there is: start there.
            start = end - min(timedelta(days=MAX_BACKDATE_DAYS), end - date.min)
        if start > end:
            raise CommandError(f"--from {start} is after --to {end}.")
        owner_id = None
        if user is not None or user_id is not None:
            try:
                owner_id = user_for_command(user=user, user_id=user_id).pk
            except LookupError as error:
                raise CommandError(str(error)) from None
        scope = "all accounts" if owner_id is None else f"account {owner_id}"

        mismatched: dict[int, list[date]] = {}
        count = 0
        for mismatch in usage_rollup_mismatches(date_from=start, date_to=end, owner_id=owner_id):
            count += 1
            mismatched.setdefault(mismatch.owner_id, []).append(mismatch.date)
            if count <= MAX_REPORTED_MISMATCHES:
                self.stderr.write(describe(mismatch))
        if count > MAX_REPORTED_MISMATCHES:
            self.stderr.write(f"... and {count - MAX_REPORTED_MISMATCHES} more.")

        checked = f"{start} to {end}, {scope}"
        if not count:
            days, accounts = usage_rollup_count(date_from=start, date_to=end, owner_id=owner_id)
            self.stdout.write(
                f"OK: {days} account-days of {accounts} account{'s' if accounts != 1 else ''} "
                f"match their proxies' usage ({checked})."
            )
            return
        found = f"{count} account-day{'s' if count != 1 else ''}"
        if not fix:
            raise CommandError(
                f"{found} of the rollup {'differ' if count != 1 else 'differs'} from their "
                f"proxies' usage ({checked}); "
                "run with --fix to rewrite them."
            )
        for mismatched_owner, mismatched_days in mismatched.items():
            account_usage_rebuild(owner_id=mismatched_owner, days=mismatched_days)
        self.stdout.write(f"Fixed: {found} rewritten from their proxies' usage ({checked}).")
