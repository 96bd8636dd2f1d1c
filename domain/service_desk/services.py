"""Customer-service use cases: each loads one order locked, changes it, writes it back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain import access, service_desk
from domain.access import Principal, Role
from domain.catalog import Address
from domain.fulfillment.stock import apply_moves
from domain.kernel import errors
from domain.kernel.ports import Clock
from domain.orders import Order, OrderTag
from domain.service_desk.ports import UnitOfWork, UnitOfWorkFactory

Change = Callable[[Order, datetime], service_desk.Cancellation | None]


async def _change(uow: UnitOfWorkFactory, number: str, change: Change, *,
                  principal: Principal, clock: Clock) -> Order:
    now = clock.now()
    async with uow() as tx:
        order = await tx.orders.get(number=(number or "").strip())
        if order is None or not _may_touch(principal, order):
            raise errors.NotFound(f"no order {number}", field=["number"])
        cancellation = change(order, now)
        if cancellation is not None:
            await _release(tx, order, cancellation, actor=principal.actor, at=now)
        if order.events:
            await tx.orders.save(order)
            tx.emit(*order.events)
            await tx.commit()
    return order


def _may_touch(principal: Principal, order: Order) -> bool:
    """Customers reach their own orders only; to anyone else theirs do not exist."""
    return principal.role is not Role.CUSTOMER or principal.email == order.customer.email


async def _release(tx: UnitOfWork, order: Order, cancellation: service_desk.Cancellation, *,
                   actor: str, at: datetime) -> None:
    # locks taken as receiving takes them: orders, receipts, levels
    for incoming_id, units in cancellation.incoming:
        if not await tx.inventory.release_incoming(incoming_id, units):
            raise errors.Conflict(f"receipt {incoming_id} does not hold the backorder of "
                                  f"{order.number}; nothing was changed")
    await apply_moves(tx, cancellation.moves, reference=order.number, actor=actor, at=at)


async def cancel_order(uow: UnitOfWorkFactory, number: str, *, skus: list[str] | None,
                       reason: str, principal: Principal, clock: Clock,
                       policy: service_desk.ServiceDeskPolicy) -> Order:
    """Cancel a whole order or some lines, releasing what they hold, in one transaction."""
    access.require(principal, "orders.cancel")

    def change(order: Order, now: datetime) -> service_desk.Cancellation:
        if principal.role is Role.CUSTOMER:
            service_desk.check_customer_cancel(order, now=now, policy=policy)
        return service_desk.cancel(order, skus=skus, reason=reason, actor=principal.actor,
                                   at=now)

    return await _change(uow, number, change, principal=principal, clock=clock)


async def hold_order(uow: UnitOfWorkFactory, number: str, *, reason: str,
                     principal: Principal, clock: Clock) -> Order:
    access.require(principal, "orders.manage")
    return await _change(uow, number, lambda order, now: service_desk.hold(
        order, reason=reason, actor=principal.actor, at=now), principal=principal, clock=clock)


async def release_order(uow: UnitOfWorkFactory, number: str, *, reason: str | None,
                        principal: Principal, clock: Clock) -> Order:
    access.require(principal, "orders.manage")
    return await _change(uow, number, lambda order, now: service_desk.release_hold(
        order, reason=reason, actor=principal.actor, at=now), principal=principal, clock=clock)


async def update_shipping_address(uow: UnitOfWorkFactory, number: str, address: Address, *,
                                  principal: Principal, clock: Clock) -> Order:
    access.require(principal, "orders.manage")
    return await _change(uow, number, lambda order, now: service_desk.update_shipping_address(
        order, address, actor=principal.actor, at=now), principal=principal, clock=clock)


async def add_order_note(uow: UnitOfWorkFactory, number: str, text: str, *,
                         principal: Principal, clock: Clock) -> Order:
    access.require(principal, "orders.manage")
    return await _change(uow, number, lambda order, now: service_desk.add_note(
        order, text=text, actor=principal.actor, at=now), principal=principal, clock=clock)


async def retag_order(uow: UnitOfWorkFactory, number: str, *, add: frozenset[OrderTag],
                      remove: frozenset[OrderTag], principal: Principal,
                      clock: Clock) -> Order:
    access.require(principal, "orders.manage")
    return await _change(uow, number, lambda order, now: service_desk.retag(
        order, add=add, remove=remove, actor=principal.actor, at=now),
        principal=principal, clock=clock)
