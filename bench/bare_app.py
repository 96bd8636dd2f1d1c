"""The availability baseline: a bare Starlette endpoint running the app's SQL through asyncpg.

    BENCH_DSN=postgresql://… python -m uvicorn bench.bare_app:create --factory

It answers POST /graphql (the same request body the GraphQL API gets; only `variables` is
read) with the JSON the `availability` query returns, for SKUs that are not kits.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench import common, sql

MAX_SKUS = 250


async def query(conn: Any, skus: list[str], channel: str) -> dict[str, list]:
    """The statements `SqlReader.availability` sends, in its one transaction's order."""
    parts = [r[0] for r in await conn.fetch(sql.kit_parts(len(skus)), *skus)]
    catalog = sorted({*skus, *parts})
    sku_rows = await conn.fetch(sql.skus_with_prices(len(catalog)), *catalog)
    kit_rows = await conn.fetch(sql.kit_components(len(catalog)), *catalog)
    location_rows = await conn.fetch(sql.LOCATIONS_IN_CHANNEL, channel)
    stocked = sorted({r["sku"] for r in sku_rows if not r["is_kit"]})
    level_rows = await conn.fetch(sql.levels_in_channel(len(stocked), ordered=True),
                                  channel, *stocked)
    incoming_rows = await conn.fetch(sql.open_incoming(len(stocked), only_unallocated=False),
                                     *stocked)
    return {"skus": sku_rows, "kits": kit_rows, "locations": location_rows,
            "levels": level_rows, "incoming": incoming_rows}


def summarise(skus: list[str], rows: dict[str, list], near: dict[str, float] | None,
              radius_km: float | None) -> list[dict[str, Any]]:
    """What `domain.inventory.availability.summarise` computes, as the API's JSON."""
    if rows["kits"]:
        raise NotImplementedError("the baseline answers for plain SKUs, not kits")
    known = {r["sku"] for r in rows["skus"]}
    locations: dict[str, Any] = {}
    for r in rows["locations"]:
        locations.setdefault(r["code"], r)
    levels = {(r["sku"], r["location"]): r for r in rows["levels"]}
    distance = {code: round(common.km(near["latitude"], near["longitude"], r["latitude"],
                                      r["longitude"]), 1) if near else None
                for code, r in locations.items()}
    incoming: dict[str, list] = {}
    for r in rows["incoming"]:
        incoming.setdefault(r["sku"], []).append(r)
    out = []
    for code in dict.fromkeys(skus):
        stock = []
        for loc, r in locations.items() if code in known else ():
            level = levels.get((code, loc))
            if level is None or not (level["on_hand"] or level["reserved"]):
                continue
            stock.append({
                "location": {"code": loc, "name": r["name"], "type": r["type"]},
                # a storefront's view, as the app answers the benchmark's anonymous requests:
                # raw figures are for staff and the location's own associates
                "onHand": None, "reserved": None, "safetyStock": None,
                "available": max(0, level["on_hand"] - level["reserved"]
                                 - level["safety_stock"]),
                "distanceKm": distance[loc]})
        total = sum(s["available"] for s in stock)
        if radius_km is not None and near is not None:
            stock = [s for s in stock
                     if s["distanceKm"] is not None and s["distanceKm"] <= radius_km]
        stock.sort(key=lambda s: (s["distanceKm"] is None, s["distanceKm"] or 0.0,
                                  s["location"]["code"]))
        receipts = sorted(incoming.get(code, ()), key=lambda r: (r["expected_at"], r["id"]))
        out.append({"sku": code, "available": total, "locations": stock, "incoming": [
            {"location": {"code": r["location"]}, "quantity": r["quantity"],
             "expectedAt": r["expected_at"].isoformat()} for r in receipts]})
    return out


def error(message: str) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [
        {"message": message, "extensions": {"code": "INVALID_INPUT"}}]})


async def availability(request: Request) -> JSONResponse:
    variables = (await request.json()).get("variables") or {}
    skus, channel = variables["skus"], variables["channel"]
    near, radius_km = variables.get("near"), variables.get("radiusKm")
    if len(skus) > MAX_SKUS:
        return error(f"at most {MAX_SKUS} skus")
    if near is not None and not (-90 <= near["latitude"] <= 90
                                 and -180 <= near["longitude"] <= 180):
        return error("near must be a valid latitude/longitude")
    if radius_km is not None and not 0 <= radius_km <= 20_000:
        return error("radiusKm must be 0-20000")
    async with request.app.state.db.transaction() as conn:
        rows = await query(conn, skus, channel)
    return JSONResponse({"data": {"availability": summarise(skus, rows, near, radius_km)}})


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create() -> Starlette:
    """Uvicorn's factory: BENCH_DSN (asyncpg DSN) and BENCH_POOL_SIZE from the environment."""
    dsn, pool_size = os.environ["BENCH_DSN"], int(os.environ.get("BENCH_POOL_SIZE", "20"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await sql.create_pool(dsn, pool_size=pool_size)
        app.state.db = sql.RawDb(pool)
        try:
            yield
        finally:
            await pool.close()

    return Starlette(routes=[Route("/graphql", availability, methods=["POST"]),
                             Route("/healthz", healthz)], lifespan=lifespan)
