"""GraphQL over HTTP as the spec drafts it, and HTTP hygiene around it.

- Content negotiation: `application/graphql-response+json` when the client asks for it (a
  request error — nothing executed, no `data` — is then a 4xx), `application/json` otherwise
  (always 200 for a well-formed request, for clients written before the new media type); an
  Accept header naming neither is answered 406.
- Request bodies must be `application/json` (415 otherwise). This is also the CSRF defence:
  a cross-site page can send only "simple" requests without a preflight — `text/plain`,
  `application/x-www-form-urlencoded`, `multipart/form-data` — and each of those is refused
  before anything runs; GET runs queries only (a mutation is answered 405, `Allow: POST`).
- `BodyLimit`: a body larger than allowed is answered 413 before it is read whole or parsed;
  one that does not arrive whole in time, 408 (and the connection is closed).
- `SecurityHeaders`: nosniff, no referrer, no framing, a CSP (one that lets GraphiQL's page
  load its scripts on that page only) and, in production, HSTS.
- `LastResort`: an exception no route handled (GraphQL masks its own) is answered 500 in
  GraphQL's error shape with the request's id, and logged with its traceback under that id.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import current_request_id, new_request_id

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# what a cross-site form or fetch may send without a CORS preflight: never a GraphQL request
SIMPLE_CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded",
                        "multipart/form-data")


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality))
    return ranges


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts neither of ours.

    No Accept header, `*/*` or `application/*` mean application/json (the legacy default);
    the new type is chosen only when asked for by name, and at least as much as JSON.
    """
    if not accept or not accept.strip():
        return JSON
    best: dict[str, float] = {}
    for media, quality in _media_ranges(accept):
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            best[GRAPHQL_RESPONSE] = max(best.get(GRAPHQL_RESPONSE, 0), quality)
        elif media in (JSON, "application/*", "*/*"):
            best[JSON] = max(best.get(JSON, 0), quality)
    if not best:
        return None
    if best.get(GRAPHQL_RESPONSE, 0) >= best.get(JSON, 0):
        return GRAPHQL_RESPONSE
    return JSON


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    media, *params = (p.strip() for p in (content_type or "").split(";"))
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return media.lower(), parsed


def error_response(status: int, message: str, code: str, *, media: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """A request refused before GraphQL ran: a GraphQL-shaped body, no `data`."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]},
                      separators=(",", ":"))
    return Response(body, status_code=status, headers=headers,
                    media_type=media or JSON)


class BodyLimit:
    """Answer 413 for a request body over `max_bytes`: declared (Content-Length) before a byte
    is read, streamed (chunked) as soon as the count passes the limit. Answer 408 for one not
    received whole within `timeout` seconds of its head: a client trickling its body (or
    sending none after announcing one) held a connection and a task for ever — the head
    deadline of `promessa serve` (api/server.py) ends once the head is complete."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float = 30.0) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self.too_large()(scope, receive, send)
                    return
        seen = 0
        whole = False
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def counted() -> Message:
            nonlocal seen, whole
            if whole:  # past the body (a wait for the disconnect): no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                whole = not message.get("more_body", False)
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        watched = _Watched(send)
        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if watched.started:
                raise
            await self.too_large()(scope, receive, send)
        except _TooSlow:
            if watched.started:
                raise
            await error_response(
                408, f"the request body did not arrive within {self.timeout:g} seconds",
                "REQUEST_TIMEOUT", headers={"connection": "close"})(scope, receive, send)

    def too_large(self) -> Response:
        return error_response(413, f"the request body is larger than {self.max_bytes} bytes",
                              "BODY_TOO_LARGE")


class _Watched:
    """A `send` that remembers whether the answer has begun (after which no other answer can
    be given)."""

    def __init__(self, send: Send) -> None:
        self.send, self.started = send, False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class LastResort:
    """Inside the security headers and CORS: what escapes a route outside GraphQL (a page, a
    PDF link, a probe) is answered 500 with `{"errors": [{"message": "Unexpected error",
    "extensions": {"code": "INTERNAL", "requestId": …}}]}` — nothing of the exception — and
    the middleware around it still adds its headers. Too late for an answer (it had
    started): the exception goes on up to the server. A client that left: nothing to say."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watched = _Watched(send)
        try:
            await self.app(scope, receive, watched)
        except ClientDisconnect:
            return  # nobody to answer
        except Exception as exc:
            if watched.started:
                raise
            request_id = current_request_id() or new_request_id()
            _errors.error("unexpected error (request %s) at %s", request_id, scope.get("path"),
                          exc_info=exc)
            body = json.dumps({"errors": [{"message": "Unexpected error", "extensions": {
                "code": "INTERNAL", "requestId": request_id}}]}, separators=(",", ":"))
            await Response(body, status_code=500, media_type=JSON,
                           headers={"Cache-Control": "no-store"})(scope, receive, send)


_errors = logging.getLogger("promessa.errors")


def ide_csp(html: str) -> str:
    """A CSP for GraphiQL's page: its CDN scripts and its one inline script (by hash)."""
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    digests = (base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in inline)
    hashes = " ".join(f"'sha256-{digest}'" for digest in digests)
    return ("default-src 'self'; "
            f"script-src 'self' https://unpkg.com {hashes}; "
            "style-src 'self' 'unsafe-inline' https://unpkg.com; "
            "img-src 'self' data: https:; font-src 'self' data: https://unpkg.com; "
            "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'")


class SecurityHeaders:
    """Headers every HTTP answer carries; an HTML answer (GraphiQL) gets `html_csp`, unless
    the route set a policy of its own."""

    def __init__(self, app: ASGIApp, *, html_csp: str, hsts: bool) -> None:
        self.app = app
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                  (b"x-frame-options", b"DENY")]
        if hsts:
            common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        # encoded once: this runs for every answer
        self.api = [*common, (b"content-security-policy", API_CSP.encode())]
        self.html = [*common, (b"content-security-policy", html_csp.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                html = any(name == b"content-type" and value.startswith(b"text/html")
                           for name, value in headers)
                # a route that set a header itself (/track's own policy) keeps its value
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in (self.html if html else self.api)
                               if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def status_of(result: dict[str, Any]) -> int | None:
    """For application/graphql-response+json: 4xx when the request failed before execution."""
    if "data" in result:
        return None
    codes = {(e.get("extensions") or {}).get("code") for e in result.get("errors") or ()}
    return 429 if "THROTTLED" in codes else 400


__all__ = ["BodyLimit", "SecurityHeaders", "negotiate", "error_response", "media_type",
           "ide_csp", "status_of", "GRAPHQL_RESPONSE", "JSON", "SIMPLE_CONTENT_TYPES"]
