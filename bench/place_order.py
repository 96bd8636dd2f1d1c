"""placeOrder over HTTP (uvicorn + the GraphQL API) against raw asyncpg sending the same SQL.

    python -m bench.place_order [--orders 2000] [--concurrency 16] [--hot] [--show-sql]

Both sides place the same kind of fresh orders (1-3 lines, shipped to Italian addresses, unique
idempotency keys) into one freshly seeded database, with the same concurrency and the same pool
size; the baseline runs the statements the app runs, in the same transactions and order, with
just enough Python in between (a nearest-location pick, totals, outbox rows) to fill them in.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench import common, sql
from bench.common import Network, OrderSpec, Run, Statement, log
from domain.checkout.ordering import ALLOCATED_WORDS, PLACED_WORDS

PLACE_ORDER = """
mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order {
      id
      number
      status
      total { amount currency }
      lines { sku quantity status }
      fulfillments { id status location { code } lines { sku quantity } }
      promisedDelivery { earliest latest }
    }
    userErrors { field message code }
  }
}"""
TYPE_RANK = {"WAREHOUSE": 0, "THIRD_PARTY": 1, "STORE": 2, "SUPPLIER": 3}
ACTOR = "guest"  # orders are placed as guest checkouts (no Authorization header)


def graphql_input(spec: OrderSpec) -> dict[str, Any]:
    return {"idempotencyKey": spec.key, "channel": common.CHANNEL,
            "customer": {"email": spec.email, "name": spec.name},
            "lines": [{"sku": sku, "quantity": q} for sku, q in spec.lines],
            "delivery": {"method": "SHIP", "serviceLevel": "STANDARD", "address": {
                "line1": spec.line1, "city": spec.city, "postalCode": spec.postal_code,
                "country": "IT", "latitude": spec.latitude, "longitude": spec.longitude}}}


def check_placed(body: dict[str, Any]) -> str:
    if body.get("errors"):
        raise RuntimeError(f"errors: {body['errors']}")
    payload = body["data"]["placeOrder"]
    if payload["userErrors"] or not payload["order"]:
        raise RuntimeError(f"userErrors: {payload['userErrors']}")
    return payload["order"]["number"]


# --- the raw asyncpg baseline ------------------------------------------------------------------
def money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


async def place_raw(db: sql.RawDb, spec: OrderSpec) -> dict[str, Any]:
    """One placeOrder: the app's two transactions and statements, through asyncpg directly."""
    channel = common.CHANNEL
    lines = list(spec.lines)
    codes = [sku for sku, _ in lines]
    fingerprint = hashlib.sha256(json.dumps(
        {"key": spec.key, "lines": lines, "email": spec.email, "by": ACTOR},
        sort_keys=True).encode()).hexdigest()

    # 1. has this idempotency key placed an order already? If not, the sourcing snapshot
    async with db.transaction() as conn:
        if await conn.fetchrow(sql.IDEMPOTENCY_READ, spec.key) is not None:
            raise RuntimeError(f"idempotency key {spec.key} already used")
        channel_row = await conn.fetchrow(sql.CHANNEL_READ, channel)
        parts = [r[0] for r in await conn.fetch(sql.kit_parts(len(codes)), *codes)]
        catalog = sorted({*codes, *parts})
        sku_rows = await conn.fetch(sql.skus_with_prices(len(catalog)), *catalog)
        await conn.fetch(sql.kit_components(len(catalog)), *catalog)  # no kits are ordered here
        location_rows = await conn.fetch(sql.LOCATIONS_IN_CHANNEL, channel)
        stocked = sorted({r["sku"] for r in sku_rows if not r["is_kit"]})
        level_rows = await conn.fetch(sql.levels_in_channel(len(stocked), ordered=False),
                                      channel, *stocked)
        await conn.fetch(sql.open_incoming(len(stocked), only_unallocated=True), *stocked)
        await conn.fetch(sql.CURRENT_POLICY, channel, "*")
        site_codes = sorted({r["code"] for r in location_rows})
        await conn.fetch(sql.downtime_not_over(len(site_codes)), datetime.now(UTC), *site_codes)

    # plan: the nearest eligible location that can ship every line
    currency = channel_row["currencies"].split(",")[0]
    price = {r["sku"]: r["amount_minor"] for r in sku_rows if r["currency"] == currency}
    available = {(r["sku"], r["location"]): r["on_hand"] - r["reserved"] - r["safety_stock"]
                 for r in level_rows}
    sites: dict[str, tuple[asyncpg.Record, set[str]]] = {}
    for r in location_rows:
        sites.setdefault(r["code"], (r, set()))[1].add(r["channel"])
    ranked = sorted((common.km(spec.latitude, spec.longitude, r["latitude"], r["longitude"]),
                     TYPE_RANK[r["type"]], code) for code, (r, channels) in sites.items()
                    if r["active"] and channel in channels
                    and {"SHIP", "SHIP_FROM_STORE"} & set(r["capabilities"].split(",")))
    location = next((code for _, _, code in ranked
                     if all(available.get((sku, code), 0) >= q for sku, q in lines)), None)
    if location is None:
        raise RuntimeError(f"not enough stock for {codes}")
    subtotal = sum(price[sku] * q for sku, q in lines)
    shipping = 0 if subtotal >= 4900 else 490
    total = subtotal + shipping
    tax = (total * 22 * 2 + 122) // 244  # 22 % VAT included, rounded half up
    wants = sorted((sku, location, q) for sku, q in lines)

    # 2. reserve and write the order, its ledger entries and outbox events
    now = datetime.now(UTC)
    order_id, fulfillment_id = str(uuid.uuid4()), str(uuid.uuid4())
    line_ids = [str(uuid.uuid4()) for _ in lines]
    async with db.transaction() as conn:
        if await conn.fetchrow(sql.CLAIM, spec.key, fingerprint, order_id, now) is None:
            raise RuntimeError(f"idempotency key {spec.key} claimed concurrently")
        levels = []
        for sku, loc, q in wants:
            level = await conn.fetchrow(sql.RESERVE, q, now, sku, loc)
            if level is None:
                raise RuntimeError(f"{sku} at {loc} ran out")  # the app would re-plan
            levels.append(level)
        number = f"PR-{await conn.fetchval(sql.NEXT_NUMBER):06d}"
        await conn.fetch(sql.INSERT_ORDER, order_id, number, channel, spec.email, spec.name,
                         None, None, currency, "SHIP", "STANDARD", spec.line1, None, spec.city,
                         spec.postal_code, "IT", None, spec.latitude, spec.longitude, None,
                         None, "ALLOCATED", subtotal, shipping, tax, total, now, ACTOR, now,
                         None, "", None, None)
        await sql.insert_rows(conn, sql.INSERT_ORDER_LINE, [
            (line_id, order_id, i, sku, q, price[sku], "ALLOCATED", 0, None, 0, 0, 2200)
            for i, (line_id, (sku, q)) in enumerate(zip(line_ids, lines, strict=True))])
        await sql.insert_rows(conn, sql.INSERT_FULFILLMENT, [
            (fulfillment_id, order_id, location, "ASSIGNED", "STANDARD", None, None, now, now,
             None, None, None, None)])
        await sql.insert_rows(conn, sql.INSERT_FULFILLMENT_LINE, [
            (fulfillment_id, line_id, sku, q, q)
            for line_id, (sku, q) in zip(line_ids, lines, strict=True)])
        units = sum(q for _, q in lines)
        await sql.insert_rows(conn, sql.INSERT_TIMELINE, [
            (order_id, now, "ORDER_PLACED",
             f"Order {number} placed on {channel}: {units} items, total {money(total)} "
             f"{currency}", ACTOR, None, None, PLACED_WORDS),
            (order_id, now, "ALLOCATED", f"{units} units allocated to {location}", "system",
             None, None, ALLOCATED_WORDS)])
        await sql.insert_rows(conn, sql.INSERT_LEDGER, [
            (sku, loc, 0, q, "ORDER_RESERVED", number, ACTOR, now) for sku, loc, q in wants])
        decision = json.dumps({"plan": [[sku, loc, q] for sku, loc, q in wants],
                               "strategy": "BALANCED", "candidates": [r[2] for r in ranked]})
        await conn.fetch(sql.SAVE_DECISION, str(uuid.uuid4()), order_id, 0, 1, "PLACEMENT",
                         "*", 0, "BALANCED", decision, now, order_id)
        events = [
            ("ORDER_PLACED", (f"order:{number}", "orders"),
             {"order": number, "status": "ALLOCATED"}),
            ("FULFILLMENT_CREATED", (f"location:{location}",),
             {"order": number, "fulfillment": fulfillment_id, "location": location}),
            *(("INVENTORY_CHANGED", ("inventory",), {
                "sku": lv["sku"], "location": lv["location"], "onHand": lv["on_hand"],
                "reserved": lv["reserved"], "safetyStock": lv["safety_stock"],
                "available": max(0, lv["on_hand"] - lv["reserved"] - lv["safety_stock"]),
                "reason": "ORDER_RESERVED"}) for lv in levels)]
        # every event also goes on "$all", the log durable consumers read (as the app does)
        events = [(kind, (*streams, "$all"), payload) for kind, streams, payload in events]
        counts = Counter(stream for _, streams, _ in events for stream in streams)
        streams = sorted(counts)
        bumped = await conn.fetch(sql.bump_streams(len(streams)),
                                  *[x for s in streams for x in (s, counts[s])])
        following = {r["stream"]: r["last_sequence"] - counts[r["stream"]] + 1 for r in bumped}
        outbox = []
        for kind, event_streams, payload in events:
            event_id, body = str(uuid.uuid4()), json.dumps(payload, separators=(",", ":"))
            for stream in event_streams:
                outbox.append((event_id, stream, following[stream], kind, now, body, now))
                following[stream] += 1
        await sql.insert_rows(conn, sql.INSERT_OUTBOX, outbox)

    # the response's fulfillments { location { code } }: the app's location DataLoader is
    # primed with the snapshot's locations, so no read here either
    found = sites[location]
    return {"placeOrder": {"order": {
        "id": order_id, "number": number, "status": "ALLOCATED",
        "total": {"amount": money(total), "currency": currency},
        "lines": [{"sku": sku, "quantity": q, "status": "ALLOCATED"} for sku, q in lines],
        "fulfillments": [{"id": fulfillment_id, "status": "ASSIGNED",
                          "location": {"code": found[0]["code"]},
                          "lines": [{"sku": sku, "quantity": q} for sku, q in lines]}],
        "promisedDelivery": None}, "userErrors": []}}


# --- the check that both sides send the same statements -----------------------------------------
async def check_statements(database: common.BenchDatabase, pool: asyncpg.Pool,
                           network: Network, *, show: bool
                           ) -> tuple[dict[int, tuple[int, int]], bool]:
    """Place one order of 1, 2 and 3 lines each way, recording statements; print any difference.

    Returns {lines: (statements, transactions)} as the app sent them, and whether the baseline
    sent the very same statements (if not, the ratio is not like for like: the run fails).
    """
    per_size: dict[int, tuple[int, int]] = {}
    matched = True
    specs = common.make_orders(network, 30, seed=99)
    by_size = {len(s.lines): s for s in specs}
    async with common.in_process_app(database.url) as (app, client):
        for size in sorted(by_size):
            spec = by_size[size]
            async with common.capture_statements(app) as app_seen:
                response = await client.post("/graphql", json={
                    "query": PLACE_ORDER, "variables": {"input": graphql_input(spec)}})
                check_placed(response.json())
            raw_seen: list[Statement] = []
            twin = dataclasses.replace(spec, key=spec.key + "-raw")
            await place_raw(sql.RawDb(pool, raw_seen), twin)
            per_size[size] = sql.count(app_seen)
            diff = sql.compare(f"({size} lines)", app_seen, raw_seen)
            if show:
                print(f"-- placeOrder with {size} line(s): {per_size[size][0]} statements in "
                      f"{per_size[size][1]} transactions")
                print("\n".join(sql.normalise(app_seen)))
                print()
            if diff:
                matched = False
                log("FAIL: the baseline no longer sends the app's statements:")
                print("\n".join(diff))
            else:
                log(f"statements match for a {size}-line order: {per_size[size][0]} statements,"
                    f" {per_size[size][1]} transactions")
    return per_size, matched


# --- invariants --------------------------------------------------------------------------------
INVARIANTS = {
    "no level reserves more than on hand - safety stock": """
        SELECT count(*) FROM inventory_levels
        WHERE reserved < 0 OR reserved > on_hand - safety_stock""",
    "ledger sums equal every level (on hand and reserved)": """
        SELECT count(*) FROM inventory_levels l FULL JOIN (
            SELECT sku, location, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
            FROM inventory_ledger GROUP BY sku, location) g USING (sku, location)
        WHERE coalesce(l.on_hand, 0) <> coalesce(g.on_hand, 0)
           OR coalesce(l.reserved, 0) <> coalesce(g.reserved, 0)""",
    "units reserved equal units ordered": """
        SELECT abs((SELECT coalesce(sum(reserved), 0) FROM inventory_levels)
                 - (SELECT coalesce(sum(quantity), 0) FROM order_lines))""",
    "outbox streams numbered 1..n without gaps": """
        SELECT count(*) FROM outbox_streams s LEFT JOIN (
            SELECT stream, count(*) AS n, min(sequence) AS lo, max(sequence) AS hi
            FROM outbox GROUP BY stream) o USING (stream)
        WHERE o.n IS DISTINCT FROM s.last_sequence OR o.hi IS DISTINCT FROM s.last_sequence
           OR o.lo IS DISTINCT FROM 1""",
}


async def check_invariants(dsn: str, expected_orders: int) -> bool:
    conn = await asyncpg.connect(dsn, timeout=10)
    ok = True
    try:
        checks = dict(INVARIANTS)
        checks[f"orders in the database = orders placed ({expected_orders})"] = (
            f"SELECT abs(count(*) - {int(expected_orders)}) FROM orders")
        for name, query in checks.items():
            bad = await conn.fetchval(query)
            ok &= bad == 0
            print(f"  {'OK  ' if bad == 0 else 'FAIL'} {name}" + (f" ({bad})" if bad else ""))
    finally:
        await conn.close()
    return ok


# --- the benchmark -----------------------------------------------------------------------------
def chunks(items: list[OrderSpec], rounds: int) -> list[list[OrderSpec]]:
    size = math.ceil(len(items) / rounds)
    return [items[i:i + size] for i in range(0, len(items), size)]


async def benchmark(database: common.BenchDatabase, pool: asyncpg.Pool,
                    monitor: common.Monitor, network: Network,
                    args: argparse.Namespace) -> tuple[Run, Run]:
    """Warm both sides up, then alternate HTTP and raw rounds of the same size."""
    env = {"PROMESSA_DATABASE_URL": database.url, "PROMESSA_JWT_SECRET": common.SECRET,
           "PROMESSA_ENV": "test", "PROMESSA_DB_POOL_SIZE": str(args.pool_size)}
    raw_db = sql.RawDb(pool)
    http, raw = Run("HTTP: uvicorn + GraphQL"), Run("raw asyncpg")
    async with common.uvicorn_server("promessa", "api.cli:app_factory", env,
                                     access_log=args.access_log, workers=args.workers) as server:
        async with common.json_client(args.client, server.base_url,
                                      concurrency=args.concurrency) as post:
            async def place_http(spec: OrderSpec) -> None:
                check_placed(await post("/graphql", {
                    "query": PLACE_ORDER, "variables": {"input": graphql_input(spec)}}))

            log(f"warm-up: {args.warmup} orders each way")
            for seed, place in ((1, place_http), (3, lambda s: place_raw(raw_db, s))):
                warm = common.make_orders(network, args.warmup, seed=seed, hot=args.hot)
                run = await common.drive("warm-up", len(warm), args.concurrency,
                                         lambda i, w=warm, p=place: p(w[i]))
                if run.errors:
                    raise RuntimeError(f"warm-up failed: {run.errors[0]}")
            http_specs = chunks(common.make_orders(network, args.orders, seed=2, hot=args.hot),
                                args.rounds)
            raw_specs = chunks(common.make_orders(network, args.orders, seed=4, hot=args.hot),
                               args.rounds)
            for i, (h, r) in enumerate(zip(http_specs, raw_specs, strict=True), 1):
                log(f"round {i}/{len(http_specs)}: {len(h)} orders over HTTP, "
                    f"{len(r)} raw")
                async with monitor.measure(http.label, {"server": server.process.pid}) as out:
                    out.append(await common.drive(http.label, len(h), args.concurrency,
                                                  lambda i, h=h: place_http(h[i])))
                http.merge(out[0])
                async with monitor.measure(raw.label, {}) as out:
                    out.append(await common.drive(raw.label, len(r), args.concurrency,
                                                  lambda i, r=r: place_raw(raw_db, r[i])))
                raw.merge(out[0])
    return http, raw


def report(http: Run, raw: Run, per_size: dict[int, tuple[int, int]],
           args: argparse.Namespace, network: Network) -> None:
    def row(run: Run, cpu: str) -> list[str]:
        return [run.label, f"{run.rate:.1f}", f"{run.percentile_ms(50):.1f}",
                f"{run.percentile_ms(99):.1f}", str(len(run.errors)), cpu,
                f"{run.cpu_ms('postgres'):.2f}", f"{100 * run.machine_busy:.0f} %",
                str(run.sessions)]

    http_cpu = f"{http.cpu_ms('server'):.2f} + client {http.cpu_ms('bench'):.2f}"
    raw_cpu = f"{raw.cpu_ms('bench'):.2f}"
    print()
    print(f"placeOrder: {args.orders} orders each way in {args.rounds} alternating rounds "
          f"(after {args.warmup} warm-up), {args.concurrency} concurrent clients, pool "
          f"{args.pool_size} (+{max(1, args.pool_size // 2)} overflow), 1-3 lines per order, "
          f"{len(network.skus)} SKUs x {len(network.sites)} locations, {args.client} client"
          f"{', a hot SKU in every order' if args.hot else ''}")
    print(common.table(
        ["", "orders/s", "p50 ms", "p99 ms", "errors", "Python CPU ms/order",
         "PG CPU ms/order", "machine busy", "new PG sessions"],
        [row(http, http_cpu), row(raw, raw_cpu)]))
    ratio = http.rate / raw.rate if raw.rate else 0.0
    print(f"ratio HTTP / raw: {100 * ratio:.1f} %  (aim: >= 40 %)")
    sizes = sorted(per_size)
    print("SQL statements per order: " + ", ".join(
        f"{per_size[k][0]} ({k} line{'s' if k > 1 else ''})" for k in sizes)
        + f"; in {per_size[sizes[0]][1]} transactions"
        f" (+{2 * per_size[sizes[0]][1]} BEGIN/COMMIT)")
    for run in (http, raw):
        if run.errors:
            print(f"{run.label}: {len(run.errors)} errors, first: {run.errors[0]}")


async def main(args: argparse.Namespace) -> int:
    common.warn_if_busy(await common.background_load())
    network = common.build_network(locations=args.locations, skus=args.skus)
    async with common.bench_database(network, keep=args.keep_db) as database:
        pool = await sql.create_pool(database.dsn, pool_size=args.pool_size)
        try:
            async with common.Monitor.open(database.dsn, database.name) as monitor:
                per_size, matched = await check_statements(database, pool, network,
                                                           show=args.show_sql)
                http, raw = await benchmark(database, pool, monitor, network, args)
        finally:
            await pool.close()
        report(http, raw, per_size, args, network)
        placed = (2 * len(per_size) + 2 * args.warmup + 2 * args.orders
                  - len(http.errors) - len(raw.errors))
        print("invariants after the run:")
        ok = await check_invariants(database.dsn, placed)
    return 0 if ok and matched and not http.errors and not raw.errors else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.place_order", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000, help="orders per side (2000)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed orders per side (100)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternate HTTP and raw this many times (4)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--pool-size", type=int, default=common.DEFAULT_POOL_SIZE,
                        help="PROMESSA_DB_POOL_SIZE; the baseline's pool is sized alike (20)")
    parser.add_argument("--skus", type=int, default=200, help="SKUs in the catalog (200)")
    parser.add_argument("--locations", type=int, default=20, help="locations, max 20 (20)")
    parser.add_argument("--hot", action="store_true",
                        help="every order includes one hot SKU shipped from one location")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes per server (1)")
    parser.add_argument("--access-log", action="store_true",
                        help="keep uvicorn's access log on (as `promessa serve` does)")
    parser.add_argument("--client", choices=["httpx", "light"], default="httpx",
                        help="HTTP client: httpx.AsyncClient, or a minimal keep-alive client "
                             "that uses far less CPU (httpx)")
    parser.add_argument("--show-sql", action="store_true",
                        help="print the statements of one placeOrder of 1, 2 and 3 lines")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)
    if not (1 <= args.orders <= 1_000_000 and 0 <= args.warmup <= 100_000
            and 1 <= args.concurrency <= 512 and 1 <= args.rounds <= args.orders
            and 1 <= args.pool_size <= 200 and 1 <= args.workers <= 16
            and 3 <= args.skus <= 5000 and 1 <= args.locations <= 20):
        parser.error("an option is out of range")
    return args


if __name__ == "__main__":
    options = parse_args()
    raise SystemExit(common.run_main(lambda: main(options)))
