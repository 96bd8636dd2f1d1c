"""Return use cases. Each step is one transaction that locks the order first, so two requests
for the same line take turns and the second sees what the first took."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain import access, orders, payments, returns, service_desk
from domain.access import Principal, Role, lookup
from domain.catalog import Location, Sku
from domain.checkout import ordering
from domain.documents import services as documents
from domain.documents.carriers import Carriers
from domain.documents.issuing import DEMO_SELLER, Seller
from domain.fulfillment.stock import apply_moves
from domain.inventory import LedgerEntry, check_reason
from domain.kernel import errors, events
from domain.kernel.money import Money
from domain.kernel.ports import Clock, IdempotencyRecord
from domain.orders import LineRequest, Order, OrderStatus, OrderTag, PlaceOrder, lifecycle
from domain.orders.payment import OFFLINE
from domain.payments.ports import Providers
from domain.payments.services import provider_for
from domain.returns import Return, ReturnLine, refunds, status
from domain.returns import requests as return_requests
from domain.returns.policy import Resolution, ReturnMethod, ReturnPolicy, policy_for
from domain.returns.ports import (
    PaymentGateway,
    PaymentReceipt,
    Reader,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain.sourcing import Sourcer, reservation
from domain.sourcing.ports import SourcingSnapshot

S = status.ReturnStatus
REPLACEMENT_STALE = "stock kept changing while reserving the replacement; try again"
FIELD = ["returnNumber"]


@dataclass(frozen=True, slots=True)
class ReturnView:
    """A return with its order (and an exchange's replacement order) after a step."""

    ret: Return
    order: Order
    replacement: Order | None = None


@dataclass(frozen=True, slots=True)
class Eligibility:
    order: Order
    policy: ReturnPolicy
    lines: list[return_requests.LineEligibility]


def may_act(principal: Principal, order: Order, email: str | None) -> bool:
    """Customers for their own orders, guests with the order's email, staff for anyone."""
    if principal.role in (Role.AGENT, Role.ADMIN):
        return True
    if principal.role is Role.CUSTOMER:
        return principal.email is not None and principal.email.lower() == order.customer.email
    if principal.role is Role.ANONYMOUS:
        return email is not None and email.strip().lower() == order.customer.email
    return False


async def _order_for(reader: Reader, number: str, *, principal: Principal,
                     email: str | None) -> Order | None:
    """The order `number` when `principal` may act on it (`may_act`), else None; looked up as
    `lookup.order_named` says, so no timing tells a real number from an unknown one."""
    order = await lookup.order_named(reader, number, principal=principal, email=email)
    return order if order is not None and may_act(principal, order, email) else None


async def return_eligibility(reader: Reader, number: str, *, email: str | None,
                             principal: Principal, clock: Clock) -> Eligibility | None:
    """What may come back, per line; None when the order is absent or not the caller's (the
    same answer, so numbers cannot be probed)."""
    access.require(principal, "returns.read")
    order = await _order_for(reader, (number or "").strip(), principal=principal, email=email)
    if order is None:
        return None
    existing = (await reader.returns_by_order([order.id])).get(order.id, [])
    skus = await reader.skus({ln.sku for ln in order.lines})
    pickup = order.delivery.pickup_location
    locations = await reader.locations([pickup]) if pickup else {}
    policy = policy_for(order.channel)
    return Eligibility(order, policy, return_requests.eligibility(
        order, skus=skus, policy=policy, returns=existing, now=clock.now(),
        time_zone=return_requests.customer_zone(order, locations)))


async def request_return(reader: Reader, uow: UnitOfWorkFactory,
                         command: return_requests.RequestReturn, *, principal: Principal,
                         clock: Clock, sourcer: Sourcer, promise_key: bytes,
                         carriers: Carriers) -> ReturnView:
    """Open a return; auto-approved where the policy says so; an exchange reserves its
    replacement at once, held until the return is received. A parcel sent back gets its
    tracking number from the policy's carrier."""
    access.require(principal, "returns.request")
    number = (command.order_number or "").strip()
    now = clock.now()
    seen = await _order_for(reader, number, principal=principal, email=command.email)
    if seen is None:
        raise errors.NotFound(f"no order {number}", field=["orderNumber"])
    wanted_skus = {ln.sku for ln in seen.lines} | {
        r.exchange_sku for r in command.lines if r.exchange_sku}
    skus = await reader.skus(wanted_skus)
    locations = await reader.locations()
    snapshot = None
    if command.resolution is Resolution.EXCHANGE:
        snapshot = await reader.sourcing_snapshot(channel=seen.channel,
                                                  skus=sorted(wanted_skus), now=now)
    async with uow() as tx:
        order = await tx.orders.get(number=number)
        assert order is not None
        existing = await tx.returns.for_order(order.id)
        ret = _new_return(order, command, existing, skus=skus, locations=locations,
                          principal=principal, now=now, carriers=carriers)
        replacement = None
        if snapshot is not None:
            replacement = await _reserve_replacement(
                tx, order, ret, snapshot, skus=skus, principal=principal, now=now,
                sourcer=sourcer, promise_key=promise_key)
        await tx.returns.add(ret)
        await tx.orders.save(order)
        tx.emit(*order.events)
        await tx.commit()
        return ReturnView(ret, order, replacement)


def _new_return(order: Order, command: return_requests.RequestReturn,
                existing: list[Return], *, skus: dict[str, Sku],
                locations: dict[str, Location], principal: Principal,
                now: datetime, carriers: Carriers) -> Return:
    policy = policy_for(order.channel)
    lines = return_requests.eligibility(
        order, skus=skus, policy=policy, returns=existing, now=now,
        time_zone=return_requests.customer_zone(order, locations))
    wanted = return_requests.check_request(order, command, lines=lines, policy=policy)
    at = return_requests.receiver(order, method=command.method, policy=policy,
                                  skus=[skus[w.line.sku] for w in wanted], locations=locations)
    exchange = command.resolution is Resolution.EXCHANGE
    quote = refunds.quote(
        order, [refunds.Part(w.line, w.quantity, w.before) for w in wanted],
        refund_shipping=not exchange and _completes(order, existing, wanted)
        and policy.refund_original_shipping
        and not any(r.shipping_refund.amount for r in existing if r.active),
        fee=policy.fee(command.method, command.resolution),
        already=sum((r.refund_total.amount for r in existing if r.active), Decimal("0")))
    zero = Money.zero(order.currency)
    ret_id = str(uuid.uuid4())
    ret = Return(
        id=ret_id, number=f"{order.number}-R{len(existing) + 1}", order_id=order.id,
        order_number=order.number, customer_email=order.customer.email, status=S.REQUESTED,
        resolution=command.resolution, method=command.method,
        lines=[ReturnLine(str(uuid.uuid4()), w.line.id, w.line.sku, w.quantity, w.reason,
                          zero if exchange else share, w.exchange_sku)
               for w, share in zip(wanted, quote.lines, strict=True)],
        receiving_location=at.code, fee=quote.fee, shipping_refund=quote.shipping,
        refund_total=zero if exchange else quote.total, requested_at=now,
        requested_by=principal.actor)
    if command.method is ReturnMethod.SHIP_BACK:
        ret.carrier = policy.carrier
        # the return's number names the parcel: a run repeated by the retry layer, with the
        # same number, gets the same tracking number
        ret.tracking_number = carriers.carrier(policy.carrier).issue_tracking_number(
            ret.number, returning=True)
    else:
        ret.drop_off_code = uuid.uuid4().hex[:8].upper()
    value = quote.items.amount
    ret.auto_approved = (policy.auto_approve_up_to is not None
                         and value <= policy.auto_approve_up_to
                         and not order.tags & policy.manual_review_tags)
    units = ", ".join(f"{ln.quantity} × {ln.sku} ({ln.reason})" for ln in ret.lines)
    returns.record(order, ret, "RETURN_REQUESTED", f"Return {ret.number} requested: {units}; "
                   f"{ret.resolution} by {ret.method} to {at.code}; refund "
                   f"{ret.refund_total.amount} {order.currency}", actor=principal.actor, at=now,
                   public=f"Return {ret.number} requested")
    if ret.auto_approved:
        returns.approve(ret, order, actor="system", at=now)
    return ret


def _completes(order: Order, existing: list[Return],
               wanted: list[return_requests.Wanted]) -> bool:
    """Whether, with this return, every unit of the order is returned or in a return."""
    taken = return_requests.in_returns(existing)
    for w in wanted:
        taken[w.line.id] = taken.get(w.line.id, 0) + w.quantity
    return all(taken.get(ln.id, 0) >= ln.quantity - ln.cancelled for ln in order.lines)


async def _reserve_replacement(tx: UnitOfWork, order: Order, ret: Return,
                               snapshot: SourcingSnapshot, *, skus: dict[str, Sku],
                               principal: Principal, now: datetime, sourcer: Sourcer,
                               promise_key: bytes) -> Order:
    """Place the replacement order, free of charge, sourced and reserved like any order and
    held until the return is received (VIP orders ship at once where the policy says so).
    `Stale` when the stock it planned on was taken meanwhile."""
    policy = policy_for(order.channel)
    wanted: dict[str, int] = {}
    for i, ln in enumerate(ret.lines):
        sku = ln.exchange_sku or ln.sku
        price = skus[sku].price(order.currency) if sku in skus else None
        original = next(o for o in order.lines if o.id == ln.order_line_id).unit_price
        if price is None or price != original:
            raise errors.ExchangeNotEven(
                f"{sku} does not cost what {ln.sku} did ({original.amount} "
                f"{order.currency}); an exchange swaps like for like",
                field=["lines", str(i), "exchangeSku"])
        wanted[sku] = wanted.get(sku, 0) + ln.quantity
    lines = [LineRequest(sku, n) for sku, n in wanted.items()]
    command = PlaceOrder(f"return:{ret.id}", order.channel, order.customer, tuple(lines),
                         dataclasses.replace(order.delivery, promise_option_id=None),
                         order.currency)
    draft = ordering._draft(snapshot, command, lines, order.customer.email,
                            principal=principal, now=now, sourcer=sourcer,
                            promise_key=promise_key)
    rep = draft.order
    zero = Money.zero(order.currency)
    for line in rep.lines:
        line.unit_price = zero
    rep.subtotal = rep.shipping = rep.tax = rep.total = zero
    rep.tags = frozenset({OrderTag.REPLACEMENT}) | (order.tags & {OrderTag.VIP})
    if await tx.idempotency.claim(IdempotencyRecord(
            command.idempotency_key, ordering.fingerprint(command, principal), rep.id)):
        raise errors.Conflict("this return's replacement is being placed already")
    wants, levels = await reservation.hold(tx, draft.plan, draft.demands, snapshot, now,
                                           stale=REPLACEMENT_STALE)
    rep.number = await tx.orders.next_number()
    ordering._record_placement(rep, draft, levels_events=[
        events.inventory_changed(sku=lv.sku, location=lv.location, on_hand=lv.on_hand,
                                 reserved=lv.reserved, safety_stock=lv.safety_stock,
                                 reason="ORDER_RESERVED", at=now) for lv in levels])
    rep.record("REPLACEMENT_FOR", f"Replacement for return {ret.number} of order "
               f"{order.number}, free of charge", actor="system", at=now)
    orders.offer(rep, rep.fulfillments, locations=snapshot.locations, at=now)
    if not (policy.vip_exchange_ships_at_once and OrderTag.VIP in order.tags):
        service_desk.hold(rep, reason=_awaiting(ret), actor="system", at=now)
    await tx.orders.add(rep)
    await tx.inventory.append_ledger([LedgerEntry(sku, loc, 0, n, "ORDER_RESERVED", rep.number,
                                                  principal.actor, now)
                                      for sku, loc, n in wants])
    await tx.sourcing.save_decision(order_id=rep.id, kind="PLACEMENT", decision=draft.decision)
    tx.emit(*rep.events)
    ret.replacement_order_id = rep.id
    order.record("REPLACEMENT_RESERVED", f"Replacement order {rep.number} reserved for "
                 f"return {ret.number}", actor="system", at=now,
                 public="Your replacement is reserved for you")
    return rep


async def _locked(tx: UnitOfWork, number: str) -> tuple[Order, Return, list[Return]]:
    """The return's order (locked), the return and all the order's returns."""
    order_number = await tx.returns.order_number_of((number or "").strip())
    order = await tx.orders.get(number=order_number) if order_number else None
    if order is None:
        raise errors.NotFound(f"no return {number}", field=FIELD)
    existing = await tx.returns.for_order(order.id)
    ret = next(r for r in existing if r.number == number.strip())
    return order, ret, existing


async def _finish(tx: UnitOfWork, view: ReturnView) -> ReturnView:
    await tx.returns.save(view.ret)
    await tx.orders.save(view.order)
    tx.emit(*view.order.events)
    if view.replacement is not None and view.replacement.events:
        await tx.orders.save(view.replacement)
        tx.emit(*view.replacement.events)
    await tx.commit()
    return view


async def approve_return(uow: UnitOfWorkFactory, number: str, *, principal: Principal,
                         clock: Clock) -> ReturnView:
    access.require(principal, "returns.approve")
    async with uow() as tx:
        order, ret, _ = await _locked(tx, number)
        returns.approve(ret, order, actor=principal.actor, at=clock.now())
        return await _finish(tx, ReturnView(ret, order))


async def close_return(uow: UnitOfWorkFactory, number: str, *, principal: Principal,
                       clock: Clock) -> ReturnView:
    access.require(principal, "returns.approve")
    async with uow() as tx:
        order, ret, _ = await _locked(tx, number)
        returns.close(ret, order, actor=principal.actor, at=clock.now())
        return await _finish(tx, ReturnView(ret, order))


async def reject_return(uow: UnitOfWorkFactory, number: str, *, reason: str,
                        principal: Principal, clock: Clock) -> ReturnView:
    """Refuse a return; an exchange's reserved replacement is cancelled and its stock freed."""
    access.require(principal, "returns.approve")
    now = clock.now()
    async with uow() as tx:
        order, ret, _ = await _locked(tx, number)
        returns.reject(ret, order, reason=check_reason(reason, field=["reason"]),
                       actor=principal.actor, at=now)
        replacement = None
        if ret.replacement_order_id is not None:
            [replacement] = await tx.orders.get_many([ret.replacement_order_id])
            if OrderStatus.CANCELLED in lifecycle.ORDER_TRANSITIONS[replacement.status]:
                cancellation = service_desk.cancel(replacement, skus=None,
                                                   reason=f"Return {ret.number} rejected",
                                                   actor=principal.actor, at=now)
                await apply_moves(tx, cancellation.moves, reference=replacement.number,
                                  actor=principal.actor, at=now)
            elif replacement.status is not OrderStatus.CANCELLED:
                raise errors.Conflict(
                    f"the replacement order {replacement.number} is already "
                    f"{replacement.status.value}: it can no longer be taken back with the "
                    "return; settle the return instead", field=["returnNumber"])
        return await _finish(tx, ReturnView(ret, order, replacement))


async def mark_in_transit(uow: UnitOfWorkFactory, number: str, *, principal: Principal,
                          clock: Clock) -> ReturnView:
    """The carrier has the parcel (its first scan of the return label)."""
    access.require(principal, "returns.transit")
    async with uow() as tx:
        order, ret, _ = await _locked(tx, number)
        returns.in_transit(ret, order, actor=principal.actor, at=clock.now())
        return await _finish(tx, ReturnView(ret, order))


async def receive_return(uow: UnitOfWorkFactory, number: str,
                         counts: dict[str, tuple[int, int]], *, principal: Principal,
                         clock: Clock) -> ReturnView:
    """The receiving location records each unit's condition; restocked units are back on hand
    and an exchange's replacement is released to fulfillment."""
    access.require(principal, "returns.receive")
    now = clock.now()
    async with uow() as tx:
        order, ret, _ = await _locked(tx, number)
        if not access.acts_at(principal, ret.receiving_location):
            # as for a return that does not exist: not whether it exists, nor where it goes
            raise errors.NotFound(f"no return {number}", field=FIELD)
        replacement = None
        if ret.resolution is Resolution.EXCHANGE and ret.replacement_order_id is not None:
            # orders are locked before stock, as every other writer does
            [replacement] = await tx.orders.get_many([ret.replacement_order_id])
        moves = returns.receive(ret, order, counts, actor=principal.actor, at=now)
        await apply_moves(tx, moves, reference=ret.number, actor=principal.actor, at=now)
        if replacement is not None and replacement.status is not OrderStatus.CANCELLED:
            # only the hold this return put on it: a hold an agent set since stays
            if replacement.hold_reason == _awaiting(ret):
                service_desk.release_hold(replacement, reason=f"Return {ret.number} received",
                                          actor="system", at=now)
            returns.exchanged(ret, order, replacement_number=replacement.number,
                              actor="system", at=now)
        # a cancelled replacement is not announced as sent: the return stays RECEIVED (settling
        # it another way, e.g. as a refund, is not built yet)
        return await _finish(tx, ReturnView(ret, order, replacement))


async def refund_return(uow: UnitOfWorkFactory, gateway: PaymentGateway, number: str, *,
                        amount: Decimal | None, principal: Principal,
                        clock: Clock, providers: Providers | None = None,
                        seller: Seller = DEMO_SELLER) -> ReturnView:
    """Give the money back through the payment provider and record it; an agent may give a
    different amount, never more than the order has left of what it paid.

    The provider is never called while the order is locked: the refund is first claimed
    (a pending refund row counts against what was paid, so racing refunds cannot both pay),
    then the provider is asked with the claim's id as its idempotency key, then the answer is
    recorded. A provider that declines frees the claim (PAYMENT_DECLINED); one that fails
    without an answer leaves it pending, and asking again resumes it with the same key, so
    the customer is paid once.

    Money goes back through the provider the order was paid with, never more than it
    captured less what was refunded (NOTHING_CAPTURED before anything was taken); store
    credit, and orders placed without a payment, through `gateway`.
    """
    access.require(principal, "returns.refund")
    now = clock.now()
    async with uow() as tx:  # 1. claim
        order, ret, existing = await _locked(tx, number)
        claim = ret.pending_refund
        if claim is None:
            value = ret.refund_total.amount if amount is None else amount
            claim = returns.Refund(str(uuid.uuid4()), Money(value, order.currency), None, None,
                                   now, principal.actor)
            returns.claim_refund(ret, order, claim, refunded_before=_refunded(existing))
            await tx.returns.save(ret)
            await tx.commit()
        elif amount is not None and amount != claim.amount.amount:
            raise errors.Conflict(f"a refund of {claim.amount.amount} for return {ret.number} "
                                  "is in progress; ask again without an amount to finish it",
                                  field=["amount"])
    store_credit = ret.resolution is Resolution.STORE_CREDIT
    key = f"refund:{claim.id}"
    try:  # 2. the provider, no lock held
        receipt = await _pay_back(gateway, providers, order, claim.amount, key=key,
                                  store_credit=store_credit)
    except errors.PaymentDeclined:
        async with uow() as tx:
            order, ret, _ = await _locked(tx, number)
            returns.drop_refund(ret, claim.id)
            await tx.returns.save(ret)
            await tx.commit()
        raise
    async with uow() as tx:  # 3. record
        order, ret, existing = await _locked(tx, number)
        mine = next((r for r in ret.refunds if r.id == claim.id), None)
        if mine is None or not mine.pending:  # a concurrent call recorded it already
            return ReturnView(ret, order)
        paid = dataclasses.replace(mine, reference=receipt.reference,
                                   provider=receipt.provider, at=clock.now())
        returns.refund(ret, order, paid, refunded_before=_refunded(existing) - mine.amount.amount)
        if not store_credit:
            payments.refunded(order, paid.amount, key=key, reference=receipt.reference,
                              at=paid.at or clock.now())
        # the credit note, numbered in the refund's transaction (store credit too: the sale
        # is reduced all the same)
        await documents.credit(
            tx, order, source=key, returned=[(ln.order_line_id, ln.quantity) for ln in ret.lines],
            shipping=ret.shipping_refund.amount, amount=paid.amount.amount, seller=seller,
            at=paid.at or clock.now(), reason=f"Return {ret.number}")
        return await _finish(tx, ReturnView(ret, order))


async def _pay_back(gateway: PaymentGateway, providers: Providers | None, order: Order,
                    amount: Money, *, key: str, store_credit: bool) -> PaymentReceipt:
    """Through the order's provider; store credit and orders without a payment through the
    gateway; cash paid at the door or the counter is given back there."""
    p = order.payment
    if p is None or store_credit:
        return await gateway.refund(order_number=order.number, amount=amount,
                                    idempotency_key=key, store_credit=store_credit)
    if p.provider == OFFLINE:
        return PaymentReceipt(f"{OFFLINE}:{key}", OFFLINE)
    if providers is None:
        raise errors.PaymentProviderUnavailable("no payment providers are configured")
    provider = provider_for(providers, p.provider, field=["returnNumber"])
    reference = await provider.refund(p.reference, amount, idempotency_key=key)
    return PaymentReceipt(reference, p.provider)


def _awaiting(ret: Return) -> str:
    """The hold an exchange's replacement waits under until the return is received."""
    return f"Awaiting return {ret.number}"


def _refunded(returns_of_order: list[Return]) -> Decimal:
    """Given back or claimed across all of an order's returns."""
    return sum((r.refunded for r in returns_of_order), Decimal("0.00"))
