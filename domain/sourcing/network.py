"""The network as one sourcing request sees it: what each location may do, what it has, what a
parcel from it costs, emits and takes — everything the search needs, computed once per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.catalog import Capability, HandlingClass, Location, LocationType, Sku
from domain.inventory import Incoming
from domain.kernel.geo import distance_km
from domain.orders import ServiceLevel
from domain.sourcing import Candidate, Demand, Reason, SourcingRequest, emissions
from domain.sourcing.policy import SourcingPolicy
from domain.sourcing.search import Problem
from domain.sourcing.shipping import (
    NOMINAL_KM,
    RATES,
    arrival,
    band,
    closed_throughout,
    dispatch_at,
    down_at,
    ready_after_transfer,
    ready_for_pickup,
    same_day_window,
)

MC_PER_CENT = 1000


@dataclass(slots=True)
class Item:
    """What leaves one location as a whole, per unit (see search.py)."""

    members: tuple[tuple[int, str | None, int], ...]  # (demand index, component, line units)
    parts: tuple[tuple[str, int], ...]  # per item unit
    units: int
    splittable: bool
    weight: int  # grams per item unit
    handling: frozenset[HandlingClass]
    groups: frozenset[str]
    backorder_sku: Sku | None = None  # a plain line that may wait for a receipt
    allowed_types: frozenset[LocationType] = frozenset(LocationType)  # by the policy's rules

    @property
    def demand_indices(self) -> list[int]:
        return list(dict.fromkeys(k for k, _, _ in self.members))


def items_for(demands: list[Demand], policy: SourcingPolicy) -> list[Item]:
    """Lines as items: kits whole or by component, ship-together groups bundled."""
    loose: list[Item] = []
    for k, d in enumerate(demands):
        groups = frozenset({d.sku.product_group})
        if d.sku.is_kit and policy.split_kits:
            for (part, per), weight, handling in zip(d.parts, d.part_weights, d.part_handling,
                                                     strict=True):
                loose.append(Item(((k, part, 1),), ((part, 1),), per * d.units,
                                  policy.split_lines, weight, frozenset({handling}), groups))
            continue
        waits = (d.sku.backorderable or d.sku.preorderable) and not d.sku.is_kit
        loose.append(Item(((k, None, 1),), d.parts, d.units, policy.split_lines, d.weight_grams,
                          d.handling_classes, groups, d.sku if waits else None))
    bundles: dict[int, list[Item]] = {}
    out: list[Item] = []
    for item in loose:
        g = policy.together_group(item.groups)
        if g is None:
            out.append(item)
        else:
            bundles.setdefault(g, []).append(item)
    out += [_bundle(members) for _, members in sorted(bundles.items())]
    for item in out:
        item.allowed_types = policy.allowed_types(item.groups, item.handling)
    return out


def _bundle(items: list[Item]) -> Item:
    parts: dict[str, int] = {}
    for item in items:
        for sku, per in item.parts:
            parts[sku] = parts.get(sku, 0) + per * item.units
    return Item(tuple((k, comp, per * item.units) for item in items
                      for k, comp, per in item.members),
                tuple(sorted(parts.items())), 1, False,
                sum(item.weight * item.units for item in items),
                frozenset().union(*(item.handling for item in items)),
                frozenset().union(*(item.groups for item in items)))


@dataclass(slots=True)
class Site:
    """One location for this request: why it may not ship, and its parcel's economics."""

    candidate: Candidate
    reasons: list[Reason] = field(default_factory=list)
    distance: float | None = None
    km: float = 0.0
    fixed_mc: int = 0
    fixed_co2_mg: int = 0  # per shipment: the parcel's last mile
    per_kg_cents: int = 0
    transfer: int = 0
    window: tuple[datetime, datetime] | None = None
    speed: int = 0

    @property
    def location(self) -> Location:
        return self.candidate.location

    @property
    def code(self) -> str:
        return self.candidate.location.code

    def unit_metrics(self, weight_grams: int) -> tuple[int, int, int]:
        """(transferred, cost m¢, line-haul CO2e mg) of one unit weighing `weight_grams`
        from here (the parcel's last mile is per shipment: `fixed_co2_mg`)."""
        co2 = emissions.line_haul_mg(weight_grams, self.km, self.location.carbon_factor)
        return self.transfer, self.per_kg_cents * weight_grams, co2

def site_cover(item: Item, candidate: Candidate) -> tuple[int, Reason | None]:
    """Units of `item` this location could supply, or why none."""
    loc = candidate.location
    if not item.handling <= loc.handling_classes:
        return 0, Reason.HANDLING_CLASS
    if loc.type not in item.allowed_types:
        return 0, Reason.LOCATION_TYPE
    stock = candidate.available
    if len(item.parts) == 1:
        sku, per = item.parts[0]
        units = stock.get(sku, 0) // per
    else:
        units = min(stock.get(sku, 0) // per for sku, per in item.parts)
    if units > 0:
        return units, None
    if len(item.members) > 1 and any(stock.get(sku, 0) for sku, _ in item.parts):
        return 0, Reason.SHIP_TOGETHER  # has some of a group that must leave together
    return 0, Reason.NO_STOCK


def sites_for(request: SourcingRequest) -> list[Site]:
    store = next((c.location for c in request.candidates if c.location.code == request.pickup),
                 None)
    return [_site(c, request, store) for c in request.candidates]


def _site(candidate: Candidate, request: SourcingRequest, store: Location | None) -> Site:
    loc = candidate.location
    site = Site(candidate)
    site.reasons = _screen(loc, request)
    dest = request.destination
    same_country = loc.address.country == dest.country
    if dest.point is not None and loc.point is not None:
        site.distance = distance_km(dest.point, loc.point)
    if request.pickup == loc.code:
        _pickup_here(site, request)
        return site
    level = ServiceLevel.STANDARD if request.pickup is not None else request.service_level
    assert level is not None
    bnd = band(site.distance, same_country=same_country)
    rate = RATES[level].get(bnd)
    site.km = site.distance if site.distance is not None else NOMINAL_KM[bnd]
    windows = request.downtime.get(loc.code, ())
    if rate is None:
        site.reasons.append(Reason.OUT_OF_RANGE)
        rate = RATES[ServiceLevel.STANDARD][bnd]
    if level is ServiceLevel.SAME_DAY:
        site.window = same_day_window(loc, request.now, windows)
        if site.window is None and not site.reasons:
            site.reasons.append(Reason.CUTOFF)
    else:
        dispatched = dispatch_at(loc, request.now, windows)
        site.window = None if dispatched is None else arrival(dispatched, rate)
    if site.window is not None and store is not None:
        site.window = ready_after_transfer(store, site.window)
        site.transfer = 1
    if site.window is None and not site.reasons:
        site.reasons.append(_unreachable(loc, request.now, store))
    site.fixed_mc = (_cents(loc.cost_per_shipment) + rate.per_shipment_cents) * MC_PER_CENT
    site.fixed_co2_mg = emissions.last_mile_mg(pickup=request.pickup is not None)
    site.per_kg_cents = _cents(loc.cost_per_kg) + rate.per_kg_cents
    site.speed = _minutes(request.now, site.window)
    return site


def _pickup_here(site: Site, request: SourcingRequest) -> None:
    """The pickup store's own stock: no carrier, no CO2e, ready after processing."""
    loc = site.location
    ready = ready_for_pickup(loc, request.now, request.downtime.get(loc.code, ()))
    if ready is None and not site.reasons:
        site.reasons.append(_unreachable(loc, request.now, None))
    site.window = None if ready is None else (ready, ready)
    site.fixed_mc = _cents(loc.cost_per_shipment) * MC_PER_CENT
    site.speed = _minutes(request.now, site.window)


def _unreachable(loc: Location, now: datetime, store: Location | None) -> Reason:
    """Why no date could be worked out: opening hours that never open (here or at the pickup
    store), else downtime."""
    if closed_throughout(loc, now) or (store is not None and closed_throughout(store, now)):
        return Reason.CLOSED
    return Reason.DOWNTIME


def _screen(loc: Location, request: SourcingRequest) -> list[Reason]:
    """Reasons this location cannot fulfil any part of the request, whatever it stocks."""
    policy, reasons = request.policy, []
    if not loc.active:
        reasons.append(Reason.INACTIVE)
    if loc.code in request.exclude:
        reasons.append(Reason.EXCLUDED)
    here = request.pickup == loc.code
    if not here:
        if request.pickup is not None and not policy.pickup_transfers:
            reasons.append(Reason.TRANSFERS_DISABLED)
        if not loc.ships():
            reasons.append(Reason.CANNOT_SHIP)
        elif not policy.ship_from_store and (loc.type is LocationType.STORE
                                             or Capability.SHIP not in loc.capabilities):
            reasons.append(Reason.SHIP_FROM_STORE_DISABLED)
    if down_at(request.downtime.get(loc.code, ()), request.now):
        reasons.append(Reason.DOWNTIME)
    if loc.daily_capacity is not None and request.load.get(loc.code, 0) >= loc.daily_capacity:
        reasons.append(Reason.CAPACITY)
    return reasons


def backorder_site(site: Site) -> bool:
    """May receipts at this location serve a backorder? (Today's state does not matter.)"""
    transient = {Reason.DOWNTIME, Reason.CLOSED, Reason.CAPACITY, Reason.CUTOFF,
                 Reason.OUT_OF_RANGE}
    return all(r in transient for r in site.reasons)


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _minutes(now: datetime, window: tuple[datetime, datetime] | None) -> int:
    if window is None:
        return 0
    return max(0, math.ceil((window[1] - now).total_seconds() / 60))


@dataclass(slots=True)
class Prepared:
    """A request turned into numbers: items, sites, coverage, and the search problem."""

    request: SourcingRequest
    items: list[Item]
    sites: list[Site]
    covers: list[list[tuple[int, Reason | None]]]  # [item][site]
    metrics: list[list[tuple[int, int, int]]]  # [item][site]: one unit's (transfer, cost, co2)
    live: list[int]  # sites in the search, by problem index
    receipts: list[list[Incoming]]  # per item, eligible receipts, earliest first
    problem: Problem

    def code(self, problem_index: int) -> str:
        return self.sites[self.live[problem_index]].code
