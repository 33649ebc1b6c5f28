"""A11: rate-limit settings are validated at start-up with a clear message.

Development settings here: the test settings pin generous rates whatever the environment says.
"""

import os

import pytest

from tests.manage_process import run_manage, run_python


def env_with(**values: str) -> dict[str, str]:
    return os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.local"} | values


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_KEY_RATE_LIMIT", "0"),
        ("API_KEY_RATE_LIMIT", "-5"),
        ("API_KEY_RATE_LIMIT", "ten"),
        ("API_KEY_RATE_LIMIT", "nan"),
        ("API_KEY_RATE_BURST", "0"),
        ("API_KEY_RATE_BURST", "inf"),
        ("API_KEY_RATE_BURST", ""),
    ],
)
def test_a_bad_rate_fails_manage_py_check_with_a_clear_message(name, value):
    result = run_manage("check", env=env_with(**{name: value}))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "apikeys.E002" in output
    assert f"{name} must be a positive number" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("value", ["0.5", "10", "250"])
def test_good_rates_pass(value):
    result = run_manage("check", env=env_with(API_KEY_RATE_LIMIT=value))
    assert result.returncode == 0, result.stderr


def test_the_wsgi_application_refuses_to_start_with_a_bad_rate():
    env = env_with(API_KEY_RATE_LIMIT="0")
    result = run_python("-c", "import config.wsgi", env=env)
    assert result.returncode != 0
    assert "API_KEY_RATE_LIMIT must be a positive number" in result.stderr


def test_the_wsgi_application_starts_with_good_settings():
    result = run_python("-c", "import config.wsgi; print('ready')", env=env_with())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ready")
