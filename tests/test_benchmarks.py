"""The on-demand benchmarks still run against today's code: a `--quick` run of each (about 10 s
together) must finish and print its figures.  Their targets are judged by full runs on a quiet
machine (README, Benchmarks), not here, where timing depends on what else the machine runs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.concurrency import skip_unless_postgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_quick(script: str, *arguments: str) -> str:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--quick", *arguments],
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
        (
            "auth.py",
            ["DRF TokenAuthentication", "apikeys: APIKeyAuth + HasScope", "SQL/req", "sqlite  "],
        ),
        (
            "stats.py",
            [
                "/v1/user/traffic, 365 days",
                "CSV export, 10 years",
                "view / SQL:",
                "before the rollup: GROUP BY over the proxy rows",
                "Statistics page, per-proxy breakdown",
                "Usage ingestion: a batch of",
            ],
        ),
        ("flush.py", ["flush of 10,000 active keys < 1 s, local store", "add s p50"]),
        (
            "ingest.py",
            [
                "usage_record, one call per row",
                "usage_record_batch (service)",
                "record_usage FILE.csv (command)",
                "rows at >= 5,000 rows/s: worst run",
            ],
        ),
    ],
)
def test_the_benchmark_runs_and_prints_its_figures(script, figures):
    # auth.py measures SQLite and PostgreSQL in one invocation; here the SQLite half, which needs
    # no server (the PostgreSQL half is the next test).
    output = run_quick(script, *(["--only", "sqlite"] if script == "auth.py" else []))
    for figure in figures:
        assert figure in output, (figure, output[-2000:])


@pytest.mark.postgres
def test_the_auth_benchmark_measures_postgresql_with_redis():
    """The PostgreSQL half of benchmarks/auth.py: the production limiter (a private redis-server)
    and its round trips per request are in the figures."""
    skip_unless_postgres()
    url = connection.settings_dict
    server = f"postgres://{url['USER']}@{url['HOST'] or '127.0.0.1'}:{url['PORT'] or 5432}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    output = run_quick(
        "auth.py", "--only", "postgresql", "--database-url", f"{server}/bench_auth_{worker}"
    )
    assert "rate limiter: Redis, a private redis-server" in output
    assert "without prepared statements:" in output
    # The lowest ratio the spec's two round trips allow, timed in the same run.
    assert "floor + PING + SELECT 1" in output
    assert "the spec's two round trips alone (PING + SELECT 1):" in output
    summary = output[output.index("Summary:") :]
    assert "postgresql" in summary and "1.00      1.00" in summary, summary
