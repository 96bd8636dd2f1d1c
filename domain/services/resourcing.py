"""Re-sourcing: a fulfillment its location will not do goes to the next best plan.

In one transaction: the fulfillment becomes REJECTED, its reservation is released, the same
units are reserved where the engine now says (never at a location that rejected this order's
work), new fulfillments are created, and the ledger, timeline, decision and events record it.
Units nobody can supply wait on the order line as backordered, so stock is conserved either
way. Called when a location rejects work (`rejectFulfillment`) and when a location goes into
downtime with work it has not accepted yet.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from domain import access, errors, events, inventory, orders
from domain.access import Principal
from domain.inventory import InventoryLevel, LedgerEntry
from domain.orders import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    Order,
    OrderLine,
    OrderStatus,
    TimelineEntry,
)
from domain.ports import Clock, Reader, SourcingSnapshot, UnitOfWork, UnitOfWorkFactory
from domain.services.sourcing import local_day, request_for, schedule_downtime
from domain.shipping import Downtime
from domain.sourcing import Decision, Demand, Sourcer, demand_for

T = TypeVar("T")

MAX_ATTEMPTS = 8
RESOURCABLE = (FulfillmentStatus.ASSIGNED, FulfillmentStatus.ACCEPTED)
OPEN_ORDER = (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_ALLOCATED, OrderStatus.BACKORDERED)


@dataclass(frozen=True, slots=True)
class Resourced:
    order: Order
    rejected: Fulfillment
    created: list[Fulfillment]
    decision: Decision


@dataclass(slots=True)
class _Replan:
    """The engine's new plan for a fulfillment's units, and what each demand belongs to."""

    decision: Decision
    demands: list[Demand]
    owners: list[int]  # per demand: index of its order line
    per: list[int]  # per demand: its units in one unit of the order line (kit components)


async def resource_fulfillment(reader: Reader, uow: UnitOfWorkFactory, fulfillment_id: str, *,
                               reason: str, principal: Principal, clock: Clock,
                               sourcer: Sourcer) -> Resourced:
    """Reject a fulfillment that is ASSIGNED or ACCEPTED and re-source its units."""
    access.require(principal, "fulfillments.resource")
    reason = inventory.check_reason(reason, field=["reason"])
    for _ in range(MAX_ATTEMPTS):
        order = await reader.order_by_fulfillment(fulfillment_id)
        if order is None:
            raise errors.NotFound(f"no fulfillment {fulfillment_id}", field=["fulfillmentId"])
        work = _fulfillment(order, fulfillment_id)
        access.require_location(principal, work.location, field=["fulfillmentId"])
        _check_state(work)
        now = clock.now()
        snapshot = await reader.sourcing_snapshot(
            channel=order.channel, skus=sorted({ln.sku for ln in order.lines}), now=now)
        replan = _replan(snapshot, order, work, now=now, sourcer=sourcer)
        async with uow() as tx:
            done = await _apply(tx, order, work, replan, snapshot, reason=reason, now=now,
                                actor=principal.actor)
            if done is None:
                continue
            await tx.commit()
            return done
    raise errors.Conflict("stock kept changing while re-sourcing; try again")


def _fulfillment(order: Order, fulfillment_id: str) -> Fulfillment:
    return next(f for f in order.fulfillments if f.id == fulfillment_id)


def _check_state(work: Fulfillment) -> None:
    if work.status not in RESOURCABLE:
        raise errors.IllegalTransition(
            f"fulfillment at {work.location}", current=work.status.value, allowed=(),
            target="REJECTED", why=f"only {', '.join(sorted(RESOURCABLE))} work can be "
            "rejected and re-sourced", field=["fulfillmentId"])


def _replan(snapshot: SourcingSnapshot, order: Order, work: Fulfillment, *, now: datetime,
            sourcer: Sourcer) -> _Replan:
    demands, owners, per = _demands(snapshot, order, work)
    refused = frozenset({work.location} | {f.location for f in order.fulfillments
                                           if f.status is FulfillmentStatus.REJECTED})
    delivery = order.delivery
    decision = sourcer.decide(request_for(
        snapshot, demands, now=now, address=delivery.address,
        service_level=work.service_level or delivery.service_level,
        pickup=delivery.pickup_location, exclude=refused, unsourced_backorders=True))
    return _Replan(decision, demands, owners, per)


def _demands(snapshot: SourcingSnapshot, order: Order,
             work: Fulfillment) -> tuple[list[Demand], list[int], list[int]]:
    """The fulfillment's units as demands: a kit whole when all its components are there in
    proportion, otherwise each component on its own."""
    picked: dict[str, dict[str, int]] = {}
    for fl in work.lines:
        parts = picked.setdefault(fl.order_line_id, {})
        parts[fl.sku] = parts.get(fl.sku, 0) + fl.quantity
    demands: list[Demand] = []
    owners: list[int] = []
    per: list[int] = []
    for index, line in enumerate(order.lines):
        parts = picked.get(line.id)
        if not parts:
            continue
        sku = snapshot.skus[line.sku]
        wanted = [(parts.get(c.sku, 0), c.quantity) for c in sku.components]
        kits = {have // per for have, per in wanted if have % per == 0}
        if sku.is_kit and len(kits) == 1 and set(parts) == {c.sku for c in sku.components}:
            demands.append(demand_for(len(demands), sku, kits.pop(), snapshot.skus))
            owners.append(index)
            per.append(1)
            continue
        each = {c.sku: c.quantity for c in sku.components}
        for code, quantity in parts.items():
            demands.append(demand_for(len(demands), snapshot.skus[code], quantity,
                                      snapshot.skus))
            owners.append(index)
            per.append(each.get(code, 1))
    return demands, owners, per


async def _apply(tx: UnitOfWork, order: Order, work: Fulfillment, replan: _Replan,
                 snapshot: SourcingSnapshot, *, reason: str, now: datetime,
                 actor: str) -> Resourced | None:
    """Every write of a re-sourcing; None when a reservation lost a race (try again)."""
    current = await tx.sourcing.lock_fulfillment(work.id)
    if current is None:
        raise errors.NotFound(f"no fulfillment {work.id}", field=["fulfillmentId"])
    locked = _fulfillment(current, work.id)
    if locked.status is not work.status or locked.lines != work.lines:
        _check_state(locked)
        return None  # changed since we planned: plan again
    give_back = _sum((fl.sku, work.location, fl.quantity) for fl in work.lines)
    released = await tx.inventory.release(give_back)
    if released is None:
        raise errors.Conflict(f"reservations at {work.location} do not match its work")
    plan = replan.decision.plan
    take = sorted((sku, loc, n) for (sku, loc), n in plan.reservations(replan.demands).items())
    reserved = await tx.inventory.reserve(take)
    if reserved is None or not await _claims(tx, replan, snapshot, now):
        return None
    created = _new_fulfillments(current, work, replan)
    changed = _backorder_lines(current, replan)
    timeline = _timeline(work, created, replan, reason=reason, now=now, actor=actor)
    current.fulfillments = [f for f in current.fulfillments if f.id != work.id]
    await tx.sourcing.set_fulfillment_status(work.id, FulfillmentStatus.REJECTED)
    await tx.sourcing.add_fulfillments(current, created)
    await tx.sourcing.update_order(current, changed, timeline)
    await tx.inventory.append_ledger(
        [LedgerEntry(s, loc, 0, -n, "RESOURCED_RELEASE", current.number, actor, now)
         for s, loc, n in give_back]
        + [LedgerEntry(s, loc, 0, n, "RESOURCED_RESERVE", current.number, actor, now)
           for s, loc, n in take])
    await tx.sourcing.save_decision(order_id=current.id, kind="RESOURCING",
                                    decision=replan.decision)
    tx.emit(*_events(current, work, created, released, reserved, reason=reason, at=now))
    rejected = Fulfillment(work.id, work.location, FulfillmentStatus.REJECTED, work.lines,
                           work.service_level, work.carrier, work.tracking_number,
                           work.transfer_to)
    current.fulfillments += [rejected, *created]
    current.timeline += timeline
    return Resourced(current, rejected, created, replan.decision)


def _sum(rows) -> list[tuple[str, str, int]]:
    out: dict[tuple[str, str], int] = {}
    for sku, loc, n in rows:
        out[(sku, loc)] = out.get((sku, loc), 0) + n
    return sorted((sku, loc, n) for (sku, loc), n in out.items())


async def _claims(tx: UnitOfWork, replan: _Replan, snapshot: SourcingSnapshot,
                  now: datetime) -> bool:
    plan = replan.decision.plan
    for b in plan.backorders:
        if b.incoming_id is not None and not await tx.inventory.allocate_incoming(
                b.incoming_id, b.units):
            return False
    for code in sorted(plan.locations()):
        capacity = snapshot.locations[code].daily_capacity
        if capacity is not None and not await tx.sourcing.claim_capacity(
                code, local_day(snapshot, code, now), capacity):
            return False
    return True


def _new_fulfillments(order: Order, work: Fulfillment, replan: _Replan) -> list[Fulfillment]:
    pickup = order.delivery.pickup_location
    by_location: dict[str, Fulfillment] = {}
    for a in replan.decision.plan.allocations:
        demand = replan.demands[a.line]
        line = order.lines[replan.owners[a.line]]
        f = by_location.setdefault(a.location, Fulfillment(
            str(uuid.uuid4()), a.location, FulfillmentStatus.ASSIGNED, [],
            service_level=work.service_level,
            transfer_to=pickup if pickup not in (None, a.location) else None))
        if a.component:
            per = dict(demand.parts).get(a.component, 1)
            f.lines.append(FulfillmentLine(line.id, a.component, a.units, -(-a.units // per)))
        else:
            f.lines.extend(FulfillmentLine(line.id, part, per * a.units, a.units)
                           for part, per in demand.parts)
    return list(by_location.values())


def _backorder_lines(order: Order, replan: _Replan) -> list[OrderLine]:
    """Units that found no stock wait on their order line; the order's status follows."""
    changed: dict[str, OrderLine] = {}
    for b in replan.decision.plan.backorders:
        line = order.lines[replan.owners[b.line]]
        waiting = math.ceil(b.units / replan.per[b.line])
        line.backordered = min(line.quantity, line.backordered + waiting)
        line.incoming_id = b.incoming_id or line.incoming_id
        line.status = orders.line_status(line.quantity, line.backordered)
        changed[line.id] = line
    if changed and order.status in OPEN_ORDER:
        order.status = orders.status_after_placement(order.lines)
    return list(changed.values())


def _timeline(work: Fulfillment, created: list[Fulfillment], replan: _Replan, *, reason: str,
              now: datetime, actor: str) -> list[TimelineEntry]:
    units = sum(fl.quantity for fl in work.lines)
    out = [TimelineEntry(now, "FULFILLMENT_REJECTED",
                         f"{units} units at {work.location} rejected: {reason}", actor)]
    out += [TimelineEntry(now, "RESOURCED", f"{sum(fl.quantity for fl in f.lines)} units "
                          f"re-sourced to {f.location}", "system") for f in created]
    waiting = sum(b.units for b in replan.decision.plan.backorders)
    if waiting:
        out.append(TimelineEntry(now, "BACKORDERED", f"{waiting} units wait for stock: no "
                                 "other location can supply them now", "system"))
    return out


def _events(order: Order, work: Fulfillment, created: list[Fulfillment],
            released: list[InventoryLevel], reserved: list[InventoryLevel], *, reason: str,
            at: datetime) -> list[events.Event]:
    out = [events.Event("FULFILLMENT_REJECTED", at,
                        (events.order_stream(order.number), events.ORDERS_STREAM,
                         events.location_stream(work.location)),
                        {"order": order.number, "fulfillment": work.id,
                         "location": work.location, "reason": reason}),
           events.Event("ORDER_RESOURCED", at, (events.order_stream(order.number),
                                                events.ORDERS_STREAM),
                        {"order": order.number, "status": order.status.value,
                         "from": work.location, "to": [f.location for f in created]})]
    out += [events.fulfillment_created(number=order.number, fulfillment_id=f.id,
                                       location=f.location, at=at) for f in created]
    out += [events.inventory_changed(sku=lv.sku, location=lv.location, on_hand=lv.on_hand,
                                     reserved=lv.reserved, safety_stock=lv.safety_stock,
                                     reason=why, at=at)
            for why, levels in (("RESOURCED_RELEASE", released), ("RESOURCED_RESERVE",
                                                                  reserved))
            for lv in levels]
    return out


async def take_down(reader: Reader, uow: UnitOfWorkFactory, *, location: str,
                    starts_at: datetime, ends_at: datetime, reason: str, principal: Principal,
                    clock: Clock, sourcer: Sourcer,
                    run: Callable[[Callable[[], Awaitable[T]]], Awaitable[T]]
                    ) -> tuple[Downtime, int]:
    """Schedule downtime; when it has begun, re-source the location's unaccepted work.

    Returns the window and how many fulfillments moved. Work that cannot move right now (it
    was accepted meanwhile) stays where it is.
    """
    window = await run(lambda: schedule_downtime(
        uow, location=location, starts_at=starts_at, ends_at=ends_at, reason=reason,
        principal=principal, clock=clock))
    if not window.covers(clock.now()):
        return window, 0
    moved = 0
    for fulfillment_id in await reader.fulfillments_at(location, (FulfillmentStatus.ASSIGNED,)):
        try:
            await run(lambda f=fulfillment_id: resource_fulfillment(
                reader, uow, f, reason=f"LOCATION_DOWNTIME: {reason}"[:64],
                principal=principal, clock=clock, sourcer=sourcer))
        except errors.IllegalTransition:
            continue
        moved += 1
    return window, moved
