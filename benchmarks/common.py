"""What the benchmarks share: the command line, a throwaway database (a temporary SQLite file by
default, or a PostgreSQL database that the run creates and drops; an existing one is refused),
Django configured for it, and the lines every report prints."""

import argparse
import importlib
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import dj_database_url


def parse_args(
    argv: Sequence[str] | None,
    *,
    description: str,
    quick_help: str,
    flags: Mapping[str, str] | None = None,
) -> argparse.Namespace:
    """`--quick`, `--database-url`, and the benchmark's own on/off `flags` (name: help)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    for flag, flag_help in (flags or {}).items():
        parser.add_argument(flag, action="store_true", help=flag_help)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL whose database the run creates and drops (default: temporary SQLite)",
    )
    args = parser.parse_args(argv)
    if args.database_url:
        engine = dj_database_url.parse(args.database_url)["ENGINE"]
        if engine != "django.db.backends.postgresql":
            parser.error("--database-url must be a PostgreSQL URL (SQLite is the default)")
    return args


@contextmanager
def benchmark_database(url: str | None, *, name: str) -> Iterator[str]:
    """The URL of a new, empty database that is removed when the block ends."""
    if url:
        with postgres_database(url):
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix=f"{name}_") as directory:
            yield f"sqlite:///{Path(directory) / f'{name}.sqlite3'}"


def server_connection(url: str):
    """An autocommit connection to the `postgres` database of the server named in `url`."""
    import psycopg

    config = dj_database_url.parse(url)
    return psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@contextmanager
def postgres_database(url: str) -> Iterator[None]:
    """Create the database named in `url` and drop it afterwards; never touch an existing one."""
    from psycopg import sql

    name = dj_database_url.parse(url)["NAME"]
    with server_connection(url) as server:
        if server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            raise SystemExit(f"Database {name!r} already exists: drop it or name another one.")
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield
        finally:
            server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def configure_django(
    database_url: str, *, extra_apps: Sequence[str] = (), redis_url: str | None = None
) -> None:
    """The project's test settings for `database_url`, plus `extra_apps`; migrated.

    REDIS_URL in the environment is ignored: the cache is `redis_url` when given (a benchmark's
    private redis-server, as in production), else local memory, so throttling costs the same on
    every run.  The query log is off (DEBUG False) in the timed loops.
    """
    import django
    from django.conf import settings
    from django.core.management import call_command

    # Settings read the environment in one place: let them build DATABASES (with the project's
    # SQLite options) exactly as they would for a deployment with this URL.
    os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    project = importlib.import_module("config.settings.test")
    values = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    values["INSTALLED_APPS"] = [*values["INSTALLED_APPS"], *extra_apps]
    values["ALLOWED_HOSTS"] = [*values["ALLOWED_HOSTS"], "testserver"]
    values["DEBUG"] = False
    settings.configure(**values)
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def database_description() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return (
            f"SQLite {sqlite3.sqlite_version} (temporary file {connection.settings_dict['NAME']})"
        )
    major, minor = divmod(connection.pg_version, 10_000)
    settings_dict = connection.settings_dict
    return (
        f"PostgreSQL {major}.{minor} ({settings_dict['NAME']} on "
        f"{settings_dict['HOST']}:{settings_dict['PORT']})"
    )


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def verdict(held: bool) -> str:
    return "HELD" if held else "MISSED"


def run_benchmark(
    argv: Sequence[str] | None,
    *,
    description: str,
    quick_help: str,
    name: str,
    run: Callable[..., None],
    extra_apps: Sequence[str] = (),
    flags: Mapping[str, str] | None = None,
) -> None:
    """Parse the command line, make the database, configure Django and call `run(quick)`, or
    with `flags` (`{"--large": help}`) `run(quick, large=...)`."""
    from django.db import connections

    started = time.perf_counter()
    args = parse_args(argv, description=description, quick_help=quick_help, flags=flags)
    names = [flag.lstrip("-").replace("-", "_") for flag in flags or {}]
    chosen = {name: getattr(args, name) for name in names}
    with benchmark_database(args.database_url, name=name) as database_url:
        configure_django(database_url, extra_apps=extra_apps)
        try:
            run(args.quick, **chosen)
        finally:
            connections.close_all()  # PostgreSQL: before the database is dropped
    print(f"Finished in {time.perf_counter() - started:.0f} s; load average now {load_average()}")


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of the caller's own on a free loopback port, without persistence; stop()
    ends it by its pid and start() brings a new, empty one up on the same port.  Used by the
    tests that take Redis away and by benchmarks/load.py; never the machine's shared Redis."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)  # waiting for a server process to listen
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
