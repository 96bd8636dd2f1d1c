"""Sourcing: which locations fulfil an order, and why — the vocabulary.

The engine (`engine.py`) turns a `SourcingRequest` — the demand, every location of the
channel with its stock, the policy, the clock and the network's state (downtime, today's load)
— into a `Decision`: the plan, what it costs, when it arrives, and a verdict on every location
it considered. Everything here is pre-loaded; the engine never reads anything.

The sourcing context: policies, carriers and calendars (`shipping`), the network as a request
sees it, the engine and its explanations; its use cases manage policies, simulate, and schedule
downtime.

May use: kernel, access, catalog, inventory, orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from domain.catalog import HandlingClass, Location, Sku
from domain.inventory import Incoming
from domain.kernel.geo import GeoPoint
from domain.orders import DeliveryMethod, ServiceLevel
from domain.sourcing.policy import SourcingPolicy, Strategy
from domain.sourcing.shipping import Downtime


class Reason(StrEnum):
    """Why a location was not used (for all of the order, or for one line)."""

    NO_STOCK = "NO_STOCK"
    DOWNTIME = "DOWNTIME"
    CLOSED = "CLOSED"  # its opening hours never open within the calendar's look-ahead
    CAPACITY = "CAPACITY"
    HANDLING_CLASS = "HANDLING_CLASS"
    LOCATION_TYPE = "LOCATION_TYPE"
    SPLIT_LIMIT = "SPLIT_LIMIT"
    SHIP_TOGETHER = "SHIP_TOGETHER"
    SHIP_FROM_STORE_DISABLED = "SHIP_FROM_STORE_DISABLED"
    TRANSFERS_DISABLED = "TRANSFERS_DISABLED"
    CANNOT_SHIP = "CANNOT_SHIP"
    INACTIVE = "INACTIVE"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    CUTOFF = "CUTOFF"
    EXCLUDED = "EXCLUDED"
    HIGHER_SCORE = "HIGHER_SCORE"
    PROMISED_ELSEWHERE = "PROMISED_ELSEWHERE"


@dataclass(frozen=True, slots=True)
class Demand:
    """One order line: `units` of a SKU; each unit needs `parts` (sku, quantity per unit)."""

    line: int
    sku: Sku
    units: int
    parts: tuple[tuple[str, int], ...]
    handling: frozenset[HandlingClass] = frozenset()  # of a kit's components too
    weight_grams: int = 0  # of one unit (a kit: its components)
    part_weights: tuple[int, ...] = ()  # per part, aligned with `parts`
    part_handling: tuple[HandlingClass, ...] = ()

    @property
    def handling_classes(self) -> frozenset[HandlingClass]:
        return self.handling or frozenset({self.sku.handling})


def demand_for(line: int, sku: Sku, units: int, catalog: dict[str, Sku]) -> Demand:
    """A line as sourcing sees it: a kit needs each component and all their handling."""
    if not sku.is_kit:
        return Demand(line, sku, units, ((sku.sku, 1),), frozenset({sku.handling}),
                      sku.weight_grams, (sku.weight_grams,), (sku.handling,))
    parts = tuple((c.sku, c.quantity) for c in sku.components)
    found = [catalog.get(c.sku) for c in sku.components]
    weights = tuple(p.weight_grams if p else 0 for p in found)
    handling = tuple(p.handling if p else sku.handling for p in found)
    weight = sku.weight_grams or sum(w * q for w, (_, q) in zip(weights, parts, strict=True))
    return Demand(line, sku, units, parts, frozenset({sku.handling, *handling}), weight,
                  weights, handling)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A location of the channel and its available units per SKU."""

    location: Location
    available: dict[str, int]


@dataclass(frozen=True, slots=True)
class Allocation:
    location: str
    line: int
    units: int
    component: str | None = None  # a split kit's component: `units` of it, not of the kit


@dataclass(frozen=True, slots=True)
class Backorder:
    """Units waiting for stock: a receipt (`incoming_id`), or none announced yet (None)."""

    line: int
    incoming_id: str | None
    location: str | None
    units: int
    expected_at: datetime | None = None
    sku: str | None = None  # for reading the decision later


@dataclass(slots=True)
class Plan:
    allocations: list[Allocation] = field(default_factory=list)
    backorders: list[Backorder] = field(default_factory=list)

    def reservations(self, demands: list[Demand]) -> dict[tuple[str, str], int]:
        """Units to reserve per (sku, location), components of kits expanded."""
        by_line = {d.line: d for d in demands}
        out: dict[tuple[str, str], int] = {}
        for a in self.allocations:
            parts = ((a.component, 1),) if a.component else by_line[a.line].parts
            for part, per in parts:
                key = (part, a.location)
                out[key] = out.get(key, 0) + per * a.units
        return out

    def locations(self) -> list[str]:
        return list(dict.fromkeys(a.location for a in self.allocations))


@dataclass(frozen=True, slots=True)
class Destination:
    point: GeoPoint | None
    country: str


@dataclass(frozen=True, slots=True)
class SourcingRequest:
    demands: list[Demand]
    candidates: list[Candidate]  # every location of the channel
    policy: SourcingPolicy
    now: datetime
    destination: Destination  # for pickups: the pickup store's address
    service_level: ServiceLevel | None = ServiceLevel.STANDARD  # None for pickups
    pickup: str | None = None
    incoming: dict[str, list[Incoming]] = field(default_factory=dict)
    downtime: dict[str, list[Downtime]] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)  # fulfillments assigned today
    exclude: frozenset[str] = frozenset()  # e.g. the location that rejected the work
    unsourced_backorders: bool = False  # units nobody has wait for stock instead of refusing

    @property
    def method(self) -> DeliveryMethod:
        return DeliveryMethod.SHIP if self.pickup is None else DeliveryMethod.PICKUP


@dataclass(frozen=True, slots=True)
class Shipment:
    """One fulfillment of the plan: what leaves a location, what it costs, when it arrives."""

    location: str
    lines: tuple[tuple[int, str, int], ...]  # (line, sku, units); a kit line names the kit
    cost: Decimal
    co2_grams: int
    earliest: datetime
    latest: datetime
    distance_km: float | None
    transfer_to: str | None = None


@dataclass(frozen=True, slots=True)
class LineNote:
    """Why one line could not come from a location that may have served others."""

    line: int
    sku: str
    reason: Reason


@dataclass(frozen=True, slots=True)
class Verdict:
    """The explanation for one location considered."""

    location: str
    chosen: bool
    score: float | None  # the strategy's measure of this location shipping everything alone
    reasons: tuple[Reason, ...]  # empty when chosen
    notes: tuple[LineNote, ...] = ()
    units_available: int = 0  # of the order's units this location could supply
    cost: Decimal | None = None
    days: float | None = None
    co2_grams: int | None = None
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    policy_channel: str
    policy_version: int
    strategy: Strategy
    method: DeliveryMethod
    service_level: ServiceLevel | None
    pickup: str | None
    plan: Plan
    shipments: tuple[Shipment, ...]
    candidates: tuple[Verdict, ...]
    cost: Decimal
    co2_grams: int
    earliest: datetime | None
    latest: datetime | None
    decided_at: datetime
    proven_optimal: bool = True  # False: the search budget ran out; the best plan found

    def window(self) -> tuple[datetime, datetime] | None:
        if self.earliest is None or self.latest is None:
            return None
        return self.earliest, self.latest


class Sourcer(Protocol):
    def decide(self, request: SourcingRequest, *, explained: bool = True) -> Decision:
        """The best plan under the request's policy (explained: with a verdict on every
        location); raise when there is none."""

    def honour(self, request: SourcingRequest, plan: Plan) -> Decision:
        """Explain a plan fixed in advance (a promise), or raise when it no longer holds."""
