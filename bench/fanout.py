"""Fan-out: many subscribers on one server process, against a bare WebSocket loop.

    python -m bench.fanout [--subscribers 1000] [--paced 40] [--rate 4] [--burst 250]

Two servers run in the same benchmark, one after the other, each a single uvicorn process
on 127.0.0.1, with the same client: `--subscribers` WebSocket connections, each with one
graphql-transport-ws subscription, all in this process.

- promessa: the real app on a fresh PostgreSQL database (memory:// fan-out: one process).
  Events are real commits: `--paced` adjustInventory mutations at `--rate` per second (the
  latency run), then one setInventory of `--burst` levels (the throughput run). Every
  subscriber follows `inventoryEvents`, so each commit is delivered to all of them.
- bare: bench/fanout_bare.py, a Starlette WebSocket endpoint that serialises each event once
  and sends the same string to every client in a loop: what fan-out costs without GraphQL,
  authorisation, the outbox or per-subscriber state.

Latency is commit to delivery: the event's `at` (taken by the use case just before its
commit; for bare, when the loop starts) to the moment the client has the message. Deliveries
per second: subscribers × burst events / (last delivery − request sent). Memory per idle
subscription: the server's RSS growth when the subscribers connect, divided by their number.
Compression is off for both (`--compression` to offer permessage-deflate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench.common import (
    HOT_SKU,
    SECRET,
    admin_token,
    bench_database,
    build_network,
    gql,
    log,
    percent,
    run_main,
    table,
    uvicorn_server,
)

DOCUMENT = ("subscription { inventoryEvents { sequence at sku onHand available "
            "location { code } } }")
ADJUST = """mutation($sku: String!, $at: String!) { adjustInventory(input: {sku: $sku,
  location: $at, delta: 1, reason: "BENCH"}) { userErrors { code } } }"""
SET = """mutation($input: SetInventoryInput!) { setInventory(input: $input) {
  userErrors { code } } }"""
AIM_P99_MS = 200
AIM_SHARE = 0.25


class Subscriber:
    """One connection with one subscription; keeps (arrival, raw message) for later."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []
        self.target = 0
        self.done = asyncio.Event()
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task | None = None

    async def open(self, url: str, *, compression: bool) -> None:
        self.ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60,
                                ping_interval=None, max_queue=None,
                                compression="deflate" if compression else None)
        await self.ws.send(json.dumps({"type": "connection_init", "payload": {
            "Authorization": f"Bearer {admin_token()}"}}))
        assert json.loads(await self.ws.recv())["type"] == "connection_ack"
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe",
                                       "payload": {"query": DOCUMENT}}))
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            self.received.append((time.time(), raw))
            if len(self.received) >= self.target:
                self.done.set()

    def expect(self, total: int) -> None:
        self.target = total
        if len(self.received) < total:
            self.done.clear()
        else:
            self.done.set()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            await self.ws.close()


@dataclass
class Result:
    name: str
    subscribers: int
    idle_kb: float
    paced: list[float] = field(default_factory=list)  # seconds
    burst: list[float] = field(default_factory=list)
    burst_rate: float = 0.0
    burst_seconds: float = 0.0


def percentile_ms(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def latencies(crowd: list[Subscriber], start: int, end: int) -> list[float]:
    out = []
    for sub in crowd:
        for arrived, raw in sub.received[start:end]:
            message = json.loads(raw)
            at = message["payload"]["data"]["inventoryEvents"]["at"]
            out.append(arrived - datetime.fromisoformat(at).timestamp())
    return out


async def wait_all(crowd: list[Subscriber], total: int, *, within: float) -> None:
    for sub in crowd:
        sub.expect(total)
    async with asyncio.timeout(within):
        await asyncio.gather(*(sub.done.wait() for sub in crowd))


async def measure(name: str, url: str, pid: int, args: argparse.Namespace,
                  fire: Callable[[int], Awaitable[None]],
                  burst: Callable[[int], Awaitable[None]]) -> Result:
    ws_url = "ws" + url.removeprefix("http") + "/graphql"
    crowd = [Subscriber() for _ in range(args.subscribers)]
    before = rss_bytes(pid)
    for i in range(0, len(crowd), 100):
        await asyncio.gather(*(s.open(ws_url, compression=args.compression)
                               for s in crowd[i:i + 100]))
    await asyncio.sleep(2)  # let every subscription settle
    result = Result(name, len(crowd), (rss_bytes(pid) - before) / len(crowd) / 1024)
    log(f"{name}: {len(crowd)} subscribers, {result.idle_kb:.1f} kB each while idle")
    try:
        await fire(1)  # warm-up, not measured
        await wait_all(crowd, 1, within=60)
        started = time.monotonic()
        for i in range(args.paced):
            await asyncio.sleep(max(0.0, started + i / args.rate - time.monotonic()))
            await fire(1)
        await wait_all(crowd, 1 + args.paced, within=120)
        result.paced = latencies(crowd, 1, 1 + args.paced)
        sent = time.time()
        await burst(args.burst)
        await wait_all(crowd, 1 + args.paced + args.burst, within=300)
        last = max(sub.received[-1][0] for sub in crowd)
        result.burst_seconds = last - sent
        result.burst_rate = len(crowd) * args.burst / result.burst_seconds
        result.burst = latencies(crowd, 1 + args.paced, 1 + args.paced + args.burst)
    finally:
        await asyncio.gather(*(s.close() for s in crowd), return_exceptions=True)
    return result


async def run_promessa(args: argparse.Namespace) -> Result:
    network = build_network(locations=2, skus=max(args.burst, 10), on_hand=1000)
    async with bench_database(network, keep=args.keep_db) as db:
        env = {"PROMESSA_DATABASE_URL": db.url, "PROMESSA_JWT_SECRET": SECRET,
               "PROMESSA_ENV": "test", "PROMESSA_BROADCAST_URL": "memory://"}
        async with uvicorn_server("promessa", "api.cli:app_factory", env) as server:
            import httpx

            token = admin_token()
            sites = [s.code for s in network.sites]
            keys = [(sku, site) for sku in network.skus for site in sites][:args.burst]
            counter = iter(range(10**9))
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
                async def fire(_: int) -> None:
                    await gql(http, ADJUST, {"sku": HOT_SKU, "at": sites[0]}, token=token)

                async def burst(n: int) -> None:
                    on_hand = 2000 + next(counter)
                    await gql(http, SET, {"input": {"reason": "BENCH", "levels": [
                        {"sku": sku, "location": site, "onHand": on_hand}
                        for sku, site in keys[:n]]}}, token=token)

                return await measure("promessa", server.base_url, server.process.pid, args,
                                     fire, burst)


async def run_bare(args: argparse.Namespace) -> Result:
    async with uvicorn_server("bare", "bench.fanout_bare:create", {}) as server:
        import httpx

        async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as http:
            async def fire(n: int) -> None:
                (await http.post("/fire", params={"n": n})).raise_for_status()

            return await measure("bare", server.base_url, server.process.pid, args, fire, fire)


def report(results: list[Result]) -> str:
    rows = [[r.name, str(r.subscribers), f"{r.idle_kb:.1f}",
             f"{percentile_ms(r.paced, 50):.1f}", f"{percentile_ms(r.paced, 99):.1f}",
             f"{r.burst_rate:,.0f}", f"{r.burst_seconds:.2f}",
             f"{percentile_ms(r.burst, 50):.0f}", f"{percentile_ms(r.burst, 99):.0f}"]
            for r in results]
    text = table(["server", "subscribers", "idle kB/sub", "paced p50 ms", "paced p99 ms",
                  "burst deliveries/s", "burst s", "burst p50 ms", "burst p99 ms"], rows)
    promessa, bare = results
    share = promessa.burst_rate / bare.burst_rate if bare.burst_rate else 0.0
    p99 = percentile_ms(promessa.paced, 99)
    text += (f"\n\npromessa delivers {percent(promessa.burst_rate, bare.burst_rate)} of the bare"
             f" loop's rate (aim: at least {AIM_SHARE:.0%}: "
             f"{'met' if share >= AIM_SHARE else 'NOT met'}); paced p99 {p99:.0f} ms (aim: "
             f"under {AIM_P99_MS} ms: {'met' if p99 < AIM_P99_MS else 'NOT met'})")
    return text


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--paced", type=int, default=40, help="events in the latency run")
    parser.add_argument("--rate", type=float, default=4.0, help="paced events per second")
    parser.add_argument("--burst", type=int, default=250, help="events in one commit (≤ 250)")
    parser.add_argument("--compression", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.burst <= 250 or args.subscribers < 1 or args.paced < 1:
        parser.error("--burst must be 1-250; --subscribers and --paced at least 1")
    results = [await run_promessa(args), await run_bare(args)]
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
