"""Real server processes for tests: started on a free port of 127.0.0.1, stopped by pid."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
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
