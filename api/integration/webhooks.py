"""Webhook delivery: one signed POST per event per endpoint (Standard Webhooks).

The body is `{"id", "type", "timestamp", "data"}`; `data` has the event's stream and
sequence (as subscriptions number it), the order number, SKU and location where they apply,
and `object`, the event's facts. `webhook-id` is the event id: the same on every retry of the
event, distinct between events, so a receiver drops a repeat by it.

2xx: delivered. 410 Gone: the receiver wants nothing more — the endpoint is disabled and its
pending deliveries parked. Anything else (another status, a timeout, a refused connection):
retried on the webhook schedule; an endpoint that keeps failing for longer than
`disable_after` is disabled, with the reason shown on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

import httpx

from api.integration import egress
from api.integration.runner import Result
from api.integration.views import OrderViews
from domain.integration import Backoff, WebhookEndpoint, signing
from domain.kernel.ports import Clock
from persistence.consumers import Claimed, NewEvent
from persistence.webhooks import SqlEndpoints

log = logging.getLogger("promessa.webhooks")
CONCURRENCY = 64


def body(job: Claimed, obj: dict[str, Any] | None = None) -> bytes:
    """The message: `facts` are the event's own (as written when it happened), `object` the
    order as an integration sees it now (api/integration/views.py), or the facts again for
    an event that is not about an order."""
    p = job.payload
    data: dict[str, Any] = {"stream": job.stream, "sequence": str(job.sequence)}
    for key, name in (("order", "orderNumber"), ("sku", "sku"), ("location", "location")):
        if isinstance(p.get(key), str):
            data[name] = p[key]
    data["facts"] = p
    data["object"] = obj if obj is not None else p
    return json.dumps({"id": job.event_id, "type": job.type,
                       "timestamp": job.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                       "data": data}, separators=(",", ":")).encode()


def order_of(job: Claimed) -> str | None:
    number = job.payload.get("order")
    return number if isinstance(number, str) else None


async def rendered(views: OrderViews | None, jobs: list[Claimed]
                   ) -> dict[str | None, dict[str, Any] | None]:
    """The orders these jobs are about, each rendered once."""
    if views is None:
        return {}
    numbers = {n for job in jobs if (n := order_of(job)) is not None}
    found: dict[str | None, dict[str, Any] | None] = {}
    if numbers:
        found.update(await views.orders(numbers))
    return found


class WebhookHandler:
    name = "webhooks"

    def __init__(self, endpoints: SqlEndpoints, *, clock: Clock, backoff: Backoff,
                 allow_private: bool, timeout: float = 10.0,
                 disable_after_seconds: float = 3 * 86_400,
                 http: Callable[[], httpx.AsyncClient] | None = None,
                 views: OrderViews | None = None) -> None:
        self.views = views
        self.endpoints, self.clock, self.backoff = endpoints, clock, backoff
        self.disable_after, self.timeout = disable_after_seconds, timeout
        self._make_http = http or (lambda: egress.client(allow_private=allow_private,
                                                         timeout=timeout))
        self._http: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def start(self) -> None:
        self._http = self._make_http()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def targets(self, events: list[NewEvent]) -> list[tuple[str, ...]]:
        active = [e for e in await self.endpoints.all() if e.active]
        return [tuple(e.id for e in active
                      if e.wants(event.type) and e.created_at <= event.created_at)
                for event in events]

    async def handle(self, jobs: list[Claimed]) -> list[Result]:
        endpoints = {e.id: e for e in await self.endpoints.all()}
        orders = await rendered(self.views, jobs)
        results = list(await asyncio.gather(*(
            self._send(job, endpoints.get(job.target), orders.get(order_of(job)))
            for job in jobs)))
        await self._note(jobs, results)
        return results

    async def _send(self, job: Claimed, endpoint: WebhookEndpoint | None,
                    order: dict[str, Any] | None) -> Result:
        if endpoint is None:
            return Result(False, error="endpoint deleted", park=True)
        if not endpoint.active:
            return Result(False, error=f"endpoint disabled: {endpoint.disabled_reason}",
                          park=True)
        payload = body(job, order)
        assert self._http is not None
        async with self._slots:
            # signed when sent, by the wall clock: receivers refuse a timestamp minutes away
            # from theirs (replay protection), so not before waiting for a slot
            headers = signing.headers(endpoint.secrets(self.clock.now()),
                                      message_id=job.event_id, timestamp=int(time.time()),
                                      body=payload)
            try:
                async with asyncio.timeout(self.timeout):  # the whole exchange, not per read
                    status, answer = await egress.post(self._http, endpoint.url, body=payload,
                                                       headers=headers)
            except egress.Refused as exc:
                return Result(False, error=str(exc))
            except (httpx.TimeoutException, TimeoutError):
                return Result(False, error="timed out")
            except httpx.HTTPError as exc:
                return Result(False, error=f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= status < 300:
            return Result(True, status)
        return Result(False, status, f"HTTP {status}: {answer[:200]}")

    async def _note(self, jobs: list[Claimed], results: list[Result]) -> None:
        """Endpoint health: 410 disables at once; failing too long disables; a success
        clears the failing clock."""
        now = self.clock.now()
        by_endpoint: dict[str, list[Result]] = {}
        for job, r in zip(jobs, results, strict=True):
            if not r.park:
                by_endpoint.setdefault(job.target, []).append(r)
        for endpoint_id, rs in by_endpoint.items():
            if any(r.status == 410 for r in rs):
                reason = await self.endpoints.disable(
                    endpoint_id, "the receiver answered 410 Gone", now=now)
            elif any(r.ok for r in rs):
                await self.endpoints.succeeded(endpoint_id)
                continue
            else:
                reason = await self.endpoints.failed(
                    endpoint_id, now=now, disable_after_seconds=self.disable_after)
            if reason:
                log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
