"""Every outbox event to RabbitMQ, confirmed before the consumer moves on.

A durable topic exchange `promessa.events`; routing key = the event type; persistent
messages whose `message_id` is the event id, with the stream and sequence in headers and the
same JSON body as webhooks. The channel runs in publisher-confirm mode: a job counts as done
only when the broker has confirmed it, so a broker restart or a lost connection loses
nothing — the job is retried (aio-pika's robust connection reconnects meanwhile). A message
may be published twice (a confirm lost with the connection); consumers drop repeats by
`message_id`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustConnection

from api.integration.runner import Result
from api.integration.views import OrderViews
from api.integration.webhooks import body, order_of, rendered
from domain.integration import INTERNAL_EVENT_TYPES, Backoff
from persistence.consumers import Claimed, NewEvent

log = logging.getLogger("promessa.broker")
EXCHANGE = "promessa.events"


class BrokerHandler:
    name = "broker"

    def __init__(self, url: str, *, backoff: Backoff, timeout: float = 10.0,
                 views: OrderViews | None = None) -> None:
        self.url, self.backoff, self.timeout, self.views = url, backoff, timeout, views
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        pass  # connect on first use: a broker that is down must not stop the process

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._exchange = None

    async def _ready(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None:
                connection = await aio_pika.connect_robust(self.url, timeout=self.timeout)
                channel = await connection.channel(publisher_confirms=True)
                self._exchange = await channel.declare_exchange(
                    EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
                self._connection = connection
            return self._exchange

    async def targets(self, events: list[NewEvent]) -> list[tuple[str, ...]]:
        return [() if e.type in INTERNAL_EVENT_TYPES else ("",) for e in events]

    async def handle(self, jobs: list[Claimed]) -> list[Result]:
        try:
            exchange = await self._ready()
        except Exception as exc:  # noqa: BLE001 - any failure to connect is a failed attempt
            return [Result(False, error=f"broker unavailable: {type(exc).__name__}: {exc}"
                           [:300])] * len(jobs)
        orders = await rendered(self.views, jobs)
        results = await asyncio.gather(*(self._publish(exchange, job, orders.get(order_of(job)))
                                         for job in jobs), return_exceptions=True)
        return [r if isinstance(r, Result) else
                Result(False, error=f"{type(r).__name__}: {r}"[:300]) for r in results]

    async def _publish(self, exchange: AbstractExchange, job: Claimed,
                       order: dict[str, Any] | None) -> Result:
        message = aio_pika.Message(
            body(job, order), message_id=job.event_id, content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=job.type,
            timestamp=job.at, headers={"stream": job.stream, "sequence": job.sequence})
        await asyncio.wait_for(exchange.publish(message, routing_key=job.type,
                                                mandatory=False), self.timeout)
        return Result(True)
