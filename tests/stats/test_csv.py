"""The usage export's CSV assembly: header, zero-filled days, chunks.  Pure, no database."""

import ast
import csv
import inspect
import io
import itertools
from datetime import date, timedelta

import pytest

from stats import csv as usage_csv_module
from stats.csv import HEADER, usage_csv

D = date(2026, 1, 30)
HEADER_LINE = "date,traffic_bytes,requests,cost_usd\n"


def line(day: date, traffic_bytes: int = 1, requests: int = 1, cost: str = "0.01") -> str:
    return f"{day.isoformat()},{traffic_bytes},{requests},{cost}\n"


def day(offset: int) -> date:
    return D + timedelta(days=offset)


def text(batches, date_from: date, date_to: date, **kwargs) -> str:
    return "".join(usage_csv(batches, date_from=date_from, date_to=date_to, **kwargs))


def test_header_then_stored_and_zero_days_in_order():
    stored = [line(day(1), 1_048_576, 120, "0.52"), line(day(3), 7, 2, "0.01")]
    assert text([stored], day(0), day(4)) == (
        HEADER_LINE
        + "2026-01-30,0,0,0.00\n"
        + "2026-01-31,1048576,120,0.52\n"
        + "2026-02-01,0,0,0.00\n"
        + "2026-02-02,7,2,0.01\n"
        + "2026-02-03,0,0,0.00\n"
    )
    assert HEADER == ("date", "traffic_bytes", "requests", "cost_usd")


def test_nothing_stored_is_one_zero_line_per_day():
    lines = text([], day(0), day(59)).splitlines()
    assert lines[0] + "\n" == HEADER_LINE
    assert lines[1:] == [f"{day(i).isoformat()},0,0,0.00" for i in range(60)]


def test_empty_batches_are_skipped():
    assert text([[], [line(day(1))], []], day(0), day(1)) == (
        HEADER_LINE + "2026-01-30,0,0,0.00\n" + line(day(1))
    )


def test_one_day_range():
    assert text([[line(day(0), 5, 6, "7.00")]], day(0), day(0)) == HEADER_LINE + line(
        day(0), 5, 6, "7.00"
    )
    assert text([], day(0), day(0)) == HEADER_LINE + "2026-01-30,0,0,0.00\n"


@pytest.mark.parametrize(
    "stored_offsets",
    [
        [],
        [0],
        [9],
        list(range(10)),  # every day
        [0, 9],
        [1, 2, 3, 7],
        [0, 1, 2, 3, 4, 5, 6, 7, 8],  # all but the last
        [5, 6, 7, 8, 9],
    ],
)
@pytest.mark.parametrize("batch_size", [1, 2, 3, 256])
def test_every_day_appears_once_whatever_the_batches(stored_offsets, batch_size):
    stored = [line(day(i), traffic_bytes=1000 + i) for i in stored_offsets]
    batches = [stored[i : i + batch_size] for i in range(0, len(stored), batch_size)]
    rows = list(csv.DictReader(io.StringIO(text(batches, day(0), day(9), lines_per_chunk=4))))
    assert [row["date"] for row in rows] == [day(i).isoformat() for i in range(10)]
    assert [int(row["traffic_bytes"]) for row in rows] == [
        1000 + i if i in stored_offsets else 0 for i in range(10)
    ]


def test_a_gap_inside_a_batch_of_the_same_length_as_a_dense_one_is_filled():
    # Three lines spanning five days: the batch must not be taken for a gap-free one.
    stored = [line(day(0)), line(day(2)), line(day(4))]
    dates = [r.split(",")[0] for r in text([stored], day(0), day(4)).splitlines()[1:]]
    assert dates == [day(i).isoformat() for i in range(5)]


def test_stored_lines_are_passed_on_unchanged():
    stored = [line(day(0), 10**15, 10**12, "999999999999.99"), line(day(1), 0, 0, "0.00")]
    assert text([stored], day(0), day(1)) == HEADER_LINE + "".join(stored)


def test_a_gap_free_batch_is_one_chunk_and_long_gaps_are_chunked():
    dense = [line(day(i)) for i in range(256)]
    chunks = list(usage_csv([dense], date_from=day(0), date_to=day(255)))
    assert chunks == [HEADER_LINE, "".join(dense)]

    zeros = list(usage_csv([], date_from=day(0), date_to=day(599), lines_per_chunk=256))
    assert [chunk.count("\n") for chunk in zeros] == [1, 256, 256, 88]


def test_a_sparse_batch_is_chunked_too():
    stored = [line(day(0)), line(day(1000))]
    chunks = list(usage_csv([stored], date_from=day(0), date_to=day(1000), lines_per_chunk=100))
    assert max(chunk.count("\n") for chunk in chunks) <= 100
    assert sum(chunk.count("\n") for chunk in chunks) == 1 + 1001


def test_output_is_produced_lazily_from_an_endless_source():
    def endless():
        offset = 0
        while True:
            yield [line(day(offset)), line(day(offset + 1))]
            offset += 2

    first = list(itertools.islice(usage_csv(endless(), date_from=day(0), date_to=day(10**5)), 3))
    assert first == [HEADER_LINE, line(day(0)) + line(day(1)), line(day(2)) + line(day(3))]


def test_module_has_no_django_imports():
    tree = ast.parse(inspect.getsource(usage_csv_module))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "django" not in imported
