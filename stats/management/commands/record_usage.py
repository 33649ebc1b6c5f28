"""`manage.py record_usage FILE.csv`: record a batch of gateway traffic (SPEC 3.3).

The file is UTF-8 CSV with the header `proxy_id,date,traffic_bytes,requests`, then one record per
row: the proxy's public id, the UTC day (YYYY-MM-DD), and whole non-negative numbers of bytes and
requests.  Several rows may name the same proxy and day; they add up.  Blank lines are ignored.

Every row is checked before anything is written.  If any row is bad, each bad row is reported on
stderr with its line number, the command exits non-zero and nothing is recorded.  Otherwise all
rows are applied in one transaction through `stats.services.usage_record_bulk` (totals, charges,
limits and balance rules of A10), and a summary is printed.
"""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common.money import ZERO
from proxies.models import Proxy
from stats.services import UsageEntry, UsageValues, usage_record_bulk, usage_values_clean

HEADER = ["proxy_id", "date", "traffic_bytes", "requests"]
PROBLEM_ORDER = ("date", "proxy", "traffic_bytes", "requests")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"\d+")
MAX_REPORTED_ERRORS = 100


def _date_or_text(text: str) -> date | str:
    """A well-formed YYYY-MM-DD as a date; anything else stays text, for the check to report."""
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return text


def _whole_or_text(text: str) -> int | str:
    """Digits only as an int ("+3", "1_000", "1e9" stay text, for the check to report)."""
    return int(text) if _WHOLE.fullmatch(text) else text


@dataclass(frozen=True)
class Row:
    line: int
    proxy: Proxy
    values: UsageValues


class Command(BaseCommand):
    help = "Record traffic from a CSV file (proxy_id,date,traffic_bytes,requests): all or nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV file with a header line.")

    def handle(self, *args, file: Path, **options) -> None:
        now = timezone.now()
        rows, errors = self.read(file, now=now)
        if errors:
            for message in errors[:MAX_REPORTED_ERRORS]:
                self.stderr.write(message)
            if len(errors) > MAX_REPORTED_ERRORS:
                self.stderr.write(f"... and {len(errors) - MAX_REPORTED_ERRORS} more bad rows.")
            raise CommandError(
                f"{len(errors)} bad row{'s' if len(errors) != 1 else ''} in {file}; "
                "nothing was recorded."
            )
        if not rows:
            self.stdout.write(f"No rows in {file}; nothing recorded.")
            return
        self.apply(rows, now=now)

    # --- Validation ------------------------------------------------------------------------------

    def read(self, file: Path, *, now: datetime) -> tuple[list[Row], list[str]]:
        """Every row parsed and checked; bad rows come back as `line N: reason` messages."""
        try:
            with file.open(newline="", encoding="utf-8-sig") as handle:
                records = list(self.records(handle))
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text; nothing was recorded.") from None
        except csv.Error as error:
            raise CommandError(
                f"{file} is not valid CSV ({error}); nothing was recorded."
            ) from None

        if not records:
            return [], [f"line 1: expected the header {','.join(HEADER)}, but the file is empty."]
        header_line, header = records[0]
        if [cell.strip() for cell in header] != HEADER:
            return [], [
                f"line {header_line}: expected the header {','.join(HEADER)}, "
                f"got {','.join(header)!r}."
            ]

        public_ids = {cells[0].strip() for _, cells in records[1:] if cells}
        proxies = {p.public_id: p for p in Proxy.objects.filter(public_id__in=public_ids)}
        today = now.astimezone(UTC).date()
        rows: list[Row] = []
        errors: list[str] = []
        for line, cells in records[1:]:
            if len(cells) != len(HEADER):
                errors.append(f"line {line}: expected {len(HEADER)} columns, got {len(cells)}.")
                continue
            proxy_id, day_text, bytes_text, requests_text = (cell.strip() for cell in cells)
            proxy = proxies.get(proxy_id)
            try:
                values = usage_values_clean(
                    # An unknown id is reported in its place; the other cells are still checked.
                    proxy=proxy or Proxy(public_id=proxy_id),
                    day=_date_or_text(day_text),
                    traffic_bytes=_whole_or_text(bytes_text),
                    requests=_whole_or_text(requests_text),
                    today=today,
                )
                problems = {}
            except ValidationError as error:
                problems = {key: messages[0] for key, messages in error.message_dict.items()}
            if proxy is None:
                problems["proxy"] = f"unknown proxy id {proxy_id!r}"
            if problems:
                ordered = [problems[key] for key in PROBLEM_ORDER if key in problems]
                errors.append(f"line {line}: {'; '.join(ordered)}.")
            else:
                rows.append(Row(line, proxy, values))
        return rows, errors

    @staticmethod
    def records(handle) -> Iterator[tuple[int, list[str]]]:
        """(line number where the record starts, cells), skipping blank lines."""
        reader = csv.reader(handle)
        start = 1
        for cells in reader:
            if cells and any(cell.strip() for cell in cells):
                yield start, cells
            start = reader.line_num + 1

    # --- Applying --------------------------------------------------------------------------------

    def apply(self, rows: list[Row], *, now: datetime) -> None:
        # One order for every import (account, proxy, day), so two imports running at once lock
        # accounts in the same order and cannot deadlock; totals do not depend on the order.
        ordered = sorted(rows, key=lambda r: (r.proxy.owner_id, r.proxy.pk, r.values.day, r.line))
        try:
            recorded = usage_record_bulk(
                entries=[
                    UsageEntry(
                        row.proxy, row.values.day, row.values.traffic_bytes, row.values.requests
                    )
                    for row in ordered
                ],
                now=now,
            )
        except ValidationError as error:
            raise CommandError(f"{' '.join(error.messages)} Nothing was recorded.") from None
        charged = sum((result.charged for result in recorded), ZERO)
        proxies = {row.proxy.pk for row in rows}
        accounts = {row.proxy.owner_id for row in rows}
        traffic = sum(row.values.traffic_bytes for row in rows)
        requests = sum(row.values.requests for row in rows)
        self.stdout.write(
            f"Recorded {len(rows)} row{'s' if len(rows) != 1 else ''} for {len(proxies)} "
            f"prox{'ies' if len(proxies) != 1 else 'y'} of {len(accounts)} "
            f"account{'s' if len(accounts) != 1 else ''}: "
            f"{traffic:,} bytes, {requests:,} requests, charged {charged} USD."
        )
