"""Holding what a plan needs, each part behind its guard — all of it, or `Stale`.

A plan is made from a snapshot read without locks; by the time it is written another order may
have taken the units, a receipt's unpromised units or a location's last slot of the day. Each
is claimed by a guard that checks and writes in one step: the reservation guard
(`InventoryRepository.reserve`, which never lets on hand − reserved − safety stock go below
zero: no oversell), `allocate_incoming` and `claim_capacity`. The first refusal raises `Stale`;
the transaction is left uncommitted, and the one retry layer (`domain.kernel.retry`) plans
again on fresh reads. Placing an order, an exchange's replacement and re-sourcing all hold
their plans here.
"""

from __future__ import annotations

from datetime import datetime

from domain.inventory import InventoryLevel
from domain.inventory.ports import Want
from domain.kernel.retry import Stale
from domain.sourcing import Demand, Plan
from domain.sourcing.ports import ReservingUnitOfWork, SourcingSnapshot
from domain.sourcing.services import local_day


async def hold(tx: ReservingUnitOfWork, plan: Plan, demands: list[Demand],
               snapshot: SourcingSnapshot, now: datetime, *, stale: str
               ) -> tuple[list[Want], list[InventoryLevel]]:
    """Reserve the plan's units where it ships them, then its receipts and capacity; the
    wants (sku, location, units) and the levels after. `stale` says what was being done."""
    wants = sorted((sku, loc, n) for (sku, loc), n in plan.reservations(demands).items())
    levels = await tx.inventory.reserve(wants)
    if levels is None:
        raise Stale(stale)
    await claim_receipts_and_capacity(tx, plan, snapshot, now, stale=stale)
    return wants, levels


async def claim_receipts_and_capacity(tx: ReservingUnitOfWork, plan: Plan,
                                      snapshot: SourcingSnapshot, now: datetime, *,
                                      stale: str) -> None:
    """Promise the receipts the plan backorders against, and count one more fulfillment on
    today's capacity of each location it uses."""
    for b in plan.backorders:
        if b.incoming_id is not None and not await tx.inventory.allocate_incoming(
                b.incoming_id, b.units):
            raise Stale(stale)
    for code in sorted(plan.locations()):
        capacity = snapshot.locations[code].daily_capacity
        if capacity is not None and not await tx.sourcing.claim_capacity(
                code, local_day(snapshot, code, now), capacity):
            raise Stale(stale)
