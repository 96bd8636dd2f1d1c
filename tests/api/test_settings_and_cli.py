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
    ({"PROMESSA_ALLOWED_ORIGINS": "shop.example.com"}, "Invalid origin 'shop.example.com'"),
    ({"PROMESSA_ALLOWED_ORIGINS": "https://shop.example.com/app"}, "without a path"),
    ({"PROMESSA_WS_INIT_TIMEOUT": "0"}, "PROMESSA_WS_INIT_TIMEOUT must be between 0.1 and 300"),
    ({"PROMESSA_WS_INIT_TIMEOUT": "soon"}, "PROMESSA_WS_INIT_TIMEOUT must be a number"),
    ({"PROMESSA_WS_MAX_SUBSCRIPTIONS": "2.5"}, "must be a whole number"),
    ({"PROMESSA_WS_MAX_SUBSCRIPTIONS": "0"}, "PROMESSA_WS_MAX_SUBSCRIPTIONS must be between"),
    ({"PROMESSA_OUTBOX_RETENTION_HOURS": "-1"}, "PROMESSA_OUTBOX_RETENTION_HOURS must be"),
    ({"PROMESSA_REALTIME_POLL_SECONDS": "0.001"}, "PROMESSA_REALTIME_POLL_SECONDS must be"),
    ({"PROMESSA_SUBSCRIBER_QUEUE": "5"}, "PROMESSA_SUBSCRIBER_QUEUE must be between 10"),
    ({"PROMESSA_FANOUT_HEARTBEAT_SECONDS": "0"}, "PROMESSA_FANOUT_HEARTBEAT_SECONDS must be"),
])
def test_unusable_settings_are_refused_with_what_to_change(env, message):
    with pytest.raises(settings.SettingsError, match=message):
        settings.load(env)


def test_the_customer_cancel_window_is_a_setting_with_a_default_of_thirty_minutes():
    assert settings.load({}).customer_cancel_minutes == 30
    assert settings.load({"PROMESSA_CUSTOMER_CANCEL_MINUTES": " 0 "}).customer_cancel_minutes == 0
    assert settings.load({"PROMESSA_CUSTOMER_CANCEL_MINUTES": "90"}).customer_cancel_minutes == 90


SELLER = {"PROMESSA_SELLER_NAME": "Negozio S.p.A.",
          "PROMESSA_SELLER_ADDRESS": "Corso Buenos Aires 1; 20124 Milano (MI)",
          "PROMESSA_SELLER_COUNTRY": "it", "PROMESSA_SELLER_VAT_ID": "IT01234567897"}


def test_production_with_a_strong_secret_and_postgres_is_accepted():
    s = settings.load({"PROMESSA_ENV": "production", "PROMESSA_JWT_SECRET": GOOD,
                       "PROMESSA_DATABASE_URL": "postgresql://db/promessa",
                       "PROMESSA_BROADCAST_URL": "redis://cache:6379/0", **SELLER})
    assert s.production and not s.embedded and s.jwt_secret == GOOD
    assert s.seller is not None and s.seller.party.name == "Negozio S.p.A."
    assert s.seller.party.address_lines == ("Corso Buenos Aires 1", "20124 Milano (MI)")
    assert (s.seller.party.country, s.seller.party.vat_id, s.seller.time_zone) == (
        "IT", "IT01234567897", "Europe/Rome")


@pytest.mark.parametrize(("env", "message"), [
    ({"PROMESSA_ENV": "production", "PROMESSA_JWT_SECRET": GOOD}, "invoices name the seller"),
    ({"PROMESSA_SELLER_NAME": "Negozio"}, "PROMESSA_SELLER_ADDRESS, PROMESSA_SELLER_COUNTRY"),
    ({**SELLER, "PROMESSA_SELLER_COUNTRY": "Italy"}, "ISO 3166"),
    ({**SELLER, "PROMESSA_SELLER_TIME_ZONE": "Mars/Olympus"}, "IANA time zone"),
    ({**SELLER, "PROMESSA_SELLER_ADDRESS": "a;b;c;d;e"}, "at most 4 address lines"),
    ({**SELLER, "PROMESSA_SELLER_ADDRESS": " ; "}, "must hold the seller's address"),
    ({"PROMESSA_SELLER_TIME_ZONE": "Europe/Rome"}, "needs the other PROMESSA_SELLER_"),
])
def test_a_seller_is_all_or_nothing_and_required_in_production(env, message):
    with pytest.raises(settings.SettingsError, match=message):
        settings.load(env)
    assert settings.load({}).seller is None  # the demo company, outside production


def test_realtime_settings_have_defaults_and_are_read_from_the_environment(tmp_path,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    default = settings.load({})
    assert (default.allowed_origins, default.ws_init_timeout_seconds,
            default.ws_max_subscriptions, default.outbox_retention_hours,
            default.realtime_poll_seconds, default.subscriber_queue,
            default.fanout_heartbeat_seconds) == ((), 10.0, 50, 168.0, 1.0, 1000, 2.0)
    s = settings.load({"PROMESSA_ALLOWED_ORIGINS": " https://shop.example.com, "
                                                   "http://localhost:3000 ,",
                       "PROMESSA_WS_INIT_TIMEOUT": "2.5", "PROMESSA_WS_MAX_SUBSCRIPTIONS": "7",
                       "PROMESSA_OUTBOX_RETENTION_HOURS": "24",
                       "PROMESSA_REALTIME_POLL_SECONDS": "0.5",
                       "PROMESSA_SUBSCRIBER_QUEUE": "200",
                       "PROMESSA_FANOUT_HEARTBEAT_SECONDS": "0.5"})
    assert s.allowed_origins == ("https://shop.example.com", "http://localhost:3000")
    assert (s.ws_init_timeout_seconds, s.ws_max_subscriptions, s.outbox_retention_hours,
            s.realtime_poll_seconds, s.subscriber_queue, s.fanout_heartbeat_seconds) == (
        2.5, 7, 24.0, 0.5, 200, 0.5)


def test_several_workers_need_a_shared_fan_out():
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--workers", "2"], cwd=ROOT,
        capture_output=True, text=True, timeout=60,
        env={"PROMESSA_JWT_SECRET": GOOD, "PATH": "",
             "PROMESSA_DATABASE_URL": "postgresql://db/promessa"})
    assert out.returncode == 2
    assert "--workers > 1 needs PROMESSA_BROADCAST_URL" in out.stderr


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
