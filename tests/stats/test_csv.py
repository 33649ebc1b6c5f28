"""CSV rows of the usage export: pure, no database."""

import ast
import csv
import inspect
import io
import itertools
from collections import namedtuple
from datetime import date, timedelta
from decimal import Decimal

from stats import csv as usage_csv
from stats.csv import HEADER, csv_lines

Day = namedtuple("Day", "date traffic_bytes requests cost")


def test_header_then_one_line_per_day():
    text = "".join(
        csv_lines(
            [
                Day(date(2026, 1, 31), 1_048_576, 120, Decimal("0.52")),
                Day(date(2026, 2, 1), 0, 0, Decimal("0.00")),
            ]
        )
    )
    assert text == (
        "date,traffic_bytes,requests,cost_usd\n2026-01-31,1048576,120,0.52\n2026-02-01,0,0,0.00\n"
    )
    assert HEADER == ("date", "traffic_bytes", "requests", "cost_usd")


def test_no_days_is_just_the_header():
    assert list(csv_lines([])) == ["date,traffic_bytes,requests,cost_usd\n"]


def test_cost_always_has_two_decimals_and_never_scientific_notation():
    costs = [
        Decimal("0.5"),
        Decimal("7"),
        Decimal("1E+3"),
        Decimal("0.10"),
        Decimal("123456789.99"),
    ]
    lines = "".join(csv_lines(Day(date(2026, 1, 1), 1, 1, cost) for cost in costs)).splitlines()[1:]
    assert [line.split(",")[-1] for line in lines] == [
        "0.50",
        "7.00",
        "1000.00",
        "0.10",
        "123456789.99",
    ]


def test_big_integers_are_written_in_full():
    text = "".join(csv_lines([Day(date(2026, 1, 1), 10**15, 10**12, Decimal("8000000.00"))]))
    assert text.splitlines()[1] == "2026-01-01,1000000000000000,1000000000000,8000000.00"


def test_lines_parse_back_with_the_csv_module():
    days = [
        Day(date(2026, 1, 1) + timedelta(days=i), i * 1000, i, Decimal(i) / 4) for i in range(5)
    ]
    rows = list(csv.DictReader(io.StringIO("".join(csv_lines(days)))))
    assert [row["date"] for row in rows] == [d.date.isoformat() for d in days]
    assert [int(row["traffic_bytes"]) for row in rows] == [d.traffic_bytes for d in days]
    assert [Decimal(row["cost_usd"]) for row in rows] == [
        d.cost.quantize(Decimal("0.01")) for d in days
    ]


def test_lines_are_produced_lazily_from_an_endless_source():
    def endless():
        day = date(2000, 1, 1)
        while True:
            yield Day(day, 1, 1, Decimal("0.01"))
            day += timedelta(days=1)

    first = list(itertools.islice(csv_lines(endless(), lines_per_chunk=2), 3))
    assert first[0] == "date,traffic_bytes,requests,cost_usd\n2000-01-01,1,1,0.01\n"
    assert first[2] == "2000-01-04,1,1,0.01\n2000-01-05,1,1,0.01\n"


def test_lines_are_sent_in_chunks_not_one_by_one():
    days = [Day(date(2026, 1, 1) + timedelta(days=i), 0, 0, Decimal(0)) for i in range(600)]
    chunks = list(csv_lines(days))
    assert len(chunks) == 3  # 601 lines in chunks of 256
    assert sum(chunk.count("\n") for chunk in chunks) == 601


def test_module_has_no_django_imports():
    tree = ast.parse(inspect.getsource(usage_csv))
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
