"""Settings that the spec pins: Argon2id first in PASSWORD_HASHERS (SPEC 1), and production
settings that pass `manage.py check --deploy` without a warning (R2)."""

import os
import secrets

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

from config.settings import base
from tests.manage_process import run_manage

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def production_env(tmp_path) -> dict[str, str]:
    """Dummy but strong values for every variable production settings require."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "API_KEY_", "DATABASE_", "REDIS_", "SECURE_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),  # 86 chars: passes security.W009
        API_KEY_SECRET=secrets.token_urlsafe(48),
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="api.example.com",
        EMAIL_URL="smtp://mailer:secret@smtp.example.com:587?tls=True",
    )
    return env


def test_argon2_is_the_first_password_hasher():
    # Test settings swap in a fast hasher; the shipped settings are the ones that matter.
    assert base.PASSWORD_HASHERS[0] == ARGON2


def test_the_argon2_hasher_uses_the_argon2id_variant():
    encoded = Argon2PasswordHasher().encode("correct-horse-battery", "saltsaltsalt")
    assert encoded.startswith("argon2$argon2id$")


def test_production_settings_hash_with_argon2_first(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])",
        env=production_env(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == ARGON2


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_database_connections_persist_on_both_engines(monkeypatch, tmp_path):
    # A request must not pay the connection set-up (about 2 ms on SQLite, a network handshake on
    # PostgreSQL); SQLite keeps its own options.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    sqlite = base.database_from_env(tmp_path / "db.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["CONN_MAX_AGE"] == 60
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.example.com:5432/proxies")
    postgres = base.database_from_env(tmp_path / "db.sqlite3")
    # Django's backend with a cursor for prepared statements (common/postgresql/base.py).
    assert postgres["ENGINE"] == "common.postgresql"
    assert postgres["CONN_MAX_AGE"] == 60


@pytest.mark.parametrize(
    ("value", "threshold"), [(None, 0), ("1", 0), ("0", None), ("off", None), ("false", None)]
)
def test_prepared_statements_are_on_unless_turned_off(monkeypatch, tmp_path, value, threshold):
    # Off for a pooler that cannot keep them (PgBouncer before 1.21, or max_prepared_statements 0).
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.example.com:5432/proxies")
    if value is None:
        monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    else:
        monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", value)
    postgres = base.database_from_env(tmp_path / "db.sqlite3")
    assert postgres["OPTIONS"]["prepare_threshold"] == threshold
