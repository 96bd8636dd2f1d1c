"""Webhook delivery: one worker's consumer against a bare httpx loop sending the same POSTs.

    python -m bench.webhooks [--orders 2000] [--rounds 2] [--rate 200] [--seconds 10]

One fresh PostgreSQL database, seeded as bench.place_order seeds it (200 SKUs at 20
locations, so stock events spread over many SKUs), and one local receiver: a bare ASGI app in
its own uvicorn process on 127.0.0.1 that answers 204 and records, per request, its arrival
time (wall clock), its webhook headers and its body. One webhook endpoint, created through
the API as admin, wants every event type.

- Throughput, in `--rounds` rounds: `--orders`/rounds orders are placed through the app
  (in-process, GraphQL, consumers off), then both sides deliver the same events, one after
  the other (the side that goes first alternates):
  app: the consumer `promessa worker` runs, built by `api.bootstrap.open_consumers` and
  started in this process: take in, claim, POST, settle, until the receiver has every event;
  baseline: the same events read from the outbox (`$all`, as the consumer reads them), the
  same bodies (`api.integration.webhooks.body`) and signature headers
  (`domain.integration.signing.headers`) POSTed by a bare `httpx.AsyncClient` loop with the
  same concurrency (`webhooks.CONCURRENCY` in flight), no jobs, no ordering, no bookkeeping.
  An order's events carry the order as an integration sees it (api/integration/views.py):
  the baseline gets those objects rendered by the consumer's own `OrderViews` before its clock
  starts, so its bodies are the app's, byte for byte, without the app's cost of making them.
  Events/s: events / (last arrival - start).
- Latency: the consumer running, a separate process places orders at `--rate` per second for
  `--seconds` with the raw asyncpg baseline of bench.place_order (`place_raw`: the app's
  statements and outbox rows, checked against the app before the run; the app's GraphQL path
  cannot place 200 orders/s on 2 cores). Commit -> receiver latency: the receiver's arrival
  time minus the event's `timestamp` in the body (its `at`, taken just before the commit).
  Commits in another process do not wake the consumer: it finds them by polling, every
  `--poll-seconds` (PROMESSA_CONSUMER_POLL_SECONDS), as a `promessa worker` does.

The consumer's own steps (take in, claim, render, send, settle) are timed by wrapping them
on its instances, to show where its time goes. `--analyze-every N` is a what-if: ANALYZE
consumer_jobs every N seconds while the consumer runs, so the claim's query is planned with
current statistics (on a fresh or quickly growing table it otherwise is not: autovacuum looks
once a minute).

Checked, and failing the run: every event reaches the receiver exactly once, with nothing
parked or pending; every signature verifies with the `standardwebhooks` reference library;
the app's and the baseline's bodies are byte for byte the same; within each partition (an
order's events, a SKU's stock events) the app's deliveries arrive in outbox order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from bench import common
from bench.common import Run, log

AIM_SHARE = 0.5
AIM_P99_S = 1.0
APP_PATH, BASE_PATH, WARM_PATH = "/hook/app", "/hook/baseline", "/hook/warm"


# --- the receiver (its own uvicorn process: `uvicorn bench.webhooks:receiver --factory`) -------
def receiver() -> Callable[..., Awaitable[None]]:
    """A bare ASGI receiver: POST /hook/<name> answers 204 and is recorded as (path, arrival,
    webhook-id, webhook-timestamp, webhook-signature, body); GET /wait?path=&n= answers once
    `n` distinct ids reached `path` (or after `timeout` seconds) with the counts; GET /dump
    returns the records; POST /reset forgets them."""
    records: list[tuple[str, float, str, str, str, str]] = []
    seen: dict[str, set[str]] = {}
    arrived_one = asyncio.Event()

    async def reply(send: Any, status: int, body: bytes = b"", kind: bytes = b"") -> None:
        headers = [(b"content-type", kind)] if kind else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        arrived = time.time()
        path, method = scope["path"], scope["method"]
        if method == "POST" and path.startswith("/hook/"):
            chunks, more = [], True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            h = dict(scope["headers"])
            webhook_id = h.get(b"webhook-id", b"").decode()
            records.append((path, arrived, webhook_id, h.get(b"webhook-timestamp", b"").decode(),
                            h.get(b"webhook-signature", b"").decode(),
                            b"".join(chunks).decode("utf-8", "replace")))
            seen.setdefault(path, set()).add(webhook_id)
            arrived_one.set()
            await reply(send, 204)
        elif path == "/healthz":
            await reply(send, 200, b"ok", b"text/plain")
        elif path == "/wait":
            query = dict(parse_qsl(scope["query_string"].decode()))
            target, n = query.get("path", APP_PATH), int(query.get("n", "0"))
            deadline = time.monotonic() + float(query.get("seconds", "1"))
            while len(seen.get(target, ())) < n and (left := deadline - time.monotonic()) > 0:
                arrived_one.clear()
                try:
                    await asyncio.wait_for(arrived_one.wait(), left)
                except TimeoutError:
                    break
            mine = [r for r in records if r[0] == target] if records else []
            await reply(send, 200, json.dumps({
                "requests": len(mine), "distinct": len(seen.get(target, ())),
                "last": mine[-1][1] if mine else None}).encode(), b"application/json")
        elif path == "/dump":
            await reply(send, 200, json.dumps(records).encode(), b"application/json")
        elif path == "/reset" and method == "POST":
            records.clear()
            seen.clear()
            await reply(send, 204)
        else:
            await reply(send, 404)

    return app


@dataclass(frozen=True, slots=True)
class Delivery:
    index: int  # arrival order at the receiver
    arrived: float
    id: str
    timestamp: str
    signature: str
    body: str

    @property
    def headers(self) -> dict[str, str]:
        return {"webhook-id": self.id, "webhook-timestamp": self.timestamp,
                "webhook-signature": self.signature}


class ReceiverClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30.0, trust_env=False)

    async def reset(self) -> None:
        (await self.http.post("/reset")).raise_for_status()

    async def wait(self, path: str, n: int, *, seconds: float = 1.0) -> dict[str, Any]:
        answer = await self.http.get("/wait", params={"path": path, "n": n, "seconds": seconds},
                                     timeout=seconds + 30)
        answer.raise_for_status()
        return answer.json()

    async def dump(self, path: str) -> list[Delivery]:
        answer = await self.http.get("/dump", timeout=120)
        answer.raise_for_status()
        return [Delivery(i, r[1], r[2], r[3], r[4], r[5])
                for i, r in enumerate(answer.json()) if r[0] == path]

    async def aclose(self) -> None:
        await self.http.aclose()


# --- the checks --------------------------------------------------------------------------------
@dataclass
class Checks:
    results: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, ok, detail))
        if not ok:
            log(f"FAIL: {name}" + (f": {detail}" if detail else ""))
        return ok

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.results)

    def report(self) -> str:
        return "\n".join(f"  {'OK  ' if ok else 'FAIL'} {name}" + (f" ({detail})" if detail else "")
                         for name, ok, detail in self.results)


def check_deliveries(checks: Checks, label: str, deliveries: list[Delivery], events: list[Any],
                     secret: str, *, ordered: bool) -> None:
    """Exactly once, signed, the body naming the event; for the app, in order per partition."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    expected = {e.event_id: e for e in events}
    ids = [d.id for d in deliveries]
    checks.add(f"{label}: every event delivered exactly once", len(ids) == len(expected)
               and set(ids) == set(expected),
               f"{len(ids)} requests, {len(set(ids))} distinct ids, {len(expected)} events"
               + (f", {len(set(expected) - set(ids))} missing" if set(expected) - set(ids)
                  else ""))
    hook, bad = Webhook(secret), []
    for d in deliveries:
        try:
            body = hook.verify(d.body.encode(), d.headers)
        except WebhookVerificationError as exc:
            bad.append(f"{d.id}: {exc}")
            continue
        if body.get("id") != d.id or (d.id in expected and body.get("type") != expected[d.id].type):
            bad.append(f"{d.id}: the body names {body.get('id')} {body.get('type')}")
    checks.add(f"{label}: signatures verify with standardwebhooks ({len(deliveries)} of "
               f"{len(deliveries)})", not bad, bad[0] if bad else "")
    if not ordered:
        return
    last: dict[str, int] = {}
    late = []
    for d in sorted(deliveries, key=lambda d: d.index):
        event = expected.get(d.id)
        if event is None:
            continue
        key = event.partition
        if last.get(key, -1) > event.position:
            late.append(f"{event.type} {d.id} of {key}")
        last[key] = max(last.get(key, -1), event.position)
    parts = len({e.partition for e in events})
    checks.add(f"{label}: in outbox order within each of {parts} partitions (orders, SKUs)",
               not late, f"{len(late)} out of order, first: {late[0]}" if late else "")


# --- the two sides -----------------------------------------------------------------------------
async def read_after(store: Any, after: int) -> list[Any]:
    """Every event of the `$all` stream after `after`, as the consumer reads them."""
    out: list[Any] = []
    while True:
        page = await store.read_new(after, limit=500)
        out += page
        if len(page) < 500:
            return out
        after = page[-1].position


def claimed(e: Any, target: str) -> Any:
    """An event as the consumer hands it to the handler (a job of its first attempt)."""
    from persistence.consumers import Claimed

    return Claimed(0, target, e.event_id, e.type, e.partition, e.position, e.stream,
                   e.sequence, e.at, e.payload, 1)


async def baseline(store: Any, after: int, orders: dict[Any, Any], *, url: str,
                   endpoint_id: str, secret: str, concurrency: int) -> tuple[int, list[str]]:
    """Read the events, then POST each with a bare httpx loop: (events, errors). `orders`:
    the order objects the bodies carry, by order number."""
    from api.integration import webhooks
    from domain.integration import signing

    events = await read_after(store, after)
    jobs = iter(events)
    errors: list[str] = []
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)  # as egress
    async with httpx.AsyncClient(limits=limits, timeout=10.0, trust_env=False) as http:
        async def worker() -> None:
            for e in jobs:
                job = claimed(e, endpoint_id)
                payload = webhooks.body(job, orders.get(webhooks.order_of(job)))
                headers = signing.headers((secret,), message_id=e.event_id,
                                          timestamp=int(time.time()), body=payload)
                headers["content-type"] = "application/json"
                try:
                    answer = await http.post(url, content=payload, headers=headers)
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                if not 200 <= answer.status_code < 300:
                    errors.append(f"HTTP {answer.status_code}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(events), errors


async def wait_delivered(recv: ReceiverClient, store: Any, path: str, n: int, *,
                         within: float) -> float | None:
    """Wait until `n` distinct events reached `path` and the consumer has settled them all;
    the last arrival, or None on timeout or a parked job."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        got = await recv.wait(path, n, seconds=1.0)
        if got["distinct"] >= n:
            last = got["last"]
            break
    if last is None:
        return None
    from api.clock import SystemClock

    while time.monotonic() < deadline:
        behind, _, parked = await store.lag("webhooks", now=SystemClock().now())
        if parked or behind == 0:
            return last if not parked else None
        await asyncio.sleep(0.05)
    return None


# --- placing orders ----------------------------------------------------------------------------
CREATE_ENDPOINT = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id } secret
    userErrors { field message code } } }"""


async def create_endpoint(url: str, hook_url: str) -> tuple[str, str]:
    async with common.in_process_app(url) as (_app, client):
        made = (await common.gql(client, CREATE_ENDPOINT, {"input": {
            "url": hook_url, "eventTypes": [], "description": "bench.webhooks receiver"}},
            token=common.admin_token()))["createWebhookEndpoint"]
    return made["endpoint"]["id"], made["secret"]


async def place_backlog(url: str, network: common.Network, n: int, *, seed: int,
                        concurrency: int) -> Run:
    """`n` orders through the app's GraphQL API (in-process, consumers off)."""
    from bench.place_order import PLACE_ORDER, check_placed, graphql_input

    specs = common.make_orders(network, n, seed=seed)
    async with common.in_process_app(url) as (_app, client):
        async def place(i: int) -> None:
            response = await client.post("/graphql", json={
                "query": PLACE_ORDER, "variables": {"input": graphql_input(specs[i])}})
            check_placed(response.json())

        return await common.drive("backlog", n, concurrency, place)


async def load(args: argparse.Namespace) -> int:
    """The latency run's load, in its own process: `place_raw` orders at `--rate` per second
    for `--seconds`, at most `--load-concurrency` in flight; a JSON summary on stdout."""
    from bench import sql
    from bench.place_order import place_raw

    network = common.build_network(locations=args.locations, skus=args.skus)
    total = max(1, round(args.rate * args.seconds))
    specs = common.make_orders(network, total, seed=args.seed)
    pool = await sql.create_pool(args.place_dsn, pool_size=args.pool_size)
    raw = sql.RawDb(pool)
    errors: list[str] = []
    slots = asyncio.Semaphore(args.load_concurrency)
    late = 0.0
    try:
        async def place(i: int) -> None:
            try:
                await place_raw(raw, specs[i])
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
            finally:
                slots.release()

        cpu0, started, wall = time.process_time(), time.monotonic(), time.time()
        tasks = []
        for i in range(total):
            due = started + i / args.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await slots.acquire()
            late = max(late, time.monotonic() - due)
            tasks.append(asyncio.create_task(place(i)))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
    finally:
        await pool.close()
    print(json.dumps({"orders": total, "errors": errors, "seconds": elapsed, "late": late,
                      "cpu": time.process_time() - cpu0, "started": wall,
                      "ended": wall + elapsed}), flush=True)
    return 0


@asynccontextmanager
async def load_process(args: argparse.Namespace, dsn: str) -> AsyncIterator[
        asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.webhooks", "--place-dsn", dsn, "--rate", str(args.rate),
        "--seconds", str(args.seconds), "--skus", str(args.skus), "--locations",
        str(args.locations), "--pool-size", str(args.pool_size), "--load-concurrency",
        str(args.load_concurrency), "--seed", "77", cwd=common.ROOT, stdin=subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=15)


# --- the benchmark -----------------------------------------------------------------------------
@dataclass
class Latency:
    rate: float = 0.0
    seconds: float = 0.0
    orders: int = 0
    events: int = 0
    load: dict[str, Any] = field(default_factory=dict)
    values: list[float] = field(default_factory=list)
    after_load: float = 0.0  # last arrival - the load's last commit
    phases: dict[str, float] = field(default_factory=dict)
    run: Run | None = None

    def p(self, q: float) -> float:
        values = sorted(self.values)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))]


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Phases:
    """Where the consumer's wall time goes: its steps wrapped on these instances only (the
    app's code is unchanged), summed per run. `send` is handle - render."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def wrap(self, obj: Any, method: str, name: str) -> None:
        inner = getattr(obj, method)

        async def timed(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return await inner(*a, **k)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                self.calls[name] = self.calls.get(name, 0) + 1

        setattr(obj, method, timed)

    @classmethod
    def on(cls, consumers: Any) -> Phases:
        phases = cls()
        runner = consumers.runners[0]
        phases.wrap(runner, "take_in", "take in")
        phases.wrap(runner.store, "claim", "claim")
        phases.wrap(runner.handler, "handle", "handle")
        if getattr(runner.handler, "views", None) is not None:
            phases.wrap(runner.handler.views, "orders", "render")
        phases.wrap(runner.store, "settle", "settle")
        return phases

    def take(self) -> dict[str, float]:
        """The sums since the last take, then zero."""
        out = dict(self.seconds)
        out["rounds"] = float(self.calls.get("claim", 0))
        out["send"] = out.get("handle", 0.0) - out.get("render", 0.0)
        self.seconds.clear()
        self.calls.clear()
        return out

    @staticmethod
    def line(sums: dict[str, float], events: int) -> str:
        parts = [f"{name} {1000 * sums.get(name, 0.0) / max(1, events):.2f}"
                 for name in ("take in", "claim", "render", "send", "settle")]
        return (f"{', '.join(parts)} ms per event (wall, summed over "
                f"{sums.get('rounds', 0):.0f} rounds)")


@asynccontextmanager
async def analyzing(dsn: str, every: float) -> AsyncIterator[None]:
    """`--analyze-every`: ANALYZE consumer_jobs every `every` seconds meanwhile (a what-if:
    the claim's plan with fresh statistics; PostgreSQL's autovacuum looks once a minute)."""
    if not every:
        yield
        return
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)

    async def loop() -> None:
        while True:
            await conn.execute("ANALYZE consumer_jobs")
            await asyncio.sleep(every)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await conn.close()


@dataclass
class Context:
    """What the rounds share: the consumer, its store, the receiver and the endpoint."""

    consumers: Any
    store: Any
    recv: ReceiverClient
    recv_url: str
    recv_pid: int
    monitor: common.Monitor
    endpoint_id: str
    secret: str
    views: Any  # the handler's OrderViews: renders an order as webhook bodies carry it
    phases: Phases
    dsn: str
    analyze_every: float
    app_phases: dict[str, float] = field(default_factory=dict)
    orders: int = 0
    render_seconds: float = 0.0
    rendered_orders: int = 0

    async def run_app(self, label: str, events: list[Any]) -> tuple[Run, list[Delivery]]:
        """Start the consumer, time until the receiver has every event, stop it."""
        await self.recv.reset()
        self.phases.take()
        async with self.monitor.measure(label, {"receiver": self.recv_pid}) as out, \
                analyzing(self.dsn, self.analyze_every):
            started = time.time()
            await self.consumers.start()
            try:
                last = await wait_delivered(self.recv, self.store, APP_PATH, len(events),
                                            within=120 + len(events) / 20)
            finally:
                await self.consumers.stop()
            if last is None:
                raise RuntimeError("the consumer did not deliver every event in time (or "
                                   "parked some)")
            out.append(Run(label, len(events), last - started))
        for name, value in self.phases.take().items():
            self.app_phases[name] = self.app_phases.get(name, 0.0) + value
        return out[0], await self.recv.dump(APP_PATH)

    async def run_base(self, label: str, after: int) -> tuple[Run, list[Delivery]]:
        """Read the events after `after` and POST them with the bare loop."""
        from api.integration import webhooks

        # bodies carry the order as an integration sees it: rendered here once per order,
        # before the clock starts (the bare loop sends the app's bodies, it does not build
        # them the app's way)
        events = await read_after(self.store, after)
        started = time.perf_counter()
        orders = await webhooks.rendered(self.views, [claimed(e, "") for e in events])
        self.render_seconds += time.perf_counter() - started
        self.rendered_orders += len(orders)
        await self.recv.reset()
        async with self.monitor.measure(label, {"receiver": self.recv_pid}) as out:
            started = time.time()
            sent, errors = await baseline(self.store, after, orders,
                                          url=self.recv_url + BASE_PATH,
                                          endpoint_id=self.endpoint_id, secret=self.secret,
                                          concurrency=webhooks.CONCURRENCY)
            got = await self.recv.wait(BASE_PATH, sent - len(errors), seconds=10)
            out.append(Run(label, sent, (got["last"] or time.time()) - started,
                           errors=errors))
        return out[0], await self.recv.dump(BASE_PATH)


async def benchmark(args: argparse.Namespace, database: common.BenchDatabase,
                    monitor: common.Monitor, recv: ReceiverClient, recv_url: str,
                    recv_pid: int, checks: Checks) -> tuple[Run, Run, Latency, Context]:
    from api import bootstrap
    from api.clock import SystemClock
    from api.integration.runner import Consumers
    from api.settings import Settings
    from persistence.consumers import SqlConsumers

    logging.basicConfig(level=logging.WARNING, format="[bench] %(name)s: %(message)s")
    clock = SystemClock()
    settings = Settings(database_url=database.url, jwt_secret=common.SECRET,
                        environment="test", db_pool_size=args.pool_size,
                        consumer_poll_seconds=args.poll_seconds)
    endpoint_id, secret = await create_endpoint(database.url, recv_url + APP_PATH)
    # the consumer as `promessa worker` builds it (api/worker.py), in this process
    db, deps = await bootstrap.open_dependencies(settings, clock=clock)
    app = Run("app: one consumer (Runner + WebhookHandler)")
    base = Run("baseline: bare httpx loop")
    latency = Latency(rate=args.rate, seconds=args.seconds)
    try:
        built = bootstrap.open_consumers(settings, db, clock=clock, deps=deps)
        # the webhook consumer alone (payments has no job for these events, but would read
        # them too): like for like with the baseline's one loop
        consumers = Consumers([r for r in built.runners if r.name == "webhooks"])
        assert consumers.names == ["webhooks"], built.names
        store = SqlConsumers(db)
        ctx = Context(consumers, store, recv, recv_url, recv_pid, monitor, endpoint_id, secret,
                      getattr(consumers.runners[0].handler, "views", None),
                      Phases.on(consumers), database.dsn, args.analyze_every)
        # the consumer's position starts here: it takes in what is committed from now on
        position = await store.register("webhooks", now=clock.now())
        # warm the receiver and this process's httpx up (not timed)
        async with httpx.AsyncClient(trust_env=False) as http:
            for _ in range(50):
                await http.post(recv_url + WARM_PATH, content=b"{}")
        sizes = [len(c) for c in _split(args.orders, args.rounds)]
        for r, n in enumerate(sizes, 1):
            placed = await place_backlog(database.url, database.network, n, seed=100 + r,
                                         concurrency=args.concurrency)
            if placed.errors:
                raise RuntimeError(f"placing the backlog failed: {placed.errors[0]}")
            events = await read_after(store, position)
            log(f"round {r}/{len(sizes)}: {n} orders placed through the app in "
                f"{placed.elapsed:.1f}s, {len(events)} events to deliver; "
                f"{'baseline' if r % 2 else 'app'} first")
            if r % 2:
                base_run, base_got = await ctx.run_base(base.label, position)
                app_run, app_got = await ctx.run_app(app.label, events)
            else:
                app_run, app_got = await ctx.run_app(app.label, events)
                base_run, base_got = await ctx.run_base(base.label, position)
            app.merge(app_run)
            base.merge(base_run)
            log(f"round {r}: app {app_run.rate:.0f} events/s, baseline "
                f"{base_run.rate:.0f} events/s")
            label = f"round {r}"
            check_deliveries(checks, f"{label}, app", app_got, events, secret, ordered=True)
            check_deliveries(checks, f"{label}, baseline", base_got, events, secret,
                             ordered=False)
            app_bodies = {d.id: d.body for d in app_got}
            differ = [d.id for d in base_got if app_bodies.get(d.id) != d.body]
            checks.add(f"{label}: the baseline's bodies are the app's, byte for byte",
                       not differ, f"{len(differ)} differ, first {differ[0]}" if differ else "")
            position = events[-1].position if events else position
        behind, _, parked = await store.lag("webhooks", now=clock.now())
        checks.add("throughput rounds: no job parked or pending", behind == 0 and parked == 0,
                   f"{behind} pending, {parked} parked")

        # latency: orders at --rate from another process, the consumer polling
        await recv.reset()
        head = await store.head()
        ctx.phases.take()
        await consumers.start()
        try:
            async with monitor.measure("latency", {"receiver": recv_pid}) as out, \
                    analyzing(database.dsn, args.analyze_every):
                started = time.time()
                log(f"latency run: {args.rate:g} orders/s for {args.seconds:g}s from a "
                    "separate process (place_raw), the consumer in this one")
                async with load_process(args, database.dsn) as process:
                    stdout, _ = await process.communicate()
                if process.returncode != 0:
                    raise RuntimeError(f"the load process exited with {process.returncode}")
                latency.load = json.loads(stdout.decode().strip().splitlines()[-1])
                events = await read_after(store, head)
                last = await wait_delivered(recv, store, APP_PATH, len(events),
                                            within=120 + len(events) / 20)
                if last is None:
                    raise RuntimeError("the consumer did not deliver the latency run's events "
                                       "in time (or parked some)")
                out.append(Run("latency", len(events), last - started))
            latency.run = out[0]
            latency.phases = ctx.phases.take()
        finally:
            await consumers.stop()
        latency.orders, latency.events = latency.load["orders"], len(events)
        latency.after_load = last - latency.load["ended"]
        checks.add("latency run: every order placed", not latency.load["errors"],
                   "; ".join(latency.load["errors"][:1]))
        delivered = await recv.dump(APP_PATH)
        check_deliveries(checks, "latency run", delivered, events, secret, ordered=True)
        latency.values = [d.arrived - stamp(json.loads(d.body)["timestamp"]) for d in delivered]
        behind, _, parked = await store.lag("webhooks", now=clock.now())
        checks.add("latency run: no job parked or pending", behind == 0 and parked == 0,
                   f"{behind} pending, {parked} parked")
    finally:
        await db.dispose()
    ctx.orders = sum(sizes)
    return app, base, latency, ctx


def _split(n: int, parts: int) -> list[range]:
    size = math.ceil(n / parts)
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


def report(args: argparse.Namespace, app: Run, base: Run, latency: Latency, ctx: Context,
           statements_ok: bool) -> str:
    from api.integration.runner import Runner
    from api.integration.webhooks import CONCURRENCY

    def row(run: Run) -> list[str]:
        return [run.label, f"{run.rate:,.0f}", f"{run.elapsed:.2f}", str(len(run.errors)),
                f"{run.cpu_ms('bench'):.2f}", f"{run.cpu_ms('receiver'):.2f}",
                f"{run.cpu_ms('postgres'):.2f}", f"{100 * run.machine_busy:.0f} %",
                str(run.sessions)]

    cores = os.cpu_count() or 1
    lines = [
        "",
        f"webhooks: {ctx.orders} orders placed through the app in {args.rounds} round(s) -> "
        f"{app.n} events per side; one endpoint wanting every event type; a local receiver "
        f"(bare ASGI on uvicorn, 204); {CONCURRENCY} POSTs in flight, batches of "
        f"{Runner.batch}; {args.skus} SKUs x {args.locations} locations"
        + (f"; ANALYZE consumer_jobs every {args.analyze_every:g}s (what-if)"
           if args.analyze_every else ""),
        common.table(["", "events/s", "seconds", "errors", "bench CPU ms/event",
                      "receiver CPU ms/event", "PG CPU ms/event", "machine busy",
                      "new PG sessions"],
                     [row(app), row(base)]),
    ]
    share = app.rate / base.rate if base.rate else 0.0
    render = (f"; rendering each order once for the baseline's bodies took "
              f"{1000 * ctx.render_seconds / max(1, ctx.rendered_orders):.1f} ms/order, "
              "untimed" if ctx.rendered_orders else "")
    lines += [
        f"ratio app / baseline: {common.percent(app.rate, base.rate)}  (aim: >= "
        f"{AIM_SHARE:.0%}: {'met' if share >= AIM_SHARE else 'NOT met'})",
        f"  the consumer's time: {Phases.line(ctx.app_phases, app.n)}{render}",
        "  (PG CPU counts backends alive at the start or the end of a run: sessions opened "
        "and closed within it are missed; machine busy counts everything)",
    ]
    p50, p99 = latency.p(50), latency.p(99)
    load, run = latency.load, latency.run
    assert run is not None
    orders_per_s = load["orders"] / load["seconds"]
    events_per_s = latency.events / load["seconds"]
    load_cpu = 1000 * load["cpu"] / max(1, load["orders"])
    worst = 1000 * max(latency.values, default=float("nan"))
    met = "met" if p99 < AIM_P99_S else "NOT met"
    lines += [
        "",
        f"latency: {latency.orders} orders placed at {latency.rate:g}/s for "
        f"{latency.seconds:g}s (achieved {orders_per_s:.0f} orders/s: {latency.events} events,"
        f" {events_per_s:.0f} events/s offered); the last event arrived "
        f"{latency.after_load:.2f}s after the last order was placed",
        f"commit -> receiver: p50 {1000 * p50:.0f} ms, p99 {1000 * p99:.0f} ms, max "
        f"{worst:.0f} ms  (aim: p99 < {AIM_P99_S:g} s at {latency.rate:g} orders/s: {met})",
        f"  the consumer polls every {args.poll_seconds:g}s (commits in another process do "
        f"not wake it) and used {run.cpu_ms('bench'):.2f} ms CPU/event, PostgreSQL "
        f"{run.cpu_ms('postgres'):.2f}; the load (place_raw, in its own process) "
        f"{load_cpu:.2f} ms CPU/order, at most {1000 * load['late']:.0f} ms behind schedule",
        f"  the consumer's time: {Phases.line(latency.phases, latency.events)}; "
        f"{run.sessions} new PG sessions",
        f"  machine {100 * run.machine_busy:.0f} % busy: the load, the consumer, the receiver "
        f"and PostgreSQL share {cores} cores",
        f"the load's statements {'match the app' if statements_ok else 'DIFFER from the app'}"
        " (bench.place_order's check)",
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> int:
    from bench import sql
    from bench.place_order import check_statements

    common.warn_if_busy(await common.background_load())
    network = common.build_network(locations=args.locations, skus=args.skus)
    checks = Checks()
    async with common.bench_database(network, keep=args.keep_db) as database:
        pool = await sql.create_pool(database.dsn, pool_size=min(args.pool_size, 5))
        try:
            _, statements_ok = await check_statements(database, pool, network, show=False)
        finally:
            await pool.close()
        checks.add("the load's statements (place_raw) are the app's", statements_ok)
        async with common.uvicorn_server("receiver", "bench.webhooks:receiver", {}) as server, \
                common.Monitor.open(database.dsn, database.name) as monitor:
            recv = ReceiverClient(server.base_url)
            try:
                app, base, latency, ctx = await benchmark(
                    args, database, monitor, recv, server.base_url, server.process.pid, checks)
            finally:
                await recv.aclose()
    print(report(args, app, base, latency, ctx, statements_ok))
    print("checks:")
    print(checks.report())
    return 0 if checks.ok and not app.errors and not base.errors else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000,
                        help="orders placed for the throughput rounds, in all (2000)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="throughput rounds; the side that goes first alternates (2)")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="orders per second in the latency run (200)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of the latency run's load (10)")
    parser.add_argument("--poll-seconds", type=float, default=0.25,
                        help="PROMESSA_CONSUMER_POLL_SECONDS for the consumer (0.25, the "
                             "default)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="clients placing the throughput rounds' orders (16)")
    parser.add_argument("--load-concurrency", type=int, default=32,
                        help="orders in flight at most in the latency run's load (32)")
    parser.add_argument("--pool-size", type=int, default=common.DEFAULT_POOL_SIZE,
                        help="PROMESSA_DB_POOL_SIZE of the consumer, and the load's pool (20)")
    parser.add_argument("--skus", type=int, default=200, help="SKUs in the catalog (200)")
    parser.add_argument("--locations", type=int, default=20, help="locations, max 20 (20)")
    parser.add_argument("--analyze-every", type=float, default=0.0, metavar="SECONDS",
                        help="what-if: ANALYZE consumer_jobs every SECONDS while the consumer "
                             "runs (0: never, PostgreSQL's autovacuum alone)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    # the latency run's load process (started by the benchmark itself)
    parser.add_argument("--place-dsn", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=77, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (1 <= args.orders <= 1_000_000 and 1 <= args.rounds <= args.orders
            and 0 < args.rate <= 10_000 and 0 < args.seconds <= 3600
            and 0.01 <= args.poll_seconds <= 60 and 0 <= args.analyze_every <= 600
            and 1 <= args.concurrency <= 512
            and 1 <= args.load_concurrency <= 512 and 1 <= args.pool_size <= 200
            and 3 <= args.skus <= 5000 and 1 <= args.locations <= 20):
        parser.error("an option is out of range")
    return args


if __name__ == "__main__":
    options = parse_args()
    if options.place_dsn:
        raise SystemExit(common.run_main(lambda: load(options)))
    raise SystemExit(common.run_main(lambda: main(options)))
