"""Real server processes for tests: started on a free port of 127.0.0.1, stopped by pid."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uvicorn_command(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "api.cli:app_factory", "--factory", "--host",
            "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]


@asynccontextmanager
async def server_process(command: list[str], port: int, env: dict[str, str], *,
                         startup: float = 60) -> AsyncIterator[str]:
    """Run `command` (which serves on `port`) until /healthz answers; yield its base URL."""
    log = tempfile.NamedTemporaryFile(prefix="promessa-test-", suffix=".log", delete=False)
    process = subprocess.Popen(  # noqa: ASYNC220 - only starts it; polled below
        command, cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited with {process.returncode}:\n{_tail(log)}")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no /healthz in {startup} s:\n{_tail(log)}")
                await asyncio.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            for _ in range(150):  # up to 15 s to shut down gracefully
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                process.kill()
                process.wait(timeout=10)
        Path(log.name).unlink(missing_ok=True)  # noqa: ASYNC240 - a local temp file, once


def _tail(log, lines: int = 40) -> str:
    return "\n".join(Path(log.name).read_text(errors="replace").splitlines()[-lines:])


def start_worker(db_url: str, env: dict[str, str], *, prefix: str = "promessa-worker-"
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """`promessa worker` on `db_url` with `env` on top of the test settings; the process and
    the path of its log (kept after the test, for a failure's tail)."""
    from tests.conftest import SECRET

    log = tempfile.NamedTemporaryFile(prefix=prefix, suffix=".log", delete=False)
    env = {**os.environ, "PROMESSA_DATABASE_URL": db_url, "PROMESSA_JWT_SECRET": SECRET,
           "PROMESSA_ENV": "test", "PROMESSA_LOG_FORMAT": "text", **env}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process, log.name


async def until(check: Callable[[], Awaitable[bool]], *, seconds: float, what: str,
                log: str | None = None) -> None:
    """Wait for `check` to hold, polling every 0.1 s; fail with the tail of `log` after
    `seconds`."""
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s" + tail(log))


def tail(log: str | None) -> str:
    return f"\n{Path(log).read_text()[-2000:]}" if log else ""
