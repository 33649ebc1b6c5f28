"""CSV rows of the usage export (SPEC 3.2): pure Python, no Django."""

import csv
import io
from collections.abc import Iterable, Iterator

HEADER = ("date", "traffic_bytes", "requests", "cost_usd")


def csv_lines(days: Iterable) -> Iterator[str]:
    """The header, then one line per day: `2026-01-31,1048576,120,0.52`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    yield buffer.getvalue()
    for day in days:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow((day.date.isoformat(), day.traffic_bytes, day.requests, f"{day.cost:.2f}"))
        yield buffer.getvalue()
