"""`manage.py` in a process of its own, as operators and cron run it: exit code, stdout, stderr."""

import os
import subprocess
import sys

from django.conf import settings


def run_python(*args: str, env: dict[str, str], stdin: str | None = None):
    """`python ARGS` in the project folder, as an operator or a process manager runs it."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_manage(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, env=env, stdin=stdin)


def migrated_sqlite_env(tmp_path) -> dict[str, str]:
    """The environment for the test settings on a new SQLite file, migrated."""
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cmd.sqlite3'}",
    }
    migrate = run_manage("migrate", "-v0", env=env)
    assert migrate.returncode == 0, migrate.stderr
    return env
