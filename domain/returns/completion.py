"""Completing orders (issue 16): a DELIVERED order becomes COMPLETED once its return window
has closed with no return open — a timer's doing (`complete_due`), not a request's.

The window that counts is the channel's longest (any product group's), from the order's last
delivery, in the customer's calendar: by then none of its lines may come back, whichever they
are, so completion refuses nothing the return policy would still allow. A return still open
(requested, approved, on its way, received with its refund pending) holds completion back
until it is settled. A received return marks the order PARTIALLY_RETURNED or RETURNED, which
come after COMPLETED in the lifecycle (SPEC §2): such an order is not completed.

After completion nothing changes for the customer: a return request is refused as it was
already (RETURN_WINDOW_CLOSED), and notes and tags still go on the order.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

from domain.kernel.ports import Clock
from domain.kernel.retry import Retry
from domain.orders import FulfillmentStatus, Order, OrderStatus, lifecycle
from domain.returns import Return
from domain.returns.policy import ReturnPolicy, policy_for, window_end
from domain.returns.ports import Reader, UnitOfWorkFactory
from domain.returns.requests import customer_zone
from domain.returns.status import ReturnStatus

BATCH = 100
# Returns that may still move money or stock; a rejected, settled or closed one may not.
OPEN = frozenset({ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT,
                  ReturnStatus.RECEIVED})
# A window ends at the customer's midnight after its last day: at most a day after `days` have
# passed since the delivery, and an hour more across a change to summer time.
WINDOW_SLACK = timedelta(days=1, hours=1)


def longest_window(policy: ReturnPolicy) -> int:
    """The most days any product group of the channel has to come back."""
    return max([policy.window_days, *(g.window_days for g in policy.groups.values()
                                      if g.window_days is not None)])


def window_closes(order: Order, *, time_zone: str) -> datetime | None:
    """When the channel's longest return window closes for the order's last delivery (None:
    nothing delivered); a delivery recorded without its time counts from the placement."""
    arrived = [f.delivered_at or order.placed_at for f in order.fulfillments
               if f.status is FulfillmentStatus.DELIVERED]
    if not arrived:
        return None
    return window_end(max(arrived), longest_window(policy_for(order.channel)), time_zone)


def any_open(returns: Iterable[Return]) -> bool:
    return any(r.status in OPEN or r.pending_refund is not None for r in returns)


async def complete_due(reader: Reader, uow: UnitOfWorkFactory, *, clock: Clock, run: Retry,
                       limit: int = BATCH) -> int:
    """Complete DELIVERED orders whose return window has closed with no return open, oldest
    delivery first, at most `limit`; returns how many were completed.

    Safe to run in several processes at once and again: each order is completed in one
    transaction that locks it and checks again that it is DELIVERED with no return open, so
    the second of two racing runs finds it COMPLETED and leaves it.
    """
    if limit < 1:
        return 0
    now = clock.now()
    # every order delivered before its channel's time is past its window (the reader's filter;
    # each order is still checked exactly below)
    before = {c.code: now - timedelta(days=longest_window(policy_for(c.code))) - WINDOW_SLACK
              for c in await reader.channels()}
    done = 0
    for order_id in await reader.completable_orders(before, open_returns=OPEN, limit=limit):
        if await run(functools.partial(_complete, reader, uow, order_id, now=now)):
            done += 1
    return done


async def _complete(reader: Reader, uow: UnitOfWorkFactory, order_id: str, *,
                    now: datetime) -> bool:
    seen = await reader.order_by_id(order_id)
    if seen is None:
        return False
    pickup = seen.delivery.pickup_location
    zone = customer_zone(seen, await reader.locations([pickup]) if pickup else {})
    async with uow() as tx:
        found = await tx.orders.get_many([order_id])  # locked until commit
        if not found or found[0].status is not OrderStatus.DELIVERED:
            return False
        order = found[0]
        if any_open(await tx.returns.for_order(order.id)):
            return False
        closes = window_closes(order, time_zone=zone)
        if closes is None or now < closes:
            return False
        lifecycle.complete(order, f"Order completed: its return window closed at "
                           f"{closes.isoformat()} with no return open", actor="system", at=now)
        await tx.orders.save(order)
        tx.emit(*order.events)
        await tx.commit()
    return True
