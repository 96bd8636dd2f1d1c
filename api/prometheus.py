"""`/metrics` in the Prometheus text format, with the official client.

Each app has its own `CollectorRegistry`: several apps in one process (tests) never mix, and
with `promessa serve --workers N` each worker process counts its own requests. A scrape
through a load balancer therefore sees one worker; scrape every process (one port each, or
one pod per process) and let Prometheus sum. Gauges that describe shared state (outbox lag)
are the same in every process; those that describe the process (subscriptions, pool) are not.
"""

from __future__ import annotations

import hmac
import re
from typing import Any, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from domain.kernel.streams import MAX_STREAMS_PER_READ

OUTCOMES = ("ok", "user_error", "error")
# operation names come from clients: past this many distinct ones, the rest count as "other"
MAX_OPERATION_NAMES = 200
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
LATENCY_BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)

_Uow = TypeVar("_Uow")


class Metrics:
    """The counters of one app; `refresh` sets the gauges read from live state at scrape."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "promessa_graphql_requests", "GraphQL operations by operation name and outcome "
            "(ok, user_error: userErrors or a refused request, error: unexpected).",
            ["operation", "outcome"], registry=registry)
        self.latency = Histogram(
            "promessa_graphql_request_duration_seconds", "GraphQL operation latency.",
            ["operation", "outcome"], buckets=LATENCY_BUCKETS, registry=registry)
        self.orders_placed = Counter(
            "promessa_orders_placed", "placeOrder calls answered with an order (idempotent "
            "replays included).", registry=registry)
        self.orders_refused = Counter(
            "promessa_orders_refused", "placeOrder calls refused, by userError code.",
            ["code"], registry=registry)
        self.reservation_conflicts = Counter(
            "promessa_reservation_conflicts", "Conditional reservations that found the stock "
            "taken since the sourcing snapshot (the order is re-planned).", registry=registry)
        self.db_retries = Counter(
            "promessa_db_retries", "Transactions run again after a serialization failure, "
            "deadlock or busy SQLite database.", registry=registry)
        self.subscriptions = Gauge(
            "promessa_active_subscriptions", "Subscriptions open in this process.",
            registry=registry)
        self.outbox_lag = Gauge(
            "promessa_outbox_lag_seconds", "Age of the oldest outbox event not yet handed to "
            "this process's subscribers of its stream (0 when they are level).",
            registry=registry)
        self.pool_size = Gauge(
            "promessa_db_pool_size", "Connections the pool keeps (writer engine).",
            registry=registry)
        self.pool_checked_out = Gauge(
            "promessa_db_pool_checked_out", "Connections in use now (writer engine).",
            registry=registry)
        self.pool_overflow = Gauge(
            "promessa_db_pool_overflow", "Connections opened beyond the pool size now.",
            registry=registry)
        self.consumer_attempts = Counter(
            "promessa_consumer_attempts", "Jobs handed to an outbox consumer's handler "
            "(webhooks, broker) by this process, by outcome (ok, failed, parked).",
            ["consumer", "outcome"], registry=registry)
        self.consumer_lag_events = Gauge(
            "promessa_consumer_lag_events", "Events a consumer has not yet handled (not taken "
            "in, or pending).", ["consumer"], registry=registry)
        self.consumer_lag_seconds = Gauge(
            "promessa_consumer_lag_seconds", "Age of the oldest event a consumer has not yet "
            "handled (0 when it is level).", ["consumer"], registry=registry)
        self.consumer_parked = Gauge(
            "promessa_consumer_parked", "Events parked for an operator, by consumer.",
            ["consumer"], registry=registry)
        self._names: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not NAME.fullmatch(name):
            return "invalid"
        if name not in self._names:
            if len(self._names) >= MAX_OPERATION_NAMES:
                return "other"
            self._names.add(name)
        return name

    def observe(self, operation: str | None, outcome: str, seconds: float) -> None:
        label = self.operation_label(operation)
        self.requests.labels(label, outcome).inc()
        self.latency.labels(label, outcome).observe(seconds)

    def order_result(self, codes: list[str]) -> None:
        if codes:
            for code in codes:
                self.orders_refused.labels(code).inc()
        else:
            self.orders_placed.inc()

    def attempted(self, consumer: str, *, ok: int, failed: int, parked: int) -> None:
        for outcome, n in (("ok", ok), ("failed", failed - parked), ("parked", parked)):
            if n:
                self.consumer_attempts.labels(consumer, outcome).inc(n)

    async def refresh_consumers(self, store: Any, names: list[str], now: Any) -> None:
        """Lag and parked count of each consumer, read from the database (shared state: the
        same from every process)."""
        for name in names:
            events, seconds, parked = await store.lag(name, now=now)
            self.consumer_lag_events.labels(name).set(events)
            self.consumer_lag_seconds.labels(name).set(seconds)
            self.consumer_parked.labels(name).set(parked)

    async def refresh(self, state: Any) -> None:
        """Read the gauges from the live app: subscriptions, pool, outbox lag."""
        realtime, db = getattr(state, "realtime", None), getattr(state, "db", None)
        hub = getattr(realtime, "hub", None)
        self.subscriptions.set(hub.subscribers if hub is not None else 0)
        pool = getattr(getattr(db, "writer", None), "pool", None)
        for gauge, method in ((self.pool_size, "size"), (self.pool_checked_out, "checkedout"),
                              (self.pool_overflow, "overflow")):
            value = getattr(pool, method, None)
            gauge.set(max(0, value()) if callable(value) else 0)
        self.outbox_lag.set(await _outbox_lag(realtime, state))
        consumers = getattr(state, "consumer_store", None)
        if consumers is not None:
            await self.refresh_consumers(consumers, state.consumer_names,
                                         state.deps.clock.now())


async def _outbox_lag(realtime: Any, state: Any) -> float:
    hub, outbox = getattr(realtime, "hub", None), getattr(realtime, "outbox", None)
    if hub is None or outbox is None:
        return 0.0
    positions = sorted(hub.positions().items())
    oldest = None
    for i in range(0, len(positions), MAX_STREAMS_PER_READ):
        found = await outbox.oldest_after(dict(positions[i:i + MAX_STREAMS_PER_READ]))
        if found is not None and (oldest is None or found < oldest):
            oldest = found
    if oldest is None:
        return 0.0
    return max(0.0, (state.deps.clock.now() - oldest).total_seconds())


def metrics_of(request: Any) -> Metrics | None:
    """The app's metrics from a request or websocket (None outside a Promessa app)."""
    app = getattr(request, "app", None) if request is not None else None
    return getattr(getattr(app, "state", None), "metrics", None)


def count_order(context: Any, codes: list[str]) -> None:
    """placeOrder's outcome: placed, or refused with these userError codes."""
    metrics = metrics_of(getattr(context, "request", None))
    if metrics is not None:
        metrics.order_result(codes)


def may_see_internals(request: Request) -> bool:
    """Whether the caller may read operation names, pool figures and the migration revision:
    with PROMESSA_METRICS_TOKEN set, only with it; without, unless in production (where
    PROMESSA_METRICS_PUBLIC=true opens them explicitly)."""
    settings = request.app.state.settings
    expected = settings.metrics_token
    if expected:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())
    return bool(settings.metrics_open)


async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus exposition; behind a bearer token when PROMESSA_METRICS_TOKEN is set,
    closed in production without one (unless PROMESSA_METRICS_PUBLIC)."""
    state = request.app.state
    if not may_see_internals(request):
        if state.settings.metrics_token:
            return Response("metrics need the bearer token\n", status_code=401,
                            headers={"WWW-Authenticate": "Bearer"}, media_type="text/plain")
        return Response("metrics are closed in production: set PROMESSA_METRICS_TOKEN (or "
                        "PROMESSA_METRICS_PUBLIC=true)\n", status_code=403,
                        media_type="text/plain")
    metrics: Metrics = state.metrics
    await metrics.refresh(state)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def counting_reservations(uow_class: type[_Uow], counter: Counter) -> type[_Uow]:
    """A unit of work whose conditional reservations count the conflicts they meet."""
    base: type = uow_class  # mypy accepts a base held in a variable only when typed plain `type`

    class CountingUnitOfWork(base):
        async def __aenter__(self):
            tx = await super().__aenter__()
            reserve = tx.inventory.reserve

            async def counted(wants):
                levels = await reserve(wants)
                if levels is None:
                    counter.inc()
                return levels

            tx.inventory.reserve = counted
            return tx

    # a subclass of uow_class, built at run time: mypy cannot follow the dynamic base
    return cast(type[_Uow], CountingUnitOfWork)
