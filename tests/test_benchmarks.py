"""The on-demand benchmarks still run against today's code: a `--quick` run of each (about 10 s
together) must finish and print its figures.  Their targets are judged by full runs on a quiet
machine (README, Benchmarks), not here, where timing depends on what else the machine runs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_quick(script: str) -> str:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--quick"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize(
    ("script", "figures"),
    [
        ("auth.py", ["DRF TokenAuthentication", "apikeys: APIKeyAuth + HasScope", "SQL/req"]),
        ("stats.py", ["/v1/user/traffic, 365 days", "CSV export, 10 years", "view / SQL:"]),
        ("flush.py", ["flush of 10,000 active keys < 1 s, local store", "add s p50"]),
    ],
)
def test_the_benchmark_runs_and_prints_its_figures(script, figures):
    output = run_quick(script)
    for figure in figures:
        assert figure in output, (figure, output[-2000:])
