"""R4: a short run of benchmarks/load.py, so CI proves on every change what the benchmark
measures: production settings on PostgreSQL with a private Redis and two gunicorn servers,
Locust's mixed workload, Redis stopped and restarted, the database connections terminated twice,
keys revoked in use, and then zero 5xx, zero revoked-key successes and a consistent ledger."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest
from django.db import connection

from tests.concurrency import skip_unless_postgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.postgres
def test_the_load_benchmark_holds_its_targets_through_the_faults():
    skip_unless_postgres()
    settings = connection.settings_dict
    url = dj_database_url.parse(os.environ["DATABASE_URL"])
    database = f"bench_load_{uuid.uuid4().hex[:12]}"
    database_url = (
        f"postgres://{url['USER'] or settings['USER']}@{url['HOST'] or '127.0.0.1'}:"
        f"{url['PORT'] or 5432}/{database}"
    )
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/load.py",
            "--quick",
            "--duration",
            "15",
            "--database-url",
            database_url,
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout
    assert result.returncode == 0, output[-4000:] + result.stderr[-4000:]
    # The faults really happened ...
    assert "Redis stopped" in output and "Redis started again" in output
    terminated = [int(n) for n in re.findall(r"(\d+) database connections terminated", output)]
    assert len(terminated) == 2 and all(n > 0 for n in terminated), output
    assert output.count(" revoked\n") == 3
    # ... and the targets held through them.
    assert "5xx responses and failed connections: 0 (target 0)" in output
    assert "Revoked-key requests answered 200 after revocation: 0 (target 0)" in output
    assert "MISSED" not in output
    assert output.count("HELD  ") == 6
    # Every endpoint was exercised.
    for endpoint in (
        "GET /v1/proxy ",
        "GET /v1/proxy/{id} ",
        "GET /v1/proxy/{id}/usage/export",
        "GET /v1/user/traffic",
        "GET /v1/user/balance ",
        "GET /v1/user/balance-history",
        "GET /v1/plans",
        "GET /v1/geo/countries",
        "GET /v1/geo/states",
        "GET /v1/geo/cities",
        "GET /v1/geo/zip",
        "GET /v1/schema",
        "GET /v1/docs",
        "POST /v1/proxy ",
        "PUT /v1/proxy/{id}",
        "DELETE /v1/proxy/{id}",
    ):
        assert endpoint in output, endpoint
