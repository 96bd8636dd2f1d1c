"""Receiving expected stock: onHand up, then waiting backorders served first come, first
served — in the same transaction, so no other order can take the units in between."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from domain import access, inventory
from domain.access import Principal
from domain.catalog import Location
from domain.fulfillment import fulfilling
from domain.fulfillment.fulfilling import StockMove
from domain.fulfillment.ports import UnitOfWork, UnitOfWorkFactory
from domain.fulfillment.stock import apply_moves
from domain.inventory import Incoming, InventoryLevel
from domain.kernel import errors, events
from domain.kernel.ports import Clock
from domain.orders import Order, offer


@dataclass(frozen=True, slots=True)
class Receipt:
    incoming: Incoming
    level: InventoryLevel
    allocated: list[tuple[str, int]]  # (order number, units) in the order they were served


async def receive_incoming(uow: UnitOfWorkFactory, incoming_id: str, *, quantity: int | None,
                           principal: Principal, clock: Clock) -> Receipt:
    """Mark an expected receipt received (with the quantity that really arrived)."""
    access.require(principal, "inventory.write")
    now = clock.now()
    async with uow() as tx:
        incoming = await tx.inventory.incoming(incoming_id)
        if incoming is None:
            raise errors.NotFound(f"no expected receipt {incoming_id}", field=["incomingId"])
        access.require_location(principal, incoming.location, field=["incomingId"])
        units = incoming.quantity if quantity is None else quantity
        inventory.check_units(units, what="quantity", field=["quantity"])
        if units == 0:
            raise errors.InvalidQuantity("quantity must be positive", field=["quantity"])
        # locks taken as cancelling takes them: orders, receipts, levels (placement takes levels
        # before receipts; a deadlock with it is detected by the database and retried)
        waiting = await tx.orders.waiting_backorders(incoming.sku, incoming.location,
                                                     units=units)
        orders = {o.id: o for o in await tx.orders.get_many([o for o, _ in waiting])}
        if not await tx.inventory.receive_incoming(incoming.id, units):
            raise errors.IllegalTransition(f"receipt {incoming.id}", current="RECEIVED",
                                           allowed=(), field=["incomingId"])
        [level] = await apply_moves(
            tx, [StockMove(incoming.sku, incoming.location, units, 0, "RECEIVED")],
            reference=incoming.id, actor=principal.actor, at=now)
        locations = await tx.catalog.locations([incoming.location])
        served, level = await _serve(tx, incoming, waiting, orders, level=level,
                                     units=units, actor=principal.actor, at=now,
                                     locations=locations)
        for order in {id(o): o for o, _ in served}.values():
            await tx.orders.save(order)
            tx.emit(*order.events)
        tx.emit(events.Event("INCOMING_RECEIVED", now, (events.INVENTORY_STREAM,), {
            "incoming": incoming.id, "sku": incoming.sku, "location": incoming.location,
            "quantity": units, "allocated": sum(n for _, n in served)}))
        await tx.commit()
    received = replace(incoming, received_at=now, received_quantity=units)
    return Receipt(received, level, [(o.number, n) for o, n in served])


async def _serve(tx: UnitOfWork, incoming: Incoming, waiting: list[tuple[str, str]],
                 orders: dict[str, Order], *, level: InventoryLevel, units: int, actor: str,
                 at: datetime, locations: dict[str, Location]
                 ) -> tuple[list[tuple[Order, int]], InventoryLevel]:
    """Allocate the received units to the waiting lines in turn, while any are left and
    available (safety stock is kept back); new work at a THIRD_PARTY location is offered to
    its integration."""
    served: list[tuple[Order, int]] = []
    for order_id, line_id in waiting:
        budget = min(units - sum(n for _, n in served), level.available)
        if budget <= 0:
            break
        order = orders[order_id]
        line = next(ln for ln in order.lines if ln.id == line_id)
        if line.backordered == 0:  # cancelled since we looked, before we locked the order
            continue
        take, promised_by = min(line.backordered, budget), line.incoming_id
        work_id = str(uuid.uuid4())
        moves = fulfilling.allocate_backorder(
            order, line_id, units=take, location=incoming.location,
            fulfillment_id=work_id, actor=actor, at=at)
        offer(order, [order.fulfillment(work_id)], locations=locations, at=at)
        [level] = await apply_moves(tx, moves, reference=order.number, actor=actor, at=at)
        # served from this receipt although promised against a later one: free that promise
        if promised_by and promised_by != incoming.id:
            if not await tx.inventory.release_incoming(promised_by, take):
                raise errors.Conflict(f"receipt {promised_by} does not hold the backorder of "
                                      f"{order.number}; nothing was changed")
        served.append((order, take))
    return served, level
