"""`promessa import inventory` against raw asyncpg COPY of the same rows.

    python -m bench.import_inventory [--rows 100000] [--locations 20] [--batch-size 1000]

Generates a CSV of `--rows` stock levels (SKUs × locations), then in two fresh PostgreSQL
databases seeded alike (locations through the GraphQL API, SKUs through `import skus`):
- app: `api.bulk.import_file` — the CLI's code path: CSV parsing, per-row checks, one
  transaction per batch through the unit of work (levels, ledger rows, outbox events);
- baseline: the same rows written by raw asyncpg, one transaction per batch: COPY of the levels,
  the ledger rows and the outbox events, and the stream counter bump — no checks at all, the
  floor of what these writes cost;
then imports the same file again through the app (nothing changes: the idempotent re-run).
Prints rows/s for each and the ratio app / baseline.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import common
from bench.common import log


def write_csv(path: Path, sites: list[str], skus: list[str], rows: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["sku", "location", "on_hand", "safety_stock"])
        n = 0
        for sku in skus:
            for site in sites:
                out.writerow([sku, site, rng.randrange(3, 500), rng.choice(["", "0", "2"])])
                n += 1
                if n == rows:
                    return


def write_skus(path: Path, skus: list[str]) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["sku", "name", "product_group", "weight_grams", "price", "currency"])
        for i, sku in enumerate(skus):
            out.writerow([sku, f"Articolo {sku}", f"group-{i % 10}", 200 + i % 800,
                          f"{5 + i % 90}.90", "EUR"])


async def seed(url: str, network: common.Network, skus_csv: Path) -> None:
    """Locations through the API; SKUs through `import skus`."""
    from api import bulk

    token = common.admin_token()
    locations = [{
        "code": s.code, "name": s.name, "type": s.type,
        "address": {"line1": "Via Roma 1", "city": s.city, "postalCode": s.postal_code,
                    "country": "IT", "latitude": s.latitude, "longitude": s.longitude},
        "capabilities": ["SHIP"], "channels": [common.CHANNEL]} for s in network.sites]
    async with common.in_process_app(url) as (app, client):
        await common.gql(client, common.GQL_UPSERT_LOCATIONS, {"input": {"locations": locations}},
                         token=token)
        report = await bulk.import_file("skus", skus_csv, deps=app.state.deps)
        assert not report.rejected, report.rejected[:5]


async def fresh_database(network: common.Network, skus_csv: Path) -> str:
    from persistence import migrate
    from persistence.db import Database

    name = f"promessa_bench_{uuid.uuid4().hex[:8]}"
    await common._admin(f'CREATE DATABASE "{name}"')
    db = Database(common.app_url(name))
    try:
        await migrate.upgrade(db.writer)
    finally:
        await db.dispose()
    await seed(common.app_url(name), network, skus_csv)
    return name


async def app_import(name: str, path: Path, batch_size: int) -> tuple[float, Any]:
    from api import bulk

    async with common.in_process_app(common.app_url(name)) as (app, _client):
        started = time.perf_counter()
        report = await bulk.import_file("inventory", path, deps=app.state.deps,
                                        batch_size=batch_size)
        return time.perf_counter() - started, report


async def baseline_import(name: str, path: Path, batch_size: int) -> float:
    """The same levels, ledger rows and events, COPYed by raw asyncpg, a batch per transaction."""
    conn = await asyncpg.connect(common.raw_dsn(name))
    try:
        started = time.perf_counter()
        with path.open(newline="") as f:
            reader = csv.reader(f)
            next(reader)
            batch: list[list[str]] = []
            for record in reader:
                batch.append(record)
                if len(batch) == batch_size:
                    await _copy_batch(conn, batch)
                    batch = []
            if batch:
                await _copy_batch(conn, batch)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _copy_batch(conn: asyncpg.Connection, batch: list[list[str]]) -> None:
    now = datetime.now(UTC)
    levels, ledger, events = [], [], []
    async with conn.transaction():
        # the stream's counter and "$all"'s (every event also goes there, as in the app)
        bumped = dict(await conn.fetch(
            "INSERT INTO outbox_streams (stream, last_sequence) VALUES ('$all', $1), "
            "('inventory', $1) ON CONFLICT (stream) DO UPDATE SET last_sequence = "
            "outbox_streams.last_sequence + EXCLUDED.last_sequence RETURNING stream, "
            "last_sequence", len(batch)))
        sequence, everything = (bumped["inventory"] - len(batch), bumped["$all"] - len(batch))
        for sku, location, on_hand_text, safety_text in batch:
            on_hand, safety = int(on_hand_text), int(safety_text or 0)
            sequence += 1
            levels.append((sku, location, on_hand, 0, safety, now))
            ledger.append((sku, location, on_hand, 0, "IMPORT", None, "admin:bench", now))
            payload = {"sku": sku, "location": location, "onHand": on_hand, "reserved": 0,
                       "safetyStock": safety, "available": max(0, on_hand - safety),
                       "reason": "IMPORT"}
            event_id, body = str(uuid.uuid4()), json.dumps(payload, separators=(",", ":"))
            everything += 1
            events.append((event_id, "inventory", sequence, "INVENTORY_CHANGED", now, body, now))
            events.append((event_id, "$all", everything, "INVENTORY_CHANGED", now, body, now))
        await conn.copy_records_to_table(
            "inventory_levels", records=levels,
            columns=["sku", "location", "on_hand", "reserved", "safety_stock", "updated_at"])
        await conn.copy_records_to_table(
            "inventory_ledger", records=ledger,
            columns=["sku", "location", "on_hand_delta", "reserved_delta", "reason",
                     "reference", "actor", "at"])
        await conn.copy_records_to_table(
            "outbox", records=events,
            columns=["event_id", "stream", "sequence", "type", "at", "payload", "created_at"])


async def main(args: argparse.Namespace) -> int:
    per_location = -(-args.rows // args.locations)
    network = common.build_network(locations=args.locations, skus=per_location)
    sites = [s.code for s in network.sites]
    names: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        stock_csv, skus_csv = Path(tmp) / "stock.csv", Path(tmp) / "skus.csv"
        write_csv(stock_csv, sites, network.skus, args.rows)
        write_skus(skus_csv, network.skus)
        log(f"{args.rows} rows of stock over {len(sites)} locations x {len(network.skus)} SKUs")
        try:
            started = time.perf_counter()
            names.append(await fresh_database(network, skus_csv))
            log(f"app database {names[-1]} seeded in {time.perf_counter() - started:.1f}s "
                f"({len(network.skus)} SKUs through `import skus`)")
            names.append(await fresh_database(network, skus_csv))
            load = await common.background_load()
            common.warn_if_busy(load)
            app_seconds, report = await app_import(names[0], stock_csv, args.batch_size)
            assert not report.rejected and report.changed == args.rows, report.summary(
                "inventory", dry_run=False)
            base_seconds = await baseline_import(names[1], stock_csv, args.batch_size)
            again_seconds, again = await app_import(names[0], stock_csv, args.batch_size)
            assert again.changed == 0 and again.unchanged == args.rows
        finally:
            for name in names:
                await common._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    rows = [
        ["app: import inventory (fresh levels)", f"{app_seconds:.1f}",
         f"{args.rows / app_seconds:,.0f}"],
        ["baseline: asyncpg COPY, same writes", f"{base_seconds:.1f}",
         f"{args.rows / base_seconds:,.0f}"],
        ["app: same file again (no changes)", f"{again_seconds:.1f}",
         f"{args.rows / again_seconds:,.0f}"],
    ]
    print(common.table(["", "seconds", "rows/s"], rows))
    print(f"\napp / baseline: {base_seconds / app_seconds:.0%} of the baseline's rows/s; "
          f"{args.rows} rows in {app_seconds:.1f}s "
          f"({'under' if app_seconds < 60 else 'OVER'} a minute)")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.import_inventory",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=1000)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    raise SystemExit(common.run_main(lambda: main(arguments)))
