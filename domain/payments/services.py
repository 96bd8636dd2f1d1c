"""Payment use cases: check an authorisation at checkout, move the money an order is due,
let an agent retry a failed capture, hold orders whose authorisation lapsed.

Money moves in three steps, never with a transaction open while the provider is asked:
claim (the order locked: the movement is written PENDING with its idempotency key, so it
counts against the authorisation from then on and a racing claim sees it), ask the provider
with that key, record the answer (the order locked again). A process killed between the
provider's yes and the record leaves the claim PENDING; the next attempt — the consumer's
retry, or an agent — asks again with the same key, the provider answers with the movement it
already made, and it is recorded once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from domain import access, payments
from domain.access import Principal
from domain.documents import services as documents
from domain.documents.issuing import DEMO_SELLER, Kind, Seller
from domain.kernel import errors
from domain.kernel.money import Money
from domain.kernel.ports import Clock
from domain.orders import Order, PaymentRequest
from domain.orders.payment import OFFLINE, ZERO, TransactionKind
from domain.payments.ports import (
    Authorization,
    PaymentProvider,
    Providers,
    Reader,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = logging.getLogger("promessa.payments")
CONSUMER = "payments"  # the durable consumer that calls `settle` (api/payments/consumer.py)
MAX_MOVES = 20  # per call: an order has at most a few parcels, and each moves money once


def provider_for(providers: Providers, name: str, *, field: list[str]) -> PaymentProvider:
    found = providers.get(name)
    if found is None:
        raise errors.InvalidInput(f"no payment provider {name!r} here", field=field)
    return found


async def check_at_checkout(providers: Providers, order: Order, request: PaymentRequest
                            ) -> Authorization:
    """Ask the provider what the customer authorised (no transaction open): usable, in the
    order's currency, at least its total — or the refusal, with nothing changed."""
    request = payments.check_request(request)
    if request.provider == OFFLINE:
        return Authorization(order.total, None)
    provider = provider_for(providers, request.provider, field=["payment", "provider"])
    expected = Money(request.amount, order.currency) if request.amount else order.total
    held = await provider.authorization(request.reference, expected=expected)
    payments.check_authorization(order, held.amount)
    return held


async def settle(uow: UnitOfWorkFactory, providers: Providers, number: str, *,
                 clock: Clock, seller: Seller = DEMO_SELLER) -> Order | None:
    """Move every bit of money the order is due now (captures of parcels handed over, the
    release of what will never ship), one movement at a time, each capture invoiced in the
    transaction that records it. A provider refusal or outage is recorded on the order and
    raised (PaymentDeclined / PaymentProviderUnavailable), so the caller — a durable
    consumer — retries it later with the same key. An order placed without a payment gets
    an invoice per parcel handed over instead."""
    order: Order | None = None
    for _ in range(MAX_MOVES):
        async with uow() as tx:  # 1. claim
            order = await tx.orders.get(number=number)
            if order is None:
                return order
            if order.payment is None:
                if await _bill_shipments(tx, order, seller=seller, at=clock.now()):
                    await tx.commit()
                return order
            move = payments.next_move(order)
            if move is None:
                return order
            txn = payments.claim(order, move, at=clock.now())
            provider_name = order.payment.provider
            reference = order.payment.reference
            local = move.amount == 0 or provider_name == OFFLINE
            if local:  # no money moves at a provider: recorded at once
                payments.succeeded(order, txn.id, reference=None if move.amount == 0
                                   else f"{OFFLINE}:{txn.key}", at=clock.now())
                await _bill_capture(tx, order, txn.id, seller=seller, at=clock.now())
            key, amount_due, final = txn.key, txn.amount, txn.final
            await tx.orders.save(order)
            tx.emit(*order.events)
            await tx.commit()
        if local:
            continue
        provider = provider_for(providers, provider_name, field=["orderNumber"])
        amount = Money(amount_due, order.currency)
        try:  # 2. the provider, no transaction open, with the claim's key
            if move.kind is TransactionKind.CAPTURE:
                answer = await provider.capture(reference, amount, final=final,
                                                idempotency_key=key)
            else:
                answer = await provider.void(reference, idempotency_key=key)
        except (errors.PaymentDeclined, errors.PaymentProviderUnavailable) as exc:
            await _record(uow, number, txn.id, clock=clock, seller=seller,
                          error=f"{exc.code}: {exc.message}")
            raise
        order = await _record(uow, number, txn.id, clock=clock, seller=seller,  # 3. record
                              reference=answer)
    return order


async def _bill_capture(tx: UnitOfWork, order: Order, txn_id: str, *, seller: Seller,
                        at: datetime) -> None:
    """The invoice of a capture just recorded: for its parcel — or, for a provider that
    captures once, every parcel handed over — numbered in this transaction."""
    assert order.payment is not None
    txn = next(t for t in order.payment.transactions if t.id == txn_id)
    if txn.kind is not TransactionKind.CAPTURE:
        return
    if order.payment.partial and txn.fulfillment_id is not None:
        parcels = [txn.fulfillment_id]
    else:
        parcels = [f.id for f in order.fulfillments if f.status in payments.GONE]
    # a declined capture asked again carries `#2` on its key: still the same capture
    await documents.bill(tx, order, source=f"capture:{txn.key.split('#')[0]}",
                         fulfillment_ids=parcels, amount=txn.amount, seller=seller, at=at)


async def _bill_shipments(tx: UnitOfWork, order: Order, *, seller: Seller,
                          at: datetime) -> bool:
    """Invoices of an order without a payment: one per parcel handed over, for its share
    (the first also the shipping charge) — the parcel that completes the order for what is
    left of what the order costs, as a final capture takes it. True when one was issued."""
    docs = await tx.documents.for_order(order.id)
    issued = {d.source for d in docs}
    billed = sum((d.total for d in docs if d.kind is Kind.INVOICE), ZERO)
    gone = sorted((f for f in order.fulfillments if f.status in payments.GONE),
                  key=lambda f: (f.shipped_at or f.delivered_at or order.placed_at, f.id))
    todo = [f for f in gone if f"shipment:{f.id}" not in issued]
    complete = not payments.more_to_hand_over(order, None)
    issued_now = False
    for f in todo:
        if complete and f is todo[-1]:
            # not its share: shares are rounded one by one, and where tax is added on top
            # (CH) three parcels of 24.90 × 1.081 = 26.9169 were invoiced 80.76 for an
            # order of 80.75
            amount = payments.payable(order) - billed
        else:
            amount = payments.share(order, f.id, with_shipping=billed == 0)
        doc = await documents.bill(tx, order, source=f"shipment:{f.id}",
                                   fulfillment_ids=[f.id], amount=amount, seller=seller, at=at)
        if doc is not None:
            billed, issued_now = billed + doc.total, True
    return issued_now


async def _record(uow: UnitOfWorkFactory, number: str, txn_id: str, *, clock: Clock,
                  seller: Seller, reference: str | None = None,
                  error: str | None = None) -> Order:
    async with uow() as tx:
        order = await tx.orders.get(number=number)
        assert order is not None and order.payment is not None
        if error is None:
            if payments.succeeded(order, txn_id, reference=reference, at=clock.now()):
                await _bill_capture(tx, order, txn_id, seller=seller, at=clock.now())
        else:
            payments.failed(order, txn_id, error=error, at=clock.now())
        await tx.orders.save(order)
        tx.emit(*order.events)
        await tx.commit()
        return order


async def retry_capture(uow: UnitOfWorkFactory, providers: Providers, number: str, *,
                        principal: Principal, clock: Clock,
                        seller: Seller = DEMO_SELLER) -> Order:
    """An agent asks again for a capture that failed (the provider recovered): an unanswered
    movement with its own key, a refused one with the next (`capture:<id>#2`, `payments.claim`),
    so nothing is taken twice."""
    access.require(principal, "payments.retry")
    async with uow() as tx:
        order = await tx.orders.get(number=number)
        if order is None:
            raise errors.NotFound(f"no order {number}", field=["orderNumber"])
        if order.payment is None or payments.next_move(order) is None:
            raise errors.InvalidInput(f"order {number} has no payment movement to retry",
                                      field=["orderNumber"])
    settled = await settle(uow, providers, number, clock=clock, seller=seller)
    assert settled is not None
    return settled


async def flag_lapsed(reader: Reader, uow: UnitOfWorkFactory, *, clock: Clock,
                      limit: int) -> int:
    """Hold orders whose authorisation expired before their goods shipped (a timer)."""
    now = clock.now()
    ids = await reader.lapsed_authorizations(now=now, limit=limit)
    flagged = 0
    for order_id in ids:
        async with uow() as tx:
            [order] = await tx.orders.get_many([order_id])
            if payments.flag_lapsed(order, at=now):
                await tx.orders.save(order)
                tx.emit(*order.events)
                await tx.commit()
                flagged += 1
    return flagged
