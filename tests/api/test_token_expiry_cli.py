"""`promessa token --expires-in` makes short-lived tokens for trying expiry (issue 16, smaller
things); the default stays 30 days."""

from __future__ import annotations

import subprocess
import sys
import time

import jwt
import pytest

from api.cli import duration_seconds
from tests.conftest import ROOT

SECRET = "a-long-enough-secret-for-the-cli-tests-0123456789"


def _token(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "token", "--role", "agent", *extra], cwd=ROOT,
        capture_output=True, text=True, timeout=60,
        env={"PROMESSA_JWT_SECRET": SECRET, "PATH": ""})


@pytest.mark.parametrize(("extra", "seconds"), [
    ((), 30 * 86400), (("--expires-in", "90s"), 90), (("--expires-in", "15m"), 900)])
def test_the_token_expires_when_asked(extra, seconds):
    out = _token(*extra)

    assert out.returncode == 0, out.stderr
    claims = jwt.decode(out.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == seconds
    assert abs(claims["iat"] - time.time()) < 60


def test_a_malformed_duration_is_refused_with_a_clear_message():
    out = _token("--expires-in", "soon")

    assert out.returncode == 2
    assert "--expires-in" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("90s", 90), ("15m", 900), ("2H", 7200), ("30d", 2592000), ("0s", None),
    ("-5m", None), ("1.5h", None), ("", None), ("400d", None), ("m", None)])
def test_durations_are_read_in_seconds_minutes_hours_and_days(text, seconds):
    assert duration_seconds(text) == seconds
