"""Payments: what an order's authorisation becomes — captured as parcels leave, released when
nothing more will ship, refunded through the provider it was taken with.

The payments context: which movement of money an order is due next (`next_move`), the share
of a parcel, the checks at checkout, and the use cases that claim a movement, ask the
provider with no transaction open and record the answer (`services`). The payment record
itself belongs to the order (`domain.orders.payment`), written in the order's transaction.

Capture on shipment: each fulfillment handed to the carrier (or, for a pickup, to the
customer) captures its lines at their prices with their tax, the first one also the
shipping; the last one captures what is left of the order's total less what was cancelled,
and releases the rest of the authorisation. Cancelled lines are not released from the
authorisation when they are cancelled: the order simply captures less at shipment, and what
is left is released with the last capture (or voided, when nothing ships at all). `offline`
payments are captured when the goods are delivered or collected.

May use: kernel, access, catalog, orders, documents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.kernel import errors, tax
from domain.kernel.money import CENT, Money, to_amount
from domain.orders import FulfillmentStatus, Order, OrderStatus, PaymentRequest, lifecycle
from domain.orders.payment import (
    OFFLINE,
    ZERO,
    Payment,
    Transaction,
    TransactionKind,
    TransactionStatus,
)

BUILT_IN = ("test", OFFLINE)
MAX_REFERENCE = 200
# handed over: a parcel with the carrier or delivered, a pickup collected
GONE = frozenset({*lifecycle.WITH_CARRIER, FulfillmentStatus.DELIVERED})
# orders that may still be held when their authorisation lapses (work left to hand over)
LAPSE_STATUSES = frozenset({
    OrderStatus.PLACED, OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_ALLOCATED,
    OrderStatus.BACKORDERED, OrderStatus.IN_FULFILLMENT, OrderStatus.READY_FOR_PICKUP,
    OrderStatus.PARTIALLY_SHIPPED})


@dataclass(frozen=True, slots=True)
class Move:
    """The next movement of money an order is due."""

    kind: TransactionKind
    amount: Decimal
    key: str
    fulfillment_id: str | None = None
    final: bool = False


def check_request(request: PaymentRequest) -> PaymentRequest:
    provider = (request.provider or "").strip().lower()
    reference = (request.reference or "").strip()
    if not provider or len(provider) > 40 or not provider.isprintable():
        raise errors.InvalidInput("payment.provider must name a payment provider",
                                  field=["payment", "provider"])
    if not 1 <= len(reference) <= MAX_REFERENCE or not reference.isprintable():
        raise errors.InvalidInput(f"payment.reference must be 1-{MAX_REFERENCE} printable "
                                  "characters", field=["payment", "reference"])
    amount = request.amount
    if amount is not None:
        if provider == OFFLINE:
            raise errors.InvalidInput("an offline payment has no amount: it is what the order "
                                      "costs, collected on delivery", field=["payment", "amount"])
        # finite, in range, whole cents (NaN, Infinity and 1e30 included)
        exact = to_amount(amount, field=["payment", "amount"])
        if exact != amount or exact <= 0:
            raise errors.InvalidInput("payment.amount must be more than zero, in whole cents",
                                      field=["payment", "amount"])
        amount = exact
    return PaymentRequest(provider, reference, amount)


def check_authorization(order: Order, held: Money) -> None:
    """The authorisation must be in the order's currency and cover its total."""
    if held.currency != order.currency:
        raise errors.PaymentDeclined(
            f"the payment is in {held.currency}, the order in {order.currency}",
            field=["payment", "reference"])
    if held.amount < order.total.amount:
        raise errors.PaymentAmountTooLow(
            f"the payment holds {held.amount} {held.currency}, the order costs "
            f"{order.total.amount} {order.currency}", field=["payment", "amount"])


def authorize(order: Order, request: PaymentRequest, held: Money, *,
              expires_at: datetime | None, at: datetime, partial: bool = True) -> None:
    """Attach the checked authorisation to a new order (before its placement is recorded);
    `partial`: the provider may capture it parcel by parcel."""
    order.payment = Payment(request.provider, request.reference, held.amount, expires_at, [
        Transaction(str(uuid.uuid4()), TransactionKind.AUTHORIZATION, held.amount,
                    TransactionStatus.SUCCEEDED, f"authorization:{order.id}", at,
                    reference=request.reference)], partial=partial)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _gross(order: Order, units: dict[str, int], *, with_shipping: bool) -> Decimal:
    """`units` of order lines (by line id), and the shipping charge, as the customer was
    charged them (`Order.charged`: where tax is added, each line at its own rate — a parcel
    of reduced-rate goods is not taken at the order's blended rate), unrounded."""
    by_id = {ln.id: ln for ln in order.lines}
    goods = sum((order.charged(by_id[i].unit_price.amount * n, by_id[i])
                 for i, n in units.items()), ZERO)
    return goods + (order.charged(order.shipping.amount) if with_shipping else ZERO)


def share(order: Order, fulfillment_id: str, *, with_shipping: bool) -> Decimal:
    """What one fulfillment's goods cost the customer, tax included (a kit counts once)."""
    f = order.fulfillment(fulfillment_id)
    units = {fl.order_line_id: fl.units for fl in f.lines}
    return _cents(_gross(order, units, with_shipping=with_shipping))


def payable(order: Order) -> Decimal:
    """The order's total less what was cancelled, tax included. Where tax is added, what is
    left is charged as `orders.totals` charged the whole: each rate's tax rounded once, the
    shipping at the goods' highest rate (so it equals the sum of what is left's shares, to
    the cent, whichever ships or is cancelled first)."""
    if all(ln.cancelled == ln.quantity for ln in order.lines):
        return ZERO
    if not any(ln.cancelled for ln in order.lines):
        return order.total.amount
    rates = [ln.vat_rate for ln in order.lines if ln.vat_rate is not None]
    if order.tax_added and len(rates) == len(order.lines):
        left = [(ln.unit_price.amount * (ln.quantity - ln.cancelled), rate)
                for ln, rate in zip(order.lines, rates, strict=True)]
        left.append((order.shipping.amount, max(rates)))  # the goods' highest, as placed
        return sum((a for a, _ in left), ZERO) + tax.added_by_rate(left)
    cancelled = {ln.id: ln.cancelled for ln in order.lines if ln.cancelled}
    return max(ZERO, order.total.amount - _cents(_gross(order, cancelled,
                                                        with_shipping=False)))


def due(order: Order, payment: Payment) -> list[str]:
    """Fulfillments handed over whose capture was not claimed yet, in order of handing."""
    handed = [f for f in order.fulfillments if f.status in GONE and (
        payment.provider != OFFLINE or f.status is FulfillmentStatus.DELIVERED)]
    handed.sort(key=lambda f: (f.shipped_at or f.delivered_at or order.placed_at, f.id))
    return [f.id for f in handed if payment.capture_for(f.id) is None]


def more_to_hand_over(order: Order, payment: Payment | None) -> bool:
    """Units still to go (to be delivered, for `offline`; no payment: to be handed over)."""
    offline = payment is not None and payment.provider == OFFLINE
    return any((u.delivered if offline else u.gone) < u.remaining
               for u in lifecycle.line_units(order).values())


def invoiced_when_handed_over(order: Order) -> bool:
    """Whether a parcel of `order` handed over now is invoiced now (by `settle`): always
    without a payment (an invoice per parcel) or with one captured parcel by parcel; with a
    payment captured once, only with the last parcel; never for `offline` (captured, and
    invoiced, on delivery)."""
    p = order.payment
    if p is not None and p.provider == OFFLINE:
        return False
    return p is None or p.partial or not more_to_hand_over(order, p)


def _unfinished(p: Payment, status: TransactionStatus) -> Move | None:
    t = next((t for t in p.transactions if t.kind in (TransactionKind.CAPTURE,
                                                      TransactionKind.VOID)
              and t.status is status), None)
    return None if t is None else Move(t.kind, t.amount, t.key, t.fulfillment_id, t.final)


def next_move(order: Order) -> Move | None:
    """The movement of money the order is due now, if any, in this order:

    1. one asked of the provider whose answer was never recorded (PENDING): its outcome is
       unknown, so it is asked again, with its key, before anything else;
    2. a capture for a parcel handed over — its share, or, for the last one, what is left
       and final. A provider that captures only once (a card without multicapture) gets one
       final capture when the last parcel is handed over;
    3. a movement the provider refused (FAILED), asked again — after the parcels that came
       since, so one refused capture does not hold the others back;
    4. releasing what is left once nothing more will be handed over.
    """
    p = order.payment
    if p is None:
        return None
    if (found := _unfinished(p, TransactionStatus.PENDING)) is not None:
        return found
    if p.closed:
        return None
    pending = due(order, p)
    more = more_to_hand_over(order, p)
    failing = _unfinished(p, TransactionStatus.FAILED)
    once = not p.partial  # captured once, at the end, for all parcels
    if pending and (not once or (not more and not any(
            t.kind is TransactionKind.CAPTURE for t in p.transactions))):
        fid = pending[-1] if once else pending[0]
        # the last parcel takes what is left (a refused capture's claim counted), but is
        # final only when nothing else is outstanding: a final capture releases the rest
        last = not more and (len(pending) == 1 or once)
        final = last and failing is None
        if last:
            amount = payable(order) - p.claimed
        else:
            amount = share(order, fid, with_shipping=not any(
                t.kind is TransactionKind.CAPTURE for t in p.transactions))
        amount = max(ZERO, min(amount, p.authorized - p.claimed))
        return Move(TransactionKind.CAPTURE, amount, f"capture:{fid}", fid, final)
    if failing is not None:
        return failing
    if not more:
        return Move(TransactionKind.VOID, max(ZERO, p.authorized - p.captured),
                    f"void:{order.id}")
    return None


def claim(order: Order, move: Move, *, at: datetime) -> Transaction:
    """Set the movement aside before the provider is asked (or find the earlier claim of the
    same key); counts an attempt."""
    assert order.payment is not None
    found = next((t for t in order.payment.transactions if t.key == move.key), None)
    if found is None:
        found = Transaction(str(uuid.uuid4()), move.kind, move.amount, TransactionStatus.PENDING,
                            move.key, at, move.fulfillment_id, final=move.final)
        order.payment.transactions.append(found)
    elif found.status is TransactionStatus.FAILED and (found.error or "").startswith(
            errors.PaymentDeclined.code):
        # a definite refusal moved no money: the next attempt is a new request, with a new
        # key (a provider such as Stripe answers a key with its stored refusal for a day)
        found.key = f"{found.key.split('#')[0]}#{found.attempts + 1}"
    found.attempts += 1
    return found


def succeeded(order: Order, txn_id: str, *, reference: str | None, at: datetime) -> bool:
    """Record the provider's yes; False when it was recorded already (a racing attempt)."""
    t = _txn(order, txn_id)
    if t.status is TransactionStatus.SUCCEEDED:
        return False
    t.status, t.reference, t.error, t.at = TransactionStatus.SUCCEEDED, reference, None, at
    money = f"{t.amount} {order.currency}"
    if t.kind is TransactionKind.CAPTURE:
        where = f" for fulfillment {t.fulfillment_id}" if t.fulfillment_id else ""
        rest = "; the rest of the authorisation is released" if t.final else ""
        order.record("PAYMENT_CAPTURED", f"Payment of {money} captured{where} "
                     f"({reference}){rest}", actor="system", at=at,
                     public=f"We charged {money} for the items sent")
    else:
        order.record("PAYMENT_VOIDED", f"Authorisation released: {money} will not be charged "
                     f"({reference})", actor="system", at=at,
                     public=f"{money} held for this order is released and will not be charged")
    return True


def failed(order: Order, txn_id: str, *, error: str, at: datetime) -> None:
    """Record a refusal or an outage; the movement stays claimed and will be asked again."""
    t = _txn(order, txn_id)
    if t.status is TransactionStatus.SUCCEEDED:
        return
    first = t.status is TransactionStatus.PENDING
    t.status, t.error, t.at = TransactionStatus.FAILED, error[:500], at
    if first:
        verb = "capture" if t.kind is TransactionKind.CAPTURE else "release"
        order.record("PAYMENT_FAILED", f"Payment {verb} of {t.amount} {order.currency} failed "
                     f"(attempt {t.attempts}): {t.error}", actor="system", at=at)


def refunded(order: Order, amount: Money, *, key: str, reference: str, at: datetime) -> None:
    """Money given back through the order's provider (its claim lives on the return)."""
    if order.payment is None or any(t.key == key for t in order.payment.transactions):
        return
    order.payment.transactions.append(Transaction(
        str(uuid.uuid4()), TransactionKind.REFUND, amount.amount, TransactionStatus.SUCCEEDED,
        key, at, reference=reference))
    order.record("PAYMENT_REFUNDED", f"Refund of {amount.amount} {amount.currency} paid back "
                 f"through {order.payment.provider} ({reference})", actor="system", at=at)


def _txn(order: Order, txn_id: str) -> Transaction:
    assert order.payment is not None
    return next(t for t in order.payment.transactions if t.id == txn_id)


def flag_lapsed(order: Order, *, at: datetime) -> bool:
    """Hold the order's remaining work: its authorisation expired before everything shipped.
    False when there is nothing to hold (all handed over, or it cannot be held now)."""
    p = order.payment
    if p is None or p.flagged_at is not None or not p.expired(at) \
            or not more_to_hand_over(order, p):
        return False
    p.flagged_at = at
    if order.hold_reason is None and OrderStatus.ON_HOLD in lifecycle.ORDER_TRANSITIONS[
            order.status]:
        order.hold_reason = "Payment authorization expired: ask the customer to pay again"
        before, after = lifecycle.settle(order)
        order.record("ORDER_HELD", f"Order held: the payment authorisation "
                     f"({p.provider} {p.reference}) expired on "
                     f"{p.expires_at.isoformat() if p.expires_at else '?'} before everything "
                     "shipped", actor="system", at=at, before=before.value, after=after.value)
    return True
