"""Small builders for sourcing tests: an Italian network, SKUs, requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal

from domain.catalog import (
    Address,
    Capability,
    HandlingClass,
    KitComponent,
    Location,
    LocationType,
    Sku,
)
from domain.inventory import Incoming
from domain.kernel.geo import GeoPoint
from domain.orders import ServiceLevel
from domain.sourcing import Candidate, Decision, Destination, SourcingRequest, demand_for
from domain.sourcing.engine import SourcingEngine
from domain.sourcing.policy import SourcingPolicy
from domain.sourcing.shipping import Downtime

# Wednesday 2 January 2030, 10:30 in Rome
NOW = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
ROME = GeoPoint(41.90, 12.49)
MILAN = GeoPoint(45.46, 9.19)
NAPLES = GeoPoint(40.85, 14.27)
BOLOGNA = GeoPoint(44.49, 11.34)
ROME_ADDRESS = Address("Via Nazionale 10", "Roma", "00184", "IT", point=ROME)
STORE_CAPS = frozenset({Capability.SHIP_FROM_STORE, Capability.PICKUP})


def sku(code: str, *, group: str = "apparel", handling: HandlingClass = HandlingClass.STANDARD,
        grams: int = 500, backorderable: bool = False, preorderable: bool = False,
        components: tuple[tuple[str, int], ...] = ()) -> Sku:
    return Sku(sku=code, name=code.title(), product_group=group, handling=handling,
               weight_grams=grams, prices={"EUR": Decimal("10.00")},
               backorderable=backorderable, preorderable=preorderable,
               components=tuple(KitComponent(c, q) for c, q in components))


def location(code: str, point: GeoPoint = ROME, *, type: LocationType = LocationType.WAREHOUSE,
             capabilities: frozenset[Capability] | None = None, channels=("web",),
             handling: frozenset[HandlingClass] = frozenset(HandlingClass),
             cutoff: time = time(16, 0), processing_hours: int = 2,
             capacity: int | None = None, per_shipment: str = "5.00", per_kg: str = "0.50",
             carbon: float = 0.1, zone: str = "Europe/Rome", country: str = "IT",
             active: bool = True) -> Location:
    if capabilities is None:
        capabilities = STORE_CAPS if type is LocationType.STORE else frozenset({Capability.SHIP})
    return Location(
        code=code, name=code, type=type,
        address=Address("Via Roma 1", "Città", "00100", country, point=point),
        capabilities=capabilities, channels=tuple(channels), handling_classes=handling,
        time_zone=zone, cutoff_time=cutoff, processing_hours=processing_hours,
        daily_capacity=capacity, cost_per_shipment=Decimal(per_shipment),
        cost_per_kg=Decimal(per_kg), carbon_factor=carbon, active=active)


def at(where: Location, **stock: int) -> Candidate:
    return Candidate(where, dict(stock))


def receipt(id: str, code: str, where: str, *, quantity: int, allocated: int = 0,
            day: int = 10) -> Incoming:
    return Incoming(id, code, where, quantity, allocated, datetime(2030, 2, day, 9, tzinfo=UTC))


def request(lines: list[tuple[Sku, int]], candidates: list[Candidate], *,
            policy: SourcingPolicy | None = None, now: datetime = NOW,
            destination: GeoPoint | None = ROME, country: str = "IT",
            service_level: ServiceLevel | None = ServiceLevel.STANDARD, pickup: str | None = None,
            incoming: dict[str, list[Incoming]] | None = None,
            downtime: dict[str, list[Downtime]] | None = None,
            load: dict[str, int] | None = None, exclude: frozenset[str] = frozenset(),
            catalog: dict[str, Sku] | None = None, unsourced: bool = False) -> SourcingRequest:
    known = {s.sku: s for s, _ in lines} | (catalog or {})
    if pickup is not None:
        store = next(c.location for c in candidates if c.location.code == pickup)
        destination, country, service_level = store.point, store.address.country, None
    return SourcingRequest(
        demands=[demand_for(i, s, n, known) for i, (s, n) in enumerate(lines)],
        candidates=candidates, policy=policy or SourcingPolicy(), now=now,
        destination=Destination(destination, country), service_level=service_level,
        pickup=pickup, incoming=incoming or {}, downtime=downtime or {}, load=load or {},
        exclude=exclude, unsourced_backorders=unsourced)


def decide(lines: list[tuple[Sku, int]], candidates: list[Candidate], **kw) -> Decision:
    return SourcingEngine().decide(request(lines, candidates, **kw))


def shipped(decision: Decision) -> dict[str, dict[str, int]]:
    """{location: {sku: units}} of a decision's shipments."""
    return {s.location: {sku: n for _, sku, n in s.lines} for s in decision.shipments}


def verdict(decision: Decision, code: str):
    return next(v for v in decision.candidates if v.location == code)


def policy(**changes) -> SourcingPolicy:
    return replace(SourcingPolicy(), **changes)
