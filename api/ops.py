"""Readiness for load balancers and orchestrators: `/readyz`.

`/healthz` says the process is alive. `/readyz` says it can serve: the database answers, the
fan-out backend hears its own heartbeat (so subscribers here learn of changes made elsewhere)
and the database schema is at the migration head this code was written for. Each check has a
short time limit, so a hung dependency makes the answer "not ready", never a hung probe.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.prometheus import may_see_internals
from persistence import migrate

CHECK_TIMEOUT_SECONDS = 2.0


@functools.cache
def head_revision() -> str:
    """The head of the migration scripts shipped with this code (read from disk once)."""
    return migrate.head_revision()


async def _database(db: Any) -> dict[str, Any]:
    async with db.reader.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
    return {"ok": True}


async def _migrations(db: Any) -> dict[str, Any]:
    current, head = await migrate.current_revision(db.writer), head_revision()
    return {"ok": current == head, "current": current, "head": head}


async def _fanout(fanout: Any) -> dict[str, Any]:
    return {"ok": fanout.healthy(), "backend": fanout.url.partition("://")[0]}


async def _timed(check) -> dict[str, Any]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await check
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        return {"ok": False, "error": type(exc).__name__}


async def readiness(db: Any, fanout: Any) -> tuple[bool, dict[str, Any]]:
    """(ready, what each check found); the checks run concurrently."""
    names = ("database", "migrations", "fanout")
    found = await asyncio.gather(_timed(_database(db)), _timed(_migrations(db)),
                                 _timed(_fanout(fanout)))
    checks = dict(zip(names, found, strict=True))
    if not checks["database"]["ok"] and checks["migrations"].get("error"):
        checks["migrations"] = {"ok": False, "error": "database unreachable"}
    return all(c["ok"] for c in found), checks


async def readyz(request: Request) -> JSONResponse:
    """200 {"status": "ready", …} or 503 {"status": "not ready", "failing": [...], …}; the
    checks' details only to whoever may read /metrics (see prometheus.may_see_internals)."""
    state = request.app.state
    db, fanout = getattr(state, "db", None), getattr(state, "fanout", None)
    if db is None or fanout is None:
        return JSONResponse({"status": "not ready", "failing": ["startup"]}, status_code=503)
    ready, checks = await readiness(db, fanout)
    if not may_see_internals(request):  # the answer a load balancer needs, nothing more
        return JSONResponse({"status": "ready" if ready else "not ready"},
                            status_code=200 if ready else 503)
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    failing = [name for name, c in checks.items() if not c["ok"]]
    return JSONResponse({"status": "not ready", "failing": failing, "checks": checks},
                        status_code=503)
