"""Request ids and structured logs: one JSON line per request, nothing personal in it.

`RequestLog` (ASGI middleware) gives every HTTP request and WebSocket connection an id — the
caller's `X-Request-ID` when it is sane, else a fresh one — returns it in the `X-Request-ID`
response header, and logs one line when the request ends: id, method, path, GraphQL operation
name, principal role, masked principal email, duration, outcome, HTTP status. The GraphQL
extension `Observe` fills in the operation, the role and the outcome, and feeds `/metrics`.
Masked errors carry the same id (api/errors.py reads it from here).

Never logged: tokens, full email addresses (masked as j***@example.com), addresses, variables.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.prometheus import metrics_of
from domain.kernel.errors import DomainError

access_log = logging.getLogger("promessa.access")
REQUEST_ID_HEADER = "x-request-id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# probes and scrapes: logged at DEBUG so they do not drown the requests that matter
QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}


@dataclass
class RequestRecord:
    """What one request's log line says; the GraphQL extension fills in its part."""

    request_id: str
    operation: str | None = None
    role: str | None = None
    user: str | None = None
    outcome: str | None = None


_current: ContextVar[RequestRecord | None] = ContextVar("promessa_request", default=None)


def current_request_id() -> str | None:
    record = _current.get()
    return record.request_id if record else None


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def request_id_from(header: str | None) -> str:
    """The caller's id when it is short and plain (it is echoed and logged), else a new one."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return new_request_id()


def mask_email(email: str | None) -> str | None:
    """j***@example.com: enough to tell customers apart in a log, not to contact them."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def redact(text: str) -> str:
    """Mask emails and drop bearer tokens and JWTs in free text (messages, tracebacks)."""
    text = BEARER.sub(r"\1[redacted]", text)
    text = JWT.sub("[redacted-token]", text)
    return EMAIL.sub(r"\1***@\2", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name,
            "message": redact(record.getMessage())}
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            line["requestId"] = request_id
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, separators=(",", ":"))


JsonFormatter.converter = time.gmtime


def configure_logging(fmt: str, *, level: int = logging.INFO) -> None:
    """Send everything to stdout, as JSON lines (`json`) or for people (`text`)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # RequestLog writes the access line


class RequestLog:
    """ASGI middleware: request id in and out, one log line per request or connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(REQUEST_ID_HEADER.encode())
        record = RequestRecord(request_id_from(raw.decode("latin-1") if raw else None))
        token = _current.set(record)
        status: list[int] = []
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), record.request_id.encode())]}
                status.append(message.get("status", 101))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status.append(500)
            record.outcome = "error"
            raise
        finally:
            _current.reset(token)
            self._log(scope, record, status[-1] if status else 0,
                      time.perf_counter() - started)

    @staticmethod
    def _log(scope: Scope, record: RequestRecord, status: int, seconds: float) -> None:
        outcome = record.outcome or ("ok" if 0 < status < 400 else
                                     "user_error" if status < 500 else "error")
        fields = {"requestId": record.request_id, "method": scope.get("method", "WS"),
                  "path": scope.get("path"), "operation": record.operation,
                  "role": record.role, "user": record.user, "outcome": outcome,
                  "status": status, "durationMs": round(seconds * 1000, 2)}
        level = logging.DEBUG if scope.get("path") in QUIET_PATHS else logging.INFO
        access_log.log(level, "%s %s %s", fields["method"], fields["path"], status,
                       extra={"fields": fields, "request_id": record.request_id})


def outcome_of(result: Any) -> str:
    """ok, user_error (userErrors, refusals, malformed requests) or error (unexpected)."""
    errors = getattr(result, "errors", None) or []
    for error in errors:
        original = getattr(error, "original_error", None)
        if (error.extensions or {}).get("code") == "INTERNAL" or (
                original is not None and not isinstance(original, (GraphQLError, DomainError))
                and getattr(error, "path", None) is not None):
            return "error"
    if errors:
        return "user_error"
    data = getattr(result, "data", None)
    if isinstance(data, dict) and any(isinstance(v, dict) and v.get("userErrors")
                                      for v in data.values()):
        return "user_error"
    return "ok"


class Observe(SchemaExtension):
    """Per operation: its name, the caller's role and the outcome, into the log and metrics."""

    async def on_operation(self):
        started = time.perf_counter()
        if _is_websocket(self.execution_context.context):
            # this operation's task, its own loaders (api/context.py)
            self.execution_context.context.operation_loaders()
        yield
        ctx = self.execution_context
        seconds = time.perf_counter() - started
        if _is_subscription(ctx):
            return  # lives as long as the client listens: neither a latency nor a request
        name = ctx.operation_name
        outcome = outcome_of(ctx.result) if ctx.result is not None else "error"
        context = ctx.context
        metrics = metrics_of(getattr(context, "request", None))
        if metrics is not None:
            metrics.observe(name, outcome, seconds)
        record = _current.get()
        if record is not None and not _is_websocket(context):
            principal = getattr(context, "principal", None)
            record.operation, record.outcome = name, outcome
            if principal is not None:
                record.role = principal.role.value
                record.user = mask_email(principal.email)


def _is_websocket(context: Any) -> bool:
    request = getattr(context, "request", None)
    return getattr(request, "scope", {}).get("type") == "websocket"


def _is_subscription(ctx: Any) -> bool:
    try:
        return ctx.operation_type is OperationType.SUBSCRIPTION
    except Exception:  # noqa: BLE001 - no document (it did not parse): not a subscription
        return False
