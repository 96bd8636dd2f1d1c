"""`availability` over HTTP: the GraphQL API against a bare Starlette endpoint (bench.bare_app)
running the same SQL through asyncpg, each in its own uvicorn process on one database.

    python -m bench.availability [--requests 3000] [--skus-per-request 5] [--radius 150]

Both servers get the same request bodies from the same client, in alternating rounds; the
responses are checked to be identical before timing.
"""

from __future__ import annotations

import argparse
import math
import random
from typing import Any

from bench import bare_app, common, sql
from bench.common import Network, Run, Statement, log

AVAILABILITY = """
query Availability($skus: [String!]!, $channel: String!, $near: GeoPointInput, $radiusKm: Float) {
  availability(skus: $skus, channel: $channel, near: $near, radiusKm: $radiusKm) {
    sku
    available
    locations {
      location { code name type }
      onHand
      reserved
      safetyStock
      available
      distanceKm
    }
    incoming { location { code } quantity expectedAt }
  }
}"""


def make_requests(network: Network, n: int, *, per_request: int, radius: float | None,
                  seed: int) -> list[dict[str, Any]]:
    """Request bodies: `per_request` random SKUs near a random Italian destination."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        _city, _postal, lat, lon = rng.choice(common.DESTINATIONS)
        variables: dict[str, Any] = {
            "skus": rng.sample(network.skus, per_request), "channel": common.CHANNEL,
            "near": {"latitude": round(lat + rng.uniform(-0.05, 0.05), 5),
                     "longitude": round(lon + rng.uniform(-0.05, 0.05), 5)}}
        if radius is not None:
            variables["radiusKm"] = radius
        out.append({"query": AVAILABILITY, "operationName": "Availability",
                    "variables": variables})
    return out


def answer(body: dict[str, Any]) -> list[dict[str, Any]]:
    if body.get("errors"):
        raise RuntimeError(f"errors: {body['errors']}")
    return body["data"]["availability"]


async def check_statements(database: common.BenchDatabase, pool: Any, network: Network,
                           args: argparse.Namespace) -> tuple[int, int]:
    """Record what the app and the baseline send for one request; print any difference."""
    request = make_requests(network, 1, per_request=args.skus_per_request, radius=args.radius,
                            seed=98)[0]
    variables = request["variables"]
    async with common.in_process_app(database.url) as (app, client):
        async with common.capture_statements(app) as app_seen:
            expected = answer((await client.post("/graphql", json=request)).json())
    raw_seen: list[Statement] = []
    async with sql.RawDb(pool, raw_seen).transaction() as conn:
        rows = await bare_app.query(conn, variables["skus"], variables["channel"])
    got = bare_app.summarise(variables["skus"], rows, variables.get("near"),
                             variables.get("radiusKm"))
    counted = sql.count(app_seen)
    if args.show_sql:
        print(f"-- availability of {args.skus_per_request} SKUs: {counted[0]} statements in "
              f"{counted[1]} transaction(s)")
        print("\n".join(sql.normalise(app_seen)))
        print()
    diff = sql.compare("availability", app_seen, raw_seen)
    if diff:
        log("WARNING: the baseline no longer sends the app's statements:")
        print("\n".join(diff))
    else:
        log(f"statements match: {counted[0]} statements, {counted[1]} transaction(s)")
    if got != expected:
        log("WARNING: the baseline's answer differs from the app's (in-process check)")
    return counted


async def check_answers(app: common.Post, bare: common.Post,
                        requests: list[dict[str, Any]]) -> bool:
    for request in requests:
        ours = answer(await app("/graphql", request))
        theirs = answer(await bare("/graphql", request))
        if ours != theirs:
            log(f"WARNING: answers differ for {request['variables']}:\n  app:  {ours}\n"
                f"  bare: {theirs}")
            return False
    log(f"answers identical for {len(requests)} requests")
    return True


async def benchmark(database: common.BenchDatabase, monitor: common.Monitor, network: Network,
                    args: argparse.Namespace) -> tuple[Run, Run, bool]:
    app_env = {"PROMESSA_DATABASE_URL": database.url, "PROMESSA_JWT_SECRET": common.SECRET,
               "PROMESSA_ENV": "test", "PROMESSA_DB_POOL_SIZE": str(args.pool_size)}
    bare_env = {"BENCH_DSN": database.dsn, "BENCH_POOL_SIZE": str(args.pool_size)}
    graphql, bare = Run("HTTP: uvicorn + GraphQL"), Run("HTTP: bare Starlette + asyncpg")
    async with (
        common.uvicorn_server("promessa", "api.cli:app_factory", app_env,
                              access_log=args.access_log, workers=args.workers) as app_server,
        common.uvicorn_server("bare", "bench.bare_app:create", bare_env,
                              access_log=args.access_log, workers=args.workers) as bare_server,
        common.json_client(args.client, app_server.base_url,
                           concurrency=args.concurrency) as app_post,
        common.json_client(args.client, bare_server.base_url,
                           concurrency=args.concurrency) as bare_post,
    ):
        sides = [(graphql, app_post, app_server), (bare, bare_post, bare_server)]

        def caller(post: common.Post, requests: list[dict[str, Any]]):
            async def call(i: int) -> None:
                answer(await post("/graphql", requests[i]))
            return call

        same = await check_answers(app_post, bare_post, make_requests(
            network, 25, per_request=args.skus_per_request, radius=args.radius, seed=11))
        log(f"warm-up: {args.warmup} requests each")
        warm = make_requests(network, args.warmup, per_request=args.skus_per_request,
                             radius=args.radius, seed=12)
        for _run, post, _server in sides:
            run = await common.drive("warm-up", len(warm), args.concurrency,
                                     caller(post, warm))
            if run.errors:
                raise RuntimeError(f"warm-up failed: {run.errors[0]}")
        requests = make_requests(network, args.requests, per_request=args.skus_per_request,
                                 radius=args.radius, seed=13)
        size = math.ceil(len(requests) / args.rounds)
        rounds = [requests[i:i + size] for i in range(0, len(requests), size)]
        for i, chunk in enumerate(rounds, 1):
            log(f"round {i}/{len(rounds)}: {len(chunk)} requests to each server")
            for total, post, server in sides:
                async with monitor.measure(total.label, {"server": server.process.pid}) as out:
                    out.append(await common.drive(total.label, len(chunk), args.concurrency,
                                                  caller(post, chunk)))
                total.merge(out[0])
    return graphql, bare, same


def report(graphql: Run, bare: Run, counted: tuple[int, int], args: argparse.Namespace,
           network: Network) -> None:
    def row(run: Run) -> list[str]:
        return [run.label, f"{run.rate:.1f}", f"{run.percentile_ms(50):.1f}",
                f"{run.percentile_ms(99):.1f}", str(len(run.errors)),
                f"{run.cpu_ms('server'):.2f}", f"{run.cpu_ms('bench'):.2f}",
                f"{run.cpu_ms('postgres'):.2f}", f"{100 * run.machine_busy:.0f} %"]

    radius = f"radiusKm {args.radius:g}" if args.radius is not None else "no radius"
    print()
    print(f"availability: {args.requests} requests each in {args.rounds} alternating rounds "
          f"(after {args.warmup} warm-up), {args.concurrency} concurrent clients, "
          f"{args.skus_per_request} SKUs per request, near + {radius}, pool {args.pool_size}, "
          f"{args.client} client; {len(network.skus)} SKUs x {len(network.sites)} locations")
    print(common.table(
        ["", "requests/s", "p50 ms", "p99 ms", "errors", "server CPU ms/req",
         "client CPU ms/req", "PG CPU ms/req", "machine busy"],
        [row(graphql), row(bare)]))
    ratio = graphql.rate / bare.rate if bare.rate else 0.0
    print(f"ratio GraphQL / bare: {100 * ratio:.1f} %  (aim: >= 50 %)")
    print(f"SQL statements per request: {counted[0]} in {counted[1]} transaction(s) "
          f"(+{2 * counted[1]} BEGIN/COMMIT)")
    for run in (graphql, bare):
        if run.errors:
            print(f"{run.label}: {len(run.errors)} errors, first: {run.errors[0]}")


async def main(args: argparse.Namespace) -> int:
    common.warn_if_busy(await common.background_load())
    network = common.build_network(locations=args.locations, skus=args.skus)
    async with common.bench_database(network, keep=args.keep_db) as database:
        pool = await sql.create_pool(database.dsn, pool_size=1)
        try:
            counted = await check_statements(database, pool, network, args)
        finally:
            await pool.close()
        async with common.Monitor.open(database.dsn, database.name) as monitor:
            graphql, bare, same = await benchmark(database, monitor, network, args)
        report(graphql, bare, counted, args, network)
    return 0 if same and not graphql.errors and not bare.errors else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.availability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per side (3000)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests each (200)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternate the two servers this many times (4)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--skus-per-request", type=int, default=5, help="SKUs asked for (5)")
    parser.add_argument("--radius", type=float, default=150.0,
                        help="radiusKm around `near`; negative for none (150)")
    parser.add_argument("--pool-size", type=int, default=common.DEFAULT_POOL_SIZE,
                        help="PROMESSA_DB_POOL_SIZE; the baseline's pool is sized alike (20)")
    parser.add_argument("--skus", type=int, default=200, help="SKUs in the catalog (200)")
    parser.add_argument("--locations", type=int, default=20, help="locations, max 20 (20)")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes per server (1)")
    parser.add_argument("--access-log", action="store_true",
                        help="keep uvicorn's access log on (as `promessa serve` does)")
    parser.add_argument("--client", choices=["httpx", "light"], default="light",
                        help="HTTP client: a minimal keep-alive client (light), or "
                             "httpx.AsyncClient, whose CPU cost makes the bare server "
                             "client-bound on a small machine (light)")
    parser.add_argument("--show-sql", action="store_true", help="print the app's statements")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)
    if args.radius is not None and args.radius < 0:
        args.radius = None
    if not (1 <= args.requests <= 1_000_000 and 0 <= args.warmup <= 100_000
            and 1 <= args.rounds <= args.requests and 1 <= args.concurrency <= 512
            and 1 <= args.skus_per_request <= min(args.skus, 250)
            and 1 <= args.pool_size <= 200 and 1 <= args.workers <= 16
            and 3 <= args.skus <= 5000
            and 1 <= args.locations <= 20):
        parser.error("an option is out of range")
    return args


if __name__ == "__main__":
    options = parse_args()
    raise SystemExit(common.run_main(lambda: main(options)))
