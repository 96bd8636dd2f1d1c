"""Sourcing use cases: policies, simulations, decisions, downtime — and the request builder the
order, promise and re-sourcing use cases share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from domain import access, orders
from domain.access import Principal
from domain.catalog import Address
from domain.kernel import dates, errors
from domain.kernel.events import Event
from domain.kernel.ports import Clock
from domain.orders import DeliveryMethod, LineRequest, ServiceLevel
from domain.sourcing import (
    Candidate,
    Decision,
    Demand,
    Destination,
    Sourcer,
    SourcingRequest,
    demand_for,
)
from domain.sourcing.policy import SourcingPolicy
from domain.sourcing.ports import Reader, RecordedDecision, SourcingSnapshot, UnitOfWorkFactory
from domain.sourcing.shipping import Downtime, zone

POLICY_STREAM = "sourcing"
MAX_DOWNTIME_DAYS = 366


def candidates(snapshot: SourcingSnapshot) -> list[Candidate]:
    """Every location of the channel with its available units (one pass over the levels)."""
    stock: dict[str, dict[str, int]] = {}
    for (sku, location), level in snapshot.levels.items():
        stock.setdefault(location, {})[sku] = level.available
    return [Candidate(loc, stock.get(code, {})) for code, loc in snapshot.locations.items()]


def demands_for(snapshot: SourcingSnapshot, lines: list[LineRequest]) -> list[Demand]:
    return [demand_for(i, snapshot.skus[line.sku], line.quantity, snapshot.skus)
            for i, line in enumerate(lines)]


def request_for(snapshot: SourcingSnapshot, demands: list[Demand], *, now: datetime,
                address: Address | None, service_level: ServiceLevel | None,
                pickup: str | None, policy: SourcingPolicy | None = None,
                exclude: frozenset[str] = frozenset(),
                unsourced_backorders: bool = False,
                stock: list[Candidate] | None = None) -> SourcingRequest:
    """A sourcing request for a delivery to `address` or a pickup at store `pickup`."""
    if pickup is not None:
        address = snapshot.locations[pickup].address
    assert address is not None
    return SourcingRequest(
        demands=demands, candidates=stock if stock is not None else candidates(snapshot),
        policy=policy or snapshot.policy, now=now,
        destination=Destination(address.point, address.country),
        service_level=None if pickup is not None else service_level or ServiceLevel.STANDARD,
        pickup=pickup, incoming=snapshot.incoming, downtime=snapshot.downtime,
        load=snapshot.load, exclude=exclude, unsourced_backorders=unsourced_backorders)


def local_day(snapshot: SourcingSnapshot, location: str, now: datetime) -> str:
    """The location's calendar day at `now`, the key its daily capacity is counted under."""
    return now.astimezone(zone(snapshot.locations[location].time_zone)).date().isoformat()


# --- policies ----------------------------------------------------------------------------------
async def upsert_policy(uow: UnitOfWorkFactory, policy: SourcingPolicy, *,
                        principal: Principal, clock: Clock) -> SourcingPolicy:
    """Save the next version of a channel's policy (admins)."""
    access.require(principal, "sourcing.policies.write")
    now = clock.now()
    async with uow() as tx:
        if policy.channel != "*" and policy.channel not in {
                c.code for c in await tx.catalog.channels()}:
            raise errors.UnknownChannel(f"unknown channel {policy.channel!r}",
                                        field=["channel"])
        saved = await tx.sourcing.save_policy(_stamped(policy, now, principal.actor))
        tx.emit(Event("SOURCING_POLICY_SAVED", now, (POLICY_STREAM,),
                      {"channel": saved.channel, "version": saved.version,
                       "strategy": saved.strategy.value}))
        await tx.commit()
    return saved


def _stamped(policy: SourcingPolicy, at: datetime, by: str) -> SourcingPolicy:
    return replace(policy, created_at=at, created_by=by)


async def policies(reader: Reader, *, principal: Principal, channel: str | None,
                   history: bool) -> list[SourcingPolicy]:
    """Current policies (or every version with `history`), by channel."""
    access.require(principal, "sourcing.policies.read")
    return await reader.sourcing_policies(channel=channel, history=history)


# --- decisions ---------------------------------------------------------------------------------
async def decisions_for(reader: Reader, number: str, *,
                        principal: Principal) -> list[RecordedDecision]:
    """Every decision kept for an order, latest first (agents, admins)."""
    access.require(principal, "sourcing.read")
    return await reader.sourcing_decisions(number.strip())


@dataclass(frozen=True, slots=True)
class Simulation:
    channel: str
    lines: tuple[LineRequest, ...]
    method: DeliveryMethod
    service_level: ServiceLevel | None
    address: Address | None
    pickup_location: str | None
    policy: SourcingPolicy | None = None  # try an unsaved policy


async def simulate(reader: Reader, sim: Simulation, *, principal: Principal, clock: Clock,
                   sourcer: Sourcer) -> Decision:
    """Run the engine on a hypothetical order; nothing is reserved or stored."""
    access.require(principal, "sourcing.simulate")
    lines = orders.merged_lines(sim.lines)
    now = clock.now()
    snapshot = await reader.sourcing_snapshot(channel=sim.channel,
                                              skus=[x.sku for x in lines], now=now)
    if snapshot.channel is None:
        raise errors.UnknownChannel(f"unknown channel {sim.channel!r}", field=["channel"])
    for i, line in enumerate(lines):
        if line.sku not in snapshot.skus:
            raise errors.UnknownSku(f"unknown SKU {line.sku!r}", field=["lines", str(i), "sku"])
    delivery = orders.check_delivery(
        orders.Delivery(sim.method, sim.service_level, sim.address, sim.pickup_location),
        channel=snapshot.channel.code, locations=snapshot.locations)
    return sourcer.decide(request_for(
        snapshot, demands_for(snapshot, lines), now=now, address=delivery.address,
        service_level=delivery.service_level, pickup=delivery.pickup_location,
        policy=sim.policy))


# --- downtime ----------------------------------------------------------------------------------
async def schedule_downtime(uow: UnitOfWorkFactory, *, location: str, starts_at: datetime,
                            ends_at: datetime, reason: str, principal: Principal,
                            clock: Clock) -> Downtime:
    """Take a location out of sourcing for a window (admins, integrations, its own store)."""
    access.require(principal, "network.downtime")
    access.require_location(principal, location, field=["location"])
    now = clock.now()
    starts_at = dates.within(starts_at, now=now, field=["startsAt"])
    ends_at = dates.within(ends_at, now=now, field=["endsAt"])
    if not starts_at < ends_at or (ends_at - starts_at).days > MAX_DOWNTIME_DAYS:
        raise errors.InvalidInput(f"endsAt must be after startsAt, within {MAX_DOWNTIME_DAYS} "
                                  "days", field=["endsAt"])
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise errors.InvalidInput("reason must be 1-200 characters", field=["reason"])
    window = Downtime(str(uuid.uuid4()), location, starts_at, ends_at, reason)
    async with uow() as tx:
        if location not in await tx.catalog.locations([location]):
            raise errors.UnknownLocation(f"unknown location {location!r}", field=["location"])
        await tx.sourcing.add_downtime(window, actor=principal.actor)
        tx.emit(Event("DOWNTIME_SCHEDULED", now, (POLICY_STREAM,),
                      {"location": location, "startsAt": starts_at.isoformat(),
                       "endsAt": ends_at.isoformat(), "reason": reason}))
        await tx.commit()
    return window


async def downtime_of(reader: Reader, location: str, *, principal: Principal,
                      clock: Clock) -> list[Downtime]:
    """A location's downtime that is not over yet."""
    access.require(principal, "network.downtime.read")
    return await reader.downtime(location, now=clock.now())
