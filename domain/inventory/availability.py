"""Availability: the channel's network stock per SKU, kits derived from their components."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog import Location, Sku
from domain.inventory import Incoming, InventoryLevel
from domain.kernel.geo import GeoPoint, distance_km


@dataclass(frozen=True, slots=True)
class LocationStock:
    location: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class SkuStock:
    sku: str
    available: int
    locations: list[LocationStock]
    incoming: list[Incoming]


def summarise(skus: list[str], *, catalog: dict[str, Sku], locations: dict[str, Location],
              levels: list[InventoryLevel], incoming: dict[str, list[Incoming]],
              near: GeoPoint | None, radius_km: float | None) -> list[SkuStock]:
    """One row per requested SKU, in request order; unknown SKUs show zero.

    `available` is the whole channel network; `locations` lists those within `radius_km` of
    `near` (all when either is missing), nearest first, and only those holding stock.
    """
    by_key = {(lv.sku, lv.location): lv for lv in levels}
    distances = {code: (distance_km(near, loc.point) if near and loc.point else None)
                 for code, loc in locations.items()}
    out = []
    for code in dict.fromkeys(skus):
        sku = catalog.get(code)
        rows = [_stock(sku, code, loc, by_key, distances[loc]) for loc in locations] if sku else []
        rows = [r for r in rows if r.on_hand or r.reserved]
        total = sum(r.available for r in rows)
        if radius_km is not None and near is not None:
            rows = [r for r in rows if r.distance_km is not None and r.distance_km <= radius_km]
        rows.sort(key=lambda r: (r.distance_km is None, r.distance_km or 0.0, r.location))
        parts = [c.sku for c in sku.components] if sku and sku.is_kit else [code]
        receipts = sorted((r for p in parts for r in incoming.get(p, ())),
                          key=lambda r: (r.expected_at, r.id))
        out.append(SkuStock(code, total, rows, receipts))
    return out


def _stock(sku: Sku, code: str, location: str,
           by_key: dict[tuple[str, str], InventoryLevel], distance: float | None
           ) -> LocationStock:
    if not sku.is_kit:
        lv = by_key.get((code, location)) or InventoryLevel(code, location)
        return LocationStock(location, lv.on_hand, lv.reserved, lv.safety_stock, lv.available,
                             _round(distance))
    # A kit at a location: how many complete kits its components make.
    def kits(attr: str) -> int:
        units: int = min(getattr(by_key.get((c.sku, location)) or InventoryLevel(c.sku, location),
                           attr) // c.quantity for c in sku.components)
        return units
    return LocationStock(location, kits("on_hand"), 0, 0, kits("available"), _round(distance))


def _round(distance: float | None) -> float | None:
    return None if distance is None else round(distance, 1)
