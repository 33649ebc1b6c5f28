"""CSV rows of the usage export (SPEC 3.2): pure Python, no Django.

Every value is a date, an integer or a two-decimal amount, none of which needs CSV quoting, so
lines are formatted directly; they are sent in batches, because a streaming response pays per chunk.
"""

from collections.abc import Iterable, Iterator

HEADER = ("date", "traffic_bytes", "requests", "cost_usd")
LINES_PER_CHUNK = 256


def csv_lines(days: Iterable[tuple], *, lines_per_chunk: int = LINES_PER_CHUNK) -> Iterator[str]:
    """The header, then one line per (date, traffic_bytes, requests, cost) day
    (`2026-01-31,1048576,120,0.52`), in chunks of lines."""
    batch = [",".join(HEADER) + "\n"]
    for day, traffic_bytes, requests, cost in days:
        batch.append(f"{day.isoformat()},{traffic_bytes},{requests},{cost:.2f}\n")
        if len(batch) >= lines_per_chunk:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)
