"""Running work in parallel threads, each with its own database connection, as separate workers
would: for the PostgreSQL concurrency tests."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

POSTGRES_ONLY = (
    "needs PostgreSQL (set DATABASE_URL): real row locks between concurrent transactions"
)


def skip_unless_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRES_ONLY)


def terminate_backend(pid: int) -> None:
    """End one PostgreSQL backend from a separate connection, as a failover or restart does."""
    import psycopg

    parameters = connection.get_connection_params()
    parameters.pop("cursor_factory", None)
    parameters.pop("context", None)
    with psycopg.connect(**parameters, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def run_in_parallel(count: int, work: Callable[[int], object], *, timeout: float = 60) -> list:
    """Start `work(index)` in `count` threads at once; return each result or the exception raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # the outcome is what the tests assert on
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
