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
from domain.catalog import Capability, HandlingClass, Location, LocationType, Sku
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
    handling: frozenset[HandlingClass] = frozenset()  # of a kit's components too

    def accepted_by(self, location: Location) -> bool:
        return all(location.accepts(h) for h in self.handling or {self.sku.handling})


@dataclass(frozen=True, slots=True)
class Candidate:
    location: Location
    distance_km: float | None
    available: dict[str, int]

    def units_of(self, demand: Demand) -> int:
        if not demand.accepted_by(self.location):
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
        # Greedy cover: the location whose stock covers the most remaining units, nearest on
        # ties (max() keeps the first of equals and `ranked` is nearest first). A location
        # that has everything covers all, so it wins when there is one.
        while any(remaining.values()) and ranked:
            fills = [(c, self._fill(c, demands, remaining, stock[c.location.code]))
                     for c in ranked]
            best, fill = max(fills, key=lambda x: sum(units for _, units in x[1]))
            if not fill:
                break
            for demand, units in fill:
                plan.allocations.append(Allocation(best.location.code, demand.line, units))
                remaining[demand.line] -= units
                for part, per in demand.parts:
                    stock[best.location.code][part] -= per * units
        eligible_for = {d.line: {c.location.code for c in ranked if d.accepted_by(c.location)}
                        for d in demands}
        self._backorder(demands, remaining, incoming, plan, eligible_for)
        return plan

    @staticmethod
    def _fill(candidate: Candidate, demands: list[Demand], remaining: dict[int, int],
              stock: dict[str, int]) -> list[tuple[Demand, int]]:
        """What this location would take, line by line, from what it has left."""
        left = dict(stock)
        fill = []
        for demand in demands:
            units = min(remaining[demand.line],
                        Candidate(candidate.location, candidate.distance_km, left).units_of(demand))
            if units > 0:
                fill.append((demand, units))
                for part, per in demand.parts:
                    left[part] = left.get(part, 0) - per * units
        return fill

    @staticmethod
    def _backorder(demands: list[Demand], remaining: dict[int, int],
                   incoming: dict[str, list[Incoming]], plan: Plan,
                   eligible_for: dict[int, set[str]]) -> None:
        """Backorder what stock cannot cover against receipts at locations that could ship
        the line (for pickup: the pickup store itself), earliest first."""
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
                                if r.unallocated >= units
                                and r.location in eligible_for[demand.line]), None)
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

