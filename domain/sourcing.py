"""Sourcing: which locations fulfil an order. A first rule behind a small interface.

Rule: one location that can ship everything (nearest first); otherwise the fewest locations,
taking at each step the location that covers the most remaining units (nearest on ties). A
kit unit takes all its components from one location. What stock cannot cover is backordered
against incoming stock when the SKU allows it; otherwise the order is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain import errors
from domain.catalog import Capability, Location, LocationType, Sku
from domain.inventory import Incoming

TYPE_RANK = {LocationType.WAREHOUSE: 0, LocationType.THIRD_PARTY: 1, LocationType.STORE: 2,
             LocationType.SUPPLIER: 3}


@dataclass(frozen=True, slots=True)
class Demand:
    """One order line: `units` of a SKU; each unit needs `parts` (sku, quantity per unit)."""

    line: int
    sku: Sku
    units: int
    parts: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    location: Location
    distance_km: float | None
    available: dict[str, int]

    def units_of(self, demand: Demand) -> int:
        if not self.location.accepts(demand.sku.handling):
            return 0
        return min(self.available.get(part, 0) // per for part, per in demand.parts)

    def rank(self) -> tuple[float, int, str]:
        distance = float("inf") if self.distance_km is None else self.distance_km
        return (distance, TYPE_RANK[self.location.type], self.location.code)


@dataclass(frozen=True, slots=True)
class Allocation:
    location: str
    line: int
    units: int


@dataclass(frozen=True, slots=True)
class Backorder:
    line: int
    incoming_id: str
    location: str
    units: int


@dataclass(slots=True)
class Plan:
    allocations: list[Allocation] = field(default_factory=list)
    backorders: list[Backorder] = field(default_factory=list)

    def reservations(self, demands: list[Demand]) -> dict[tuple[str, str], int]:
        """Units to reserve per (sku, location), components of kits expanded."""
        by_line = {d.line: d for d in demands}
        out: dict[tuple[str, str], int] = {}
        for a in self.allocations:
            for part, per in by_line[a.line].parts:
                key = (part, a.location)
                out[key] = out.get(key, 0) + per * a.units
        return out


class Sourcer(Protocol):
    def plan(self, demands: list[Demand], candidates: list[Candidate], *,
             incoming: dict[str, list[Incoming]], pickup: str | None) -> Plan: ...


def eligible(location: Location, *, channel: str, pickup: str | None) -> bool:
    """Can this location fulfil for the channel and delivery method at all?"""
    if not location.active or channel not in location.channels:
        return False
    if pickup is not None:
        return location.code == pickup
    return bool(location.capabilities & {Capability.SHIP, Capability.SHIP_FROM_STORE})


class FewestLocationsSourcer:
    """The first rule of SPEC §1 sourcing; the orchestration engine replaces it later."""

    def plan(self, demands: list[Demand], candidates: list[Candidate], *,
             incoming: dict[str, list[Incoming]], pickup: str | None) -> Plan:
        ranked = sorted(candidates, key=Candidate.rank)
        stock = {c.location.code: dict(c.available) for c in ranked}
        remaining = {d.line: d.units for d in demands}
        plan = Plan()

        def take(candidate: Candidate, demand: Demand, units: int) -> None:
            plan.allocations.append(Allocation(candidate.location.code, demand.line, units))
            remaining[demand.line] -= units
            for part, per in demand.parts:
                stock[candidate.location.code][part] -= per * units

        def coverage(candidate: Candidate) -> int:
            current = Candidate(candidate.location, candidate.distance_km,
                                stock[candidate.location.code])
            return sum(min(remaining[d.line], current.units_of(d)) for d in demands)

        # max() keeps the first of equals, and `ranked` is nearest first.
        total = sum(remaining.values())
        whole = next((c for c in ranked if coverage(c) == total), None)
        if whole is not None:
            self._fill(whole, demands, remaining, stock, take)
        while any(remaining.values()):
            best = max(ranked, key=coverage, default=None)
            if best is None or coverage(best) == 0:
                break
            self._fill(best, demands, remaining, stock, take)
        self._backorder(demands, remaining, incoming, plan)
        return plan

    @staticmethod
    def _fill(candidate: Candidate, demands: list[Demand], remaining: dict[int, int],
              stock: dict[str, dict[str, int]], take) -> None:
        for demand in demands:
            current = Candidate(candidate.location, candidate.distance_km,
                                stock[candidate.location.code])
            units = min(remaining[demand.line], current.units_of(demand))
            if units > 0:
                take(candidate, demand, units)

    @staticmethod
    def _backorder(demands: list[Demand], remaining: dict[int, int],
                   incoming: dict[str, list[Incoming]], plan: Plan) -> None:
        short = []
        for demand in demands:
            units = remaining[demand.line]
            if units == 0:
                continue
            sku = demand.sku
            receipt = None
            if (sku.backorderable or sku.preorderable) and not sku.is_kit:
                receipt = next((r for r in sorted(incoming.get(sku.sku, ()),
                                                  key=lambda r: (r.expected_at, r.id))
                                if r.unallocated >= units), None)
            if receipt is None:
                short.append(demand)
                continue
            plan.backorders.append(Backorder(demand.line, receipt.id, receipt.location, units))
            remaining[demand.line] = 0
        if short:
            names = ", ".join(d.sku.sku for d in short)
            raise errors.InsufficientStock(
                f"not enough stock for {names}", field=["lines", str(short[0].line)],
                skus=tuple(d.sku.sku for d in short))

