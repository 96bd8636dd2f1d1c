"""Settings are validated once at start; the CLI prints usable tokens."""

from __future__ import annotations

import subprocess
import sys

import pytest

from api import settings
from api.auth import principal_from_header
from domain.access import Role
from tests.conftest import ROOT

GOOD = "x" * 40


def test_defaults_give_the_embedded_database_and_in_process_fan_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = settings.load({})
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'promessa.db'}"
    assert s.broadcast_url == "memory://" and s.embedded and not s.production


@pytest.mark.parametrize(("env", "message"), [
    ({"PROMESSA_ENV": "production"}, "PROMESSA_JWT_SECRET is required"),
    ({"PROMESSA_JWT_SECRET": ""}, "at least 32"),
    ({"PROMESSA_JWT_SECRET": "secret"}, "well-known"),
    ({"PROMESSA_JWT_SECRET": "changeme"}, "well-known"),
    ({"PROMESSA_JWT_SECRET": "short-but-unique"}, "at least 32"),
    ({"PROMESSA_ENV": "staging"}, "PROMESSA_ENV"),
    ({"PROMESSA_DATABASE_URL": "mysql://x/y"}, "PROMESSA_DATABASE_URL"),
    ({"PROMESSA_BROADCAST_URL": "kafka://x"}, "PROMESSA_BROADCAST_URL"),
    ({"PROMESSA_DB_POOL_SIZE": "many"}, "PROMESSA_DB_POOL_SIZE"),
    ({"PROMESSA_CUSTOMER_CANCEL_MINUTES": "half an hour"}, "PROMESSA_CUSTOMER_CANCEL_MINUTES"),
    ({"PROMESSA_CUSTOMER_CANCEL_MINUTES": "-1"}, "0-10080"),
    ({"PROMESSA_ENV": "production", "PROMESSA_JWT_SECRET": settings.DEV_SECRET},
     "development JWT secret"),
])
def test_unusable_settings_are_refused_with_what_to_change(env, message):
    with pytest.raises(settings.SettingsError, match=message):
        settings.load(env)


def test_the_customer_cancel_window_is_a_setting_with_a_default_of_thirty_minutes():
    assert settings.load({}).customer_cancel_minutes == 30
    assert settings.load({"PROMESSA_CUSTOMER_CANCEL_MINUTES": " 0 "}).customer_cancel_minutes == 0
    assert settings.load({"PROMESSA_CUSTOMER_CANCEL_MINUTES": "90"}).customer_cancel_minutes == 90


def test_production_with_a_strong_secret_and_postgres_is_accepted():
    s = settings.load({"PROMESSA_ENV": "production", "PROMESSA_JWT_SECRET": GOOD,
                       "PROMESSA_DATABASE_URL": "postgresql://db/promessa",
                       "PROMESSA_BROADCAST_URL": "redis://cache:6379/0"})
    assert s.production and not s.embedded and s.jwt_secret == GOOD


def test_cli_token_prints_a_token_the_server_accepts():
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "token", "--role", "store", "--email", "a@b.it",
         "--locations", "ST-ROMA,ST-MILANO"], cwd=ROOT, capture_output=True, text=True,
        check=True, timeout=60, env={"PROMESSA_JWT_SECRET": GOOD, "PATH": ""})
    principal = principal_from_header(f"Bearer {out.stdout.strip()}", secret=GOOD)
    assert principal.role is Role.STORE
    assert principal.locations == frozenset({"ST-ROMA", "ST-MILANO"})


def test_cli_refuses_a_weak_secret_with_a_clear_message():
    out = subprocess.run([sys.executable, "-m", "api.cli", "token", "--role", "admin"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PROMESSA_JWT_SECRET": "secret", "PATH": ""})
    assert out.returncode == 2
    assert "configuration error" in out.stderr and "Traceback" not in out.stderr
