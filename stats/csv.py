"""The usage export's CSV (SPEC 3.2): pure Python, no Django.

The database formats the line of each stored day (`stats.selectors.proxy_usage_lines`: it does
that faster than Python can receive the values); `usage_csv` adds the header and a zero line for
every day without usage, so there is exactly one line per day of the range.  Output is yielded in
chunks of up to `LINES_PER_CHUNK` lines, because a streaming response pays per chunk and memory
must not grow with the range.  A batch of stored days with no gap between them (a proxy in use)
is passed on as one chunk, without Python code running per line.
"""

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

HEADER = ("date", "traffic_bytes", "requests", "cost_usd")
# The longest range one export may cover, in the dashboard and the API alike: ten years of days
# (the export streams, so its memory does not grow with the range).
MAX_EXPORT_DAYS = 3660
LINES_PER_CHUNK = 256
ZERO_LINE = "%s,0,0,0.00\n"


def usage_csv(
    batches: Iterable[Sequence[str]],
    *,
    date_from: date,
    date_to: date,
    lines_per_chunk: int = LINES_PER_CHUNK,
) -> Iterator[str]:
    """The header, then one line per day from `date_from` to `date_to` (`2026-01-31,1048576,120,0.52`).

    `batches` are lists of the stored days' lines in date order, each starting with its ISO date
    and ending with a newline; a day appears once at most, and only days of the range.  Days
    missing from them are written as `YYYY-MM-DD,0,0,0.00`.
    """
    yield ",".join(HEADER) + "\n"
    next_day = date_from.toordinal()  # the first day not yet written
    for lines in batches:
        if not lines:
            continue
        first = _ordinal(lines[0])
        last = _ordinal(lines[-1])
        yield from _zero_chunks(next_day, first, lines_per_chunk)
        if last - first + 1 == len(lines):  # a line for every day of the batch
            yield "".join(lines)
        else:
            yield from _filled_chunks(lines, first, lines_per_chunk)
        next_day = last + 1
        del lines  # before the next batch is fetched: one batch in memory at a time
    yield from _zero_chunks(next_day, date_to.toordinal() + 1, lines_per_chunk)


def _ordinal(line: str) -> int:
    return date.fromisoformat(line[:10]).toordinal()


def _zero_chunks(start: int, stop: int, size: int) -> Iterator[str]:
    """Zero lines for the days with ordinals in [start, stop), `size` lines a chunk."""
    for chunk_start in range(start, stop, size):
        yield "".join(
            [
                ZERO_LINE % date.fromordinal(ordinal).isoformat()
                for ordinal in range(chunk_start, min(chunk_start + size, stop))
            ]
        )


def _filled_chunks(lines: Sequence[str], first: int, size: int) -> Iterator[str]:
    """`lines` with a zero line for each day missing between them, `size` lines a chunk."""
    chunk: list[str] = []
    next_day = first
    for line in lines:
        day = _ordinal(line)
        while next_day < day:
            chunk.append(ZERO_LINE % date.fromordinal(next_day).isoformat())
            next_day += 1
            if len(chunk) >= size:
                yield "".join(chunk)
                chunk = []
        chunk.append(line)
        next_day = day + 1
        if len(chunk) >= size:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)
