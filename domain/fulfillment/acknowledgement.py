"""The acknowledgement window of THIRD_PARTY locations (issue 13).

Work assigned to a THIRD_PARTY location is offered to its integration (FULFILLMENT_ASSIGNED,
delivered by webhooks); accepting it (`acceptFulfillment`) is the acknowledgement. A location
with `ack_minutes` must accept within that many minutes of the offer; work still ASSIGNED after
that is re-sourced exactly as if the location had rejected it (`resourcing`), by the system,
with a FULFILLMENT_UNACKNOWLEDGED entry saying so. A timer calls `expire_unacknowledged`.

While its order is on hold a location cannot accept the work, so held orders are left alone,
and a release restarts the window.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from domain.fulfillment import resourcing
from domain.fulfillment.ports import Reader, UnitOfWorkFactory
from domain.kernel import errors
from domain.kernel.ports import Clock
from domain.kernel.retry import Retry
from domain.sourcing import Sourcer

BATCH = 100


async def expire_unacknowledged(reader: Reader, uow: UnitOfWorkFactory, *, clock: Clock,
                                sourcer: Sourcer, run: Retry, limit: int = BATCH) -> int:
    """Re-source the work THIRD_PARTY locations left unaccepted past their window, oldest
    first, at most `limit` fulfillments; returns how many were re-sourced.

    Safe to run in several processes at once and again: each fulfillment is re-sourced in one
    transaction that locks its order and re-checks that the work is still ASSIGNED (as a
    rejection does), so a run that lost the race finds it REJECTED — or accepted meanwhile —
    and skips it.
    """
    now = clock.now()
    windows = {code: loc.ack_minutes for code, loc in (await reader.locations()).items()
               if loc.offered_work and loc.ack_minutes}
    if not windows or limit < 1:
        return 0
    deadlines = {code: now - timedelta(minutes=minutes) for code, minutes in windows.items()}
    moved = 0
    for work in await reader.unacknowledged_work(deadlines, limit=limit):
        try:
            await run(functools.partial(
                resourcing.resource_unacknowledged, reader, uow, work.fulfillment_id,
                minutes=windows[work.location], since=deadlines[work.location], clock=clock,
                sourcer=sourcer))
        except errors.DomainError:
            continue  # accepted, rejected or moved meanwhile, or still racing: the next run
        moved += 1
    return moved
