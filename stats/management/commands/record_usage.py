"""`manage.py record_usage FILE.csv`: record a batch of gateway traffic (SPEC 3.3).

The file is UTF-8 CSV with the header `proxy_id,date,traffic_bytes,requests`, then one record per
row: the proxy's public id, the UTC day (YYYY-MM-DD), and whole non-negative numbers of bytes and
requests.  Several rows may name the same proxy and day; they add up.  Blank lines are ignored.

Every row is checked before anything is written.  If any row is bad, each bad row is reported on
stderr with its line number, the command exits non-zero and nothing is recorded.  Otherwise the
rows are applied in the file's order, as `usage_record` called for each in turn would apply them
(totals, charges, limits and balance rules of A10), through `stats.services.usage_record_batch`:
`--chunk-size` rows (default 10,000) per transaction.  A summary is printed, and with more than
one chunk a line saying they all applied (`-v 2`: a line per chunk).

A chunk that fails (a database error, a lost connection) is rolled back whole and the chunks after
it are not attempted: the rows before it are recorded, the command names the lines from which
nothing was recorded and exits non-zero.  Recording those lines again (with the header) completes
the file exactly.  Two imports running at once cannot deadlock: each chunk locks its accounts in
one order.
"""

import argparse
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common.dates import parse_day
from proxies.models import Proxy
from stats.services import (
    DEFAULT_CHUNK_SIZE,
    ChunkStatus,
    UsageBatchReport,
    UsageChunkReport,
    UsageEntry,
    UsageValues,
    usage_record_batch,
    usage_values_clean,
)

HEADER = ["proxy_id", "date", "traffic_bytes", "requests"]
PROBLEM_ORDER = ("date", "proxy", "traffic_bytes", "requests")
_WHOLE = re.compile(r"\d+")
MAX_REPORTED_ERRORS = 100


def _date_or_text(text: str) -> date | str:
    """A well-formed YYYY-MM-DD as a date; anything else stays text, for the check to report."""
    day = parse_day(text)
    return text if day is None else day


def _whole_or_text(text: str) -> int | str:
    """Digits only as an int ("+3", "1_000", "1e9" stay text, for the check to report)."""
    return int(text) if _WHOLE.fullmatch(text) else text


def _lines(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _chunk_size(text: str) -> int:
    if not _WHOLE.fullmatch(text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of rows from 1")
    return int(text)


@dataclass(frozen=True)
class Row:
    line: int
    proxy: Proxy
    values: UsageValues


class Command(BaseCommand):
    help = (
        "Record traffic from a CSV file (proxy_id,date,traffic_bytes,requests): nothing if any "
        "row is bad, else every row, a chunk of rows per transaction."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV file with a header line.")
        parser.add_argument(
            "--chunk-size",
            type=_chunk_size,
            default=DEFAULT_CHUNK_SIZE,
            help=f"Rows per transaction (default {DEFAULT_CHUNK_SIZE:,}).",
        )

    def handle(self, *args, file: Path, chunk_size: int, verbosity: int = 1, **options) -> None:
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
        report = self.apply(rows, now=now, chunk_size=chunk_size)
        self.report(file, rows, report, verbosity=verbosity)

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

    def apply(self, rows: list[Row], *, now: datetime, chunk_size: int) -> UsageBatchReport:
        try:
            return usage_record_batch(
                entries=[
                    UsageEntry(
                        row.proxy, row.values.day, row.values.traffic_bytes, row.values.requests
                    )
                    for row in rows
                ],
                chunk_size=chunk_size,
                now=now,
            )
        except ValidationError as error:
            raise CommandError(f"{' '.join(error.messages)} Nothing was recorded.") from None

    def report(
        self, file: Path, rows: list[Row], report: UsageBatchReport, *, verbosity: int
    ) -> None:
        """The summary of what was recorded; for a failed chunk, what was not (and exit non-zero)."""
        applied = rows[: report.applied_rows]
        if applied:
            proxies = {row.proxy.pk for row in applied}
            accounts = {row.proxy.owner_id for row in applied}
            traffic = sum(row.values.traffic_bytes for row in applied)
            requests = sum(row.values.requests for row in applied)
            self.stdout.write(
                f"Recorded {len(applied)} row{'s' if len(applied) != 1 else ''} for "
                f"{len(proxies)} prox{'ies' if len(proxies) != 1 else 'y'} of {len(accounts)} "
                f"account{'s' if len(accounts) != 1 else ''}: "
                f"{traffic:,} bytes, {requests:,} requests, charged {report.charged} USD."
            )
        chunks = report.chunks
        if verbosity >= 2:
            for chunk in chunks:
                self.stdout.write(self.describe(chunk, rows, len(chunks)))
        failed = report.failed
        if failed is None:
            if len(chunks) > 1 and verbosity >= 1:
                self.stdout.write(
                    f"Applied in {len(chunks)} chunks of up to {chunks[0].rows:,} rows, one "
                    "transaction each: all applied."
                )
            return
        self.stderr.write(self.describe(failed, rows, len(chunks)))
        if failed.number == 1:
            recorded = "nothing recorded"
        else:
            before = "chunk 1" if failed.number == 2 else f"chunks 1-{failed.number - 1}"
            recorded = f"{_lines(rows[0].line, rows[failed.start - 1].line)} ({before}) recorded"
        raise CommandError(
            f"Chunk {failed.number} of {len(chunks)} failed: {recorded}, "
            f"{_lines(rows[failed.start].line, rows[-1].line)} of {file} not. Record those "
            "lines again (after the header) once the cause is fixed."
        )

    @staticmethod
    def describe(chunk: UsageChunkReport, rows: list[Row], count: int) -> str:
        lines = _lines(rows[chunk.start].line, rows[chunk.stop - 1].line)
        size = f"{chunk.rows:,} row{'s' if chunk.rows != 1 else ''}"
        text = f"Chunk {chunk.number} of {count} ({lines}, {size}): {chunk.status}"
        if chunk.status == ChunkStatus.APPLIED:
            return f"{text}, charged {chunk.charged} USD."
        if chunk.error:
            return f"{text} and was rolled back: {chunk.error}"
        return f"{text}."
