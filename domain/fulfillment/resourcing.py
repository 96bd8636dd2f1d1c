"""Re-sourcing: a fulfillment its location will not do goes to the next best plan.

In one transaction, on the order aggregate (`tx.orders.get` … `tx.orders.save`): the
fulfillment becomes REJECTED with its reason, its reservation is released, the same units are
reserved where the engine now says (never at a location that rejected this order's work) as new
ASSIGNED fulfillments, units only incoming stock can supply are backordered against that
receipt, and whatever no location can supply leaves the order ON_HOLD for an agent. Statuses
are derived by the lifecycle (`fulfilling.reroute` → `lifecycle.settle`); the ledger,
timeline, events and the engine's decision record it. Called when a location rejects work
(`rejectFulfillment`), when a location goes into downtime with work it has not accepted yet,
and when a THIRD_PARTY location lets its acknowledgement window pass (`acknowledgement`).
New work at a THIRD_PARTY location is offered to its integration (FULFILLMENT_ASSIGNED).
"""

from __future__ import annotations

import functools
import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import access, inventory, orders
from domain.access import Principal
from domain.fulfillment import fulfilling
from domain.fulfillment.fulfilling import Reroute, Waiting
from domain.fulfillment.ports import Reader, UnitOfWork, UnitOfWorkFactory
from domain.fulfillment.stock import apply_moves, try_moves
from domain.kernel import errors
from domain.kernel.ports import Clock
from domain.kernel.retry import Retry, Stale
from domain.orders import Fulfillment, FulfillmentLine, FulfillmentStatus, Order, lifecycle
from domain.orders.lifecycle import WorkContext
from domain.sourcing import Decision, Demand, Sourcer, demand_for, reservation
from domain.sourcing.ports import SourcingSnapshot
from domain.sourcing.services import request_for, schedule_downtime
from domain.sourcing.shipping import Downtime

STALE = "stock kept changing while re-sourcing; try again"
NOT_ACKNOWLEDGED = "NOT_ACKNOWLEDGED"  # the reason of work a location did not accept in time
SYSTEM = "system"


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
    refused: frozenset[str]  # the locations excluded: they rejected this order's work
    to: str | None = None  # an agent's choice: only this location may take the work


async def resource_fulfillment(reader: Reader, uow: UnitOfWorkFactory, fulfillment_id: str, *,
                               reason: str, principal: Principal, clock: Clock,
                               sourcer: Sourcer,
                               permission: str = "fulfillments.resource") -> Resourced:
    """Reject a fulfillment that is ASSIGNED or ACCEPTED and re-source its units.

    `permission` is what the caller needs: `fulfillments.work` for a location rejecting its
    own work, `fulfillments.resource` for re-sourcing on the network's behalf (downtime).
    """
    access.require(principal, permission)
    return await _resource(reader, uow, fulfillment_id, reason=reason, principal=principal,
                           clock=clock, sourcer=sourcer, moved=False, to=None)


async def reroute_fulfillment(reader: Reader, uow: UnitOfWorkFactory, fulfillment_id: str, *,
                              to: str | None, reason: str, principal: Principal, clock: Clock,
                              sourcer: Sourcer) -> Resourced:
    """An agent moves ASSIGNED or ACCEPTED work away from its location.

    With `to`, all of its units go to that location or nothing changes
    (LOCATION_CANNOT_SUPPLY, with the engine's reasons); without, the engine picks the next
    best plan exactly as when the location rejects the work (backorders, hold).
    """
    access.require(principal, "fulfillments.reroute")
    return await _resource(reader, uow, fulfillment_id, reason=reason, principal=principal,
                           clock=clock, sourcer=sourcer, moved=True, to=to)


async def resource_unacknowledged(reader: Reader, uow: UnitOfWorkFactory,
                                  fulfillment_id: str, *, minutes: int, since: datetime,
                                  clock: Clock, sourcer: Sourcer) -> Resourced:
    """The system re-sources ASSIGNED work its location did not accept within `minutes`, as
    if the location had rejected it (reason NOT_ACKNOWLEDGED).

    Refused (IllegalTransition) when the work was accepted, rejected or moved meanwhile, or
    has not been acceptable for `minutes` since `since` (its order is on hold, or was
    released from a hold after `since`): a location cannot accept work of a held order.
    """
    order = await _order_of(reader, fulfillment_id)
    work = order.fulfillment(fulfillment_id)
    if work.status is not FulfillmentStatus.ASSIGNED or not _acceptable_since(order, since):
        raise errors.IllegalTransition(
            f"fulfillment at {work.location}", current=work.status.value, target="REJECTED",
            allowed=(), field=["fulfillmentId"],
            why=f"only work left unaccepted for {minutes} minutes is re-sourced by the system")
    return await _move(reader, uow, order, work, reason=NOT_ACKNOWLEDGED, actor=SYSTEM,
                       clock=clock, sourcer=sourcer, moved=False, to=None,
                       unacknowledged=minutes)


def _acceptable_since(order: Order, since: datetime) -> bool:
    """The order has not been on hold since `since` (its location could accept the work)."""
    return order.hold_reason is None and not any(
        t.type == "ORDER_RELEASED" and t.at >= since for t in order.timeline)


async def _order_of(reader: Reader, fulfillment_id: str) -> Order:
    order = await reader.order_by_fulfillment(fulfillment_id)
    if order is None:
        raise errors.NotFound(f"no fulfillment {fulfillment_id}", field=["fulfillmentId"])
    return order


async def _resource(reader: Reader, uow: UnitOfWorkFactory, fulfillment_id: str, *,
                    reason: str, principal: Principal, clock: Clock, sourcer: Sourcer,
                    moved: bool, to: str | None) -> Resourced:
    """`moved`: an agent moves the work (rather than its location or downtime rejecting it);
    `to`: the one location that must take all of it."""
    reason = inventory.check_reason(reason, field=["reason"])
    order = await _order_of(reader, fulfillment_id)
    work = order.fulfillment(fulfillment_id)
    access.require_location(principal, work.location, field=["fulfillmentId"])
    return await _move(reader, uow, order, work, reason=reason, actor=principal.actor,
                       clock=clock, sourcer=sourcer, moved=moved, to=to)


async def _move(reader: Reader, uow: UnitOfWorkFactory, order: Order, work: Fulfillment, *,
                reason: str, actor: str, clock: Clock, sourcer: Sourcer, moved: bool,
                to: str | None, unacknowledged: int | None = None) -> Resourced:
    """Plan on a fresh snapshot, then write it all in one transaction (or `Stale`)."""
    _check_state(order, work)
    now = clock.now()
    snapshot = await reader.sourcing_snapshot(
        channel=order.channel, skus=sorted({ln.sku for ln in order.lines}), now=now)
    if to is not None:
        _check_target(snapshot, order, work, to)
    replan = _replan(snapshot, order, work, now=now, sourcer=sourcer, to=to)
    async with uow() as tx:
        done = await _apply(tx, work, replan, snapshot, reason=reason, now=now, actor=actor,
                            moved=moved, unacknowledged=unacknowledged)
        await tx.commit()
        return done


def _check_target(snapshot: SourcingSnapshot, order: Order, work: Fulfillment,
                  to: str) -> None:
    if to not in snapshot.locations:
        raise errors.UnknownLocation(f"unknown location {to!r}", field=["toLocation"])
    if to == work.location:
        raise errors.InvalidInput(f"the work is already at {to}", field=["toLocation"])
    if to in _refused(order, work):
        raise errors.LocationCannotSupply(f"{to} already rejected this order's work",
                                          field=["toLocation"])


def _check_state(order: Order, work: Fulfillment) -> None:
    """Only work the lifecycle lets become REJECTED (ASSIGNED, ACCEPTED) is re-sourced."""
    lifecycle_allowed = lifecycle.fulfillment_next(work.status,
                                                   WorkContext(order.delivery.method))
    if FulfillmentStatus.REJECTED not in lifecycle_allowed:
        raise errors.IllegalTransition(
            f"fulfillment at {work.location}", current=work.status.value,
            allowed=lifecycle_allowed, target="REJECTED",
            why="only ASSIGNED or ACCEPTED work can be rejected and re-sourced",
            field=["fulfillmentId"])


def _refused(order: Order, work: Fulfillment) -> frozenset[str]:
    return frozenset({work.location} | {f.location for f in order.fulfillments
                                         if f.status is FulfillmentStatus.REJECTED})


def _replan(snapshot: SourcingSnapshot, order: Order, work: Fulfillment, *, now: datetime,
            sourcer: Sourcer, to: str | None = None) -> _Replan:
    demands, owners, per = _demands(snapshot, order, work)
    refused = _refused(order, work)
    exclude = refused if to is None else refused | (frozenset(snapshot.locations) - {to})
    delivery = order.delivery
    request = request_for(
        snapshot, demands, now=now, address=delivery.address,
        service_level=work.service_level or delivery.service_level,
        pickup=delivery.pickup_location, exclude=exclude, unsourced_backorders=to is None)
    if to is None:
        return _Replan(sourcer.decide(request), demands, owners, per, refused)
    try:
        decision = sourcer.decide(request)
    except errors.DomainError as e:
        raise errors.LocationCannotSupply(f"{to} cannot take all of this work now: {e}",
                                          field=["toLocation"]) from e
    if decision.plan.backorders:
        raise errors.LocationCannotSupply(f"{to} cannot take all of this work now: some units "
                                          "would wait for incoming stock", field=["toLocation"])
    return _Replan(decision, demands, owners, per, refused, to)


def _demands(snapshot: SourcingSnapshot, order: Order,
             work: Fulfillment) -> tuple[list[Demand], list[int], list[int]]:
    """The fulfillment's units as demands: a kit whole when all its components are there in
    proportion, otherwise each component on its own."""
    picked: dict[str, dict[str, int]] = {}
    for fl in work.lines:
        of_line = picked.setdefault(fl.order_line_id, {})
        of_line[fl.sku] = of_line.get(fl.sku, 0) + fl.quantity
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


async def _apply(tx: UnitOfWork, work: Fulfillment, replan: _Replan,
                 snapshot: SourcingSnapshot, *, reason: str, now: datetime,
                 actor: str, moved: bool = False, unacknowledged: int | None = None
                 ) -> Resourced:
    """Every write of a re-sourcing; `Stale` when the order or stock moved since the plan was
    made (the transaction is left unwritten and the retry layer plans again)."""
    order = await tx.orders.get(fulfillment_id=work.id)  # locked until commit
    if order is None:
        raise errors.NotFound(f"no fulfillment {work.id}", field=["fulfillmentId"])
    locked = order.fulfillment(work.id)
    if (locked.status is not work.status or locked.lines != work.lines
            or _refused(order, locked) != replan.refused
            or (unacknowledged is not None and order.hold_reason is not None)):
        _check_state(order, locked)
        raise Stale(STALE)
    plan = _reroute(order, work, replan)
    moves = fulfilling.reroute(order, work.id, plan, reason=reason, actor=actor, at=now,
                               moved=moved, unacknowledged=unacknowledged)
    orders.offer(order, plan.fulfillments, locations=snapshot.locations, at=now)
    # the rejecting location's reservation must be there; the new ones may have been taken
    await apply_moves(tx, [m for m in moves if m.reserved < 0], reference=order.number,
                      actor=actor, at=now)
    if await try_moves(tx, [m for m in moves if m.reserved > 0], reference=order.number,
                       actor=actor, at=now) is None:
        raise Stale(STALE)
    await reservation.claim_receipts_and_capacity(tx, replan.decision.plan, snapshot, now,
                                                  stale=STALE)
    await tx.sourcing.save_decision(order_id=order.id, kind="RESOURCING",
                                    decision=replan.decision)
    await tx.orders.save(order)
    tx.emit(*order.events)
    return Resourced(order, locked, list(plan.fulfillments), replan.decision)


def _reroute(order: Order, work: Fulfillment, replan: _Replan) -> Reroute:
    """The engine's plan as the lifecycle's terms: new work, and units waiting for a receipt
    (units with no receipt to wait for are left out: they hold the order for an agent)."""
    waiting: dict[tuple[str, str], Waiting] = {}
    for b in replan.decision.plan.backorders:
        if b.incoming_id is None:
            continue
        line = order.lines[replan.owners[b.line]]
        units = math.ceil(b.units / replan.per[b.line])
        key = (line.id, b.incoming_id)
        had = waiting.get(key)
        waiting[key] = Waiting(line.id, units + (had.units if had else 0), b.incoming_id,
                               b.location)
    return Reroute(tuple(_new_fulfillments(order, work, replan)), tuple(waiting.values()))


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


async def take_down(reader: Reader, uow: UnitOfWorkFactory, *, location: str,
                    starts_at: datetime, ends_at: datetime, reason: str, principal: Principal,
                    clock: Clock, sourcer: Sourcer,
                    run: Retry
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
            await run(functools.partial(
                resource_fulfillment, reader, uow, fulfillment_id,
                reason=f"LOCATION_DOWNTIME: {reason}"[:64], principal=principal, clock=clock,
                sourcer=sourcer))
        except errors.IllegalTransition:
            continue
        moved += 1
    return window, moved
