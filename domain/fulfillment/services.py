"""Fulfillment use cases: a location works its queue, a carrier reports its scans."""

from __future__ import annotations

from datetime import datetime

from domain import access
from domain.access import Principal
from domain.fulfillment import fulfilling, scans
from domain.fulfillment.ports import UnitOfWork, UnitOfWorkFactory
from domain.fulfillment.stock import apply_moves
from domain.kernel import dates, errors
from domain.kernel.ports import Clock
from domain.orders import Fulfillment, Order, TrackingScan, TrackingStatus

MAX_SCAN_TEXT = 200


async def _order_of(tx: UnitOfWork, fulfillment_id: str, principal: Principal) -> Order:
    order = await tx.orders.get(fulfillment_id=fulfillment_id)
    if order is None:
        raise errors.NotFound(f"no fulfillment {fulfillment_id}", field=["fulfillmentId"])
    access.require_location(principal, order.fulfillment(fulfillment_id).location,
                            field=["fulfillmentId"])
    return order


async def work_on(uow: UnitOfWorkFactory, fulfillment_id: str, command: fulfilling.Command, *,
                  principal: Principal, clock: Clock) -> tuple[Order, Fulfillment]:
    """Accept, reject, pick, pack, ship, mark ready for pickup or confirm a pickup."""
    access.require(principal, "fulfillments.work")
    now = clock.now()
    async with uow() as tx:
        order = await _order_of(tx, fulfillment_id, principal)
        if isinstance(command, fulfilling.MarkReadyForPickup):
            location = order.fulfillment(fulfillment_id).location
            found = (await tx.catalog.locations([location])).get(location)
            command = fulfilling.MarkReadyForPickup(found.name if found else None)
        moves = fulfilling.work(order, fulfillment_id, command, actor=principal.actor, at=now)
        await apply_moves(tx, moves, reference=order.number, actor=principal.actor, at=now)
        await tx.orders.save(order)
        tx.emit(*order.events)
        await tx.commit()
    return order, order.fulfillment(fulfillment_id)


async def record_tracking_event(uow: UnitOfWorkFactory, fulfillment_id: str, *,
                                status: TrackingStatus, at: datetime, location: str | None,
                                description: str | None, principal: Principal,
                                clock: Clock, expected_delivery: datetime | None = None,
                                ) -> scans.Scanned:
    """Store a carrier scan once; a scan that changes nothing is not an error but says why
    (`ignored`); one dated in the future is refused (SCAN_IN_FUTURE) and changes nothing."""
    access.require(principal, "tracking.record")
    now = clock.now()
    at = scans.scan_time(at, now=now)
    if expected_delivery is not None:
        if status is not TrackingStatus.DELAYED:
            raise errors.InvalidInput("expectedDelivery goes with a DELAYED scan only",
                                      field=["expectedDelivery"])
        expected_delivery = dates.within(expected_delivery, now=now, field=["expectedDelivery"])
    scan = TrackingScan(status, at, now, _text(location, field=["location"]),
                        _text(description, field=["description"]))
    async with uow() as tx:
        order = await _order_of(tx, fulfillment_id, principal)
        ignored = scans.record_scan(order, fulfillment_id, scan, actor=principal.actor,
                                    expected=expected_delivery)
        if ignored is not scans.ScanIgnored.DUPLICATE:
            await tx.orders.save(order)
            tx.emit(*order.events)
            await tx.commit()
    return scans.Scanned(order, order.fulfillment(fulfillment_id), ignored)


def _text(value: str | None, *, field: list[str]) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_SCAN_TEXT:
        raise errors.InvalidInput(f"{field[-1]} has at most {MAX_SCAN_TEXT} characters",
                                  field=field)
    return value or None
