"""Command line and throwaway databases shared by the benchmarks: a temporary SQLite file by
default, or a PostgreSQL database that the run creates and drops (an existing one is refused)."""

import argparse
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dj_database_url


def parse_args(
    argv: Sequence[str] | None, *, description: str, quick_help: str
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
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


@contextmanager
def postgres_database(url: str) -> Iterator[None]:
    """Create the database named in `url` and drop it afterwards; never touch an existing one."""
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    server = psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with server:
        if server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            raise SystemExit(f"Database {name!r} already exists: drop it or name another one.")
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield
        finally:
            server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
