"""How long one sourcing decision and one delivery promise take: a 10-line cart over a network
of 50 locations (5 warehouses, 45 stores), pure domain code, no database.

    python -m bench.sourcing [--runs 400] [--lines 10] [--locations 50] [--seed 7]

Prints median and p99 per strategy for `SourcingEngine.decide` (one decision, STANDARD) and
for the delivery promise (every ship service level plus pickup at up to three nearby stores,
option ids sealed). Targets: decision < 5 ms, promise < 15 ms at the median.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.catalog import Address, Capability, Channel, HandlingClass, Location, LocationType, Sku
from domain.checkout.delivery_promise import options
from domain.inventory import InventoryLevel
from domain.kernel.geo import GeoPoint
from domain.orders import LineRequest
from domain.sourcing.engine import SourcingEngine
from domain.sourcing.policy import BUILT_IN, Strategy
from domain.sourcing.ports import SourcingSnapshot
from domain.sourcing.services import demands_for, request_for

CITIES = [("Milano", 45.46, 9.19), ("Torino", 45.07, 7.69), ("Genova", 44.41, 8.93),
          ("Bologna", 44.49, 11.34), ("Firenze", 43.77, 11.26), ("Roma", 41.90, 12.49),
          ("Napoli", 40.85, 14.27), ("Bari", 41.12, 16.87), ("Palermo", 38.12, 13.36),
          ("Venezia", 45.44, 12.33), ("Verona", 45.44, 10.99), ("Pescara", 42.46, 14.21),
          ("Catania", 37.50, 15.09), ("Cagliari", 39.22, 9.12), ("Perugia", 43.11, 12.39)]
NOW = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
KEY = b"bench-key-0123456789abcdef0123456789"


def network(rng: random.Random, *, size: int, skus: int) -> SourcingSnapshot:
    catalog = {f"SKU-{i:04d}": Sku(f"SKU-{i:04d}", f"Item {i}", f"group-{i % 8}",
                                   HandlingClass.FRAGILE if i % 17 == 0
                                   else HandlingClass.STANDARD, 150 + (i * 37) % 3000,
                                   {"EUR": Decimal("19.90")}) for i in range(skus)}
    locations: dict[str, Location] = {}
    levels: dict[tuple[str, str], InventoryLevel] = {}
    for n in range(size):
        city, lat, lon = CITIES[n % len(CITIES)]
        warehouse = n < 5
        code = f"{'WH' if warehouse else 'ST'}-{n:02d}"
        locations[code] = Location(
            code, f"{city} {n}", LocationType.WAREHOUSE if warehouse else LocationType.STORE,
            Address("Via Roma 1", city, "00100", "IT",
                    point=GeoPoint(lat + rng.uniform(-0.2, 0.2), lon + rng.uniform(-0.2, 0.2))),
            frozenset({Capability.SHIP}) if warehouse
            else frozenset({Capability.SHIP_FROM_STORE, Capability.PICKUP}), ("web",),
            time_zone="Europe/Rome", processing_hours=24 if warehouse else 2,
            daily_capacity=None if warehouse else 80,
            cost_per_shipment=Decimal("4.50") if warehouse else Decimal("6.90"),
            cost_per_kg=Decimal("0.35") if warehouse else Decimal("0.60"),
            carbon_factor=0.09 if warehouse else 0.14)
        for code_ in catalog:
            if warehouse or rng.random() < 0.6:
                on_hand = rng.randint(50, 500) if warehouse else rng.randint(0, 6)
                levels[(code_, code)] = InventoryLevel(code_, code, on_hand, 0, 0)
    return SourcingSnapshot(channel=Channel("web", "Web", ("EUR",)), skus=catalog,
                            locations=locations, levels=levels, incoming={},
                            load={code: rng.randint(0, 60) for code in locations})


def for_cart(snapshot: SourcingSnapshot, lines: list[LineRequest], policy) -> SourcingSnapshot:
    """What the reader loads for one cart: its SKUs' levels only (not timed)."""
    wanted = {x.sku for x in lines}
    return replace(snapshot, policy=policy, levels={
        key: level for key, level in snapshot.levels.items() if key[0] in wanted})


def timed(work, into: list[float]):
    started = time.perf_counter()
    result = work()
    into.append((time.perf_counter() - started) * 1000)
    return result


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--locations", type=int, default=50)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    snapshot = network(rng, size=args.locations, skus=args.skus)
    engine = SourcingEngine()
    print(f"{args.lines}-line carts, {args.locations} locations, {args.skus} SKUs, "
          f"{args.runs} runs each")
    for strategy in Strategy:
        policy = replace(BUILT_IN, strategy=strategy)
        decisions, promises, unproven = [], [], 0
        for run in range(args.runs):
            lines = [LineRequest(code, rng.randint(1, 3))
                     for code in rng.sample(sorted(snapshot.skus), args.lines)]
            snap = for_cart(snapshot, lines, policy)
            city, lat, lon = rng.choice(CITIES)
            to = Address("Via Garibaldi 3", city, "00100", "IT",
                         point=GeoPoint(lat + rng.uniform(-0.1, 0.1), lon + rng.uniform(-0.1, 0.1)))
            now = NOW + timedelta(minutes=17 * run)
            request = request_for(snap, demands_for(snap, lines), now=now, address=to,
                                  service_level=None, pickup=None)
            decision = timed(lambda r=request: engine.decide(r), decisions)
            unproven += not decision.proven_optimal
            timed(lambda sn=snap, ls=lines, a=to, t=now: options(
                sn, ls, address=a, now=t, sourcer=engine, key=KEY), promises)
        print(f"{strategy.value:<17} decision  {summary(decisions)}   "
              f"proven optimal {args.runs - unproven}/{args.runs}")
        print(f"{'':<17} promise   {summary(promises)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
