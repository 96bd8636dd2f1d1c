"""`promessa serve --demo`: seed the demo network through the same use cases as the API."""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

from api import demo_data
from api.context import Dependencies
from domain import catalog
from domain.access import Principal, Role
from domain.catalog import Address, hours
from domain.catalog import services as catalog_service
from domain.inventory import services as inventory_service
from domain.kernel.geo import GeoPoint
from domain.sourcing import policy

log = logging.getLogger("promessa.demo")
SEEDER = Principal(Role.ADMIN, subject="demo-seed")
# Every channel: cheapest plan; hazardous goods only from warehouses, oversized never from a
# store, furniture ordered together leaves together.
DEMO_POLICY = policy.new_policy(
    channel="*", strategy="LOWEST_COST", weights=None, max_shipments=None,
    ship_together=[["furniture"]],
    rules=[(None, "HAZMAT", ["WAREHOUSE"]),
           (None, "OVERSIZED", ["WAREHOUSE", "SUPPLIER", "THIRD_PARTY"])],
    ship_from_store=True, split_lines=True, split_kits=False, pickup_transfers=True)


def _location(i: int, x: dict) -> catalog.Location:
    a, h = x["address"], x["openingHours"]
    at = ["locations", str(i)]
    return catalog.new_location(
        code=x["code"], name=x["name"], type=x["type"],
        address=Address(a["line1"], a["city"], a["postalCode"], a["country"],
                        point=GeoPoint(a["latitude"], a["longitude"])),
        capabilities=x["capabilities"], channels=x["channels"],
        handling_classes=x.get("handlingClasses"), time_zone=x["timeZone"],
        cutoff_time=x["cutoffTime"], processing_hours=x["processingHours"],
        daily_capacity=x["dailyCapacity"], cost_per_shipment=x.get("costPerShipment"),
        cost_per_kg=x.get("costPerKg"), carbon_factor=x.get("carbonFactor"), active=True,
        at=at, opening_hours=hours.new_opening_hours(
            weekly=[(p["day"], p["opens"], p["closes"]) for p in h["weekly"]],
            exceptions=[(date.fromisoformat(e["date"]),
                         [(p["opens"], p["closes"]) for p in e["periods"]])
                        for e in h["exceptions"]], at=[*at, "openingHours"]))


def _sku(i: int, x: dict) -> catalog.Sku:
    return catalog.new_sku(
        sku=x["sku"], name=x["name"], product_group=x["productGroup"], handling=x["handling"],
        weight_grams=x["weightGrams"],
        prices=[(Decimal(p["amount"]), p["currency"]) for p in x["prices"]],
        backorderable=x["backorderable"], preorderable=x["preorderable"],
        components=[(c["sku"], c["quantity"]) for c in x.get("components", [])],
        at=["skus", str(i)])


async def seed(deps: Dependencies) -> bool:
    """Seed once: an empty catalog gets the demo network; returns whether it seeded."""
    if (await deps.reader.sku_page(first=1, after=None, product_group=None)).total_count:
        log.info("demo data already present")
        return False
    app, today = deps.app, deps.clock.now().date()
    await app.catalog.upsert_locations(
        [_location(i, x) for i, x in enumerate(demo_data.locations(today))], principal=SEEDER)
    skus = [_sku(i, x) for i, x in enumerate(demo_data.skus())]
    items = [s for s in skus if not s.is_kit]
    for start in range(0, len(items), catalog_service.MAX_BATCH):
        await app.catalog.upsert_skus(items[start:start + 250], principal=SEEDER)
    await app.catalog.upsert_skus([s for s in skus if s.is_kit], principal=SEEDER)
    rows = [inventory_service.LevelSnapshot(x["sku"], x["location"], x["onHand"],
                                            x.get("safetyStock")) for x in demo_data.inventory()]
    for start in range(0, len(rows), inventory_service.MAX_LEVELS):
        await app.inventory.set_levels(rows[start:start + 250], reason="DEMO_SEED",
                                       principal=SEEDER)
    for x in demo_data.incoming(today):
        await app.inventory.expect_incoming(
            sku=x["sku"], location=x["location"], quantity=x["quantity"],
            expected_at=datetime.fromisoformat(x["expectedAt"]), reference="DEMO-PO",
            principal=SEEDER)
    await app.sourcing.upsert_policy(DEMO_POLICY, principal=SEEDER)
    log.info("demo network seeded: %d locations, %d skus, %d stock rows",
             len(demo_data.locations()), len(skus), len(rows))
    return True
