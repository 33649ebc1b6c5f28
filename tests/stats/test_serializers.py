"""The statistics endpoints' output shapes: the days list built directly renders exactly as DRF's
field-by-field serializer would."""

import json
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from api.envelope import EnvelopeJSONRenderer
from api.params import MAX_DAY, MIN_DAY
from stats.api.serializers import DayUsageOutputSerializer, UserTrafficOutputSerializer
from stats.selectors import DayUsage, totals


def field_by_field(series: list[DayUsage]) -> list[dict]:
    """What DRF's Serializer makes of each day, one at a time (the child's own fields)."""
    return [dict(DayUsageOutputSerializer(day).data) for day in series]


def random_series(seed: int) -> list[DayUsage]:
    rng = random.Random(seed)
    start = MIN_DAY + timedelta(days=rng.randrange((MAX_DAY - MIN_DAY).days - 400))
    series = []
    for offset in range(rng.randint(1, 366)):
        if rng.random() < 0.3:
            series.append(DayUsage(start + timedelta(days=offset), 0, 0, Decimal("0.00")))
            continue
        cost = Decimal(rng.randrange(0, 10**9)) / 100
        series.append(
            DayUsage(
                start + timedelta(days=offset), rng.randrange(10**15), rng.randrange(10**9), cost
            )
        )
    return series


@pytest.mark.parametrize("seed", range(6))
def test_the_days_list_equals_drfs_field_by_field_rendering(seed):
    series = random_series(seed)

    fast = DayUsageOutputSerializer(series, many=True).data

    assert fast == field_by_field(series)
    assert [list(day) for day in fast] == [list(day) for day in field_by_field(series)]
    for day in fast:
        assert type(day["cost"]) is Decimal and day["cost"].as_tuple().exponent == -2


def test_the_first_and_last_days_allowed_render_alike():
    series = [DayUsage(MIN_DAY, 1, 2, Decimal("0.01")), DayUsage(MAX_DAY, 3, 4, Decimal("1.10"))]
    assert DayUsageOutputSerializer(series, many=True).data == field_by_field(series)


def test_the_report_renders_to_the_same_json_bytes():
    series = random_series(99)
    report = {
        "date_from": series[0].date,
        "date_to": series[-1].date,
        "totals": totals(series),
        "days": series,
    }
    slow = {**dict(UserTrafficOutputSerializer(report).data), "days": field_by_field(series)}

    rendered = EnvelopeJSONRenderer().render(UserTrafficOutputSerializer(report).data)

    assert rendered == EnvelopeJSONRenderer().render(slow)
    assert json.loads(rendered)  # valid JSON
