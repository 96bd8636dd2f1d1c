"""Orders' payments: the authorisation row and the movements of money, loaded with the order
(one statement for a batch of orders) and written back as a diff in its transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.kernel import errors
from domain.orders import Order
from domain.orders.payment import (
    Payment,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from domain.payments import LAPSE_STATUSES
from persistence.mapping import from_minor, to_minor
from persistence.tables import OrderRow, PaymentRow, PaymentTransactionRow, table

P, T = table(PaymentRow), table(PaymentTransactionRow)
TXN_EDITABLE = ("status", "reference", "error", "at", "attempts", "amount_minor", "final")
# a batch of orders' payments with their movements: one statement
LOAD = (sa.select(P, T.c.id.label("t_id"), T.c.kind, T.c.status, T.c.amount_minor, T.c.key,
                  T.c.at, T.c.fulfillment_id, T.c.reference.label("t_reference"), T.c.error,
                  T.c.final, T.c.attempts)
        .select_from(P.outerjoin(T, T.c.order_id == P.c.order_id))
        .where(P.c.order_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(P.c.order_id, T.c.position))


async def load(conn: AsyncConnection, ids: list[str]) -> dict[str, Payment]:
    found: dict[str, Payment] = {}
    for r in (await conn.execute(LOAD, {"ids": ids})).all():
        p = found.get(r.order_id)
        if p is None:
            p = found[r.order_id] = Payment(r.provider, r.reference,
                                            from_minor(r.authorized_minor), r.expires_at, [],
                                            r.flagged_at, bool(r.partial))
        if r.t_id is not None:
            p.transactions.append(Transaction(
                r.t_id, TransactionKind(r.kind), from_minor(r.amount_minor),
                TransactionStatus(r.status), r.key, r.at, r.fulfillment_id, r.t_reference,
                r.error, bool(r.final), r.attempts))
    return found


def state(order: Order) -> tuple[Any, dict[str, dict[str, Any]]]:
    """What a save compares against: the payment's editable part and each movement."""
    p = order.payment
    if p is None:
        return None, {}
    return p.flagged_at, {t.id: _pick(txn_values(order.id, i, t))
                          for i, t in enumerate(p.transactions)}


def _pick(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in TXN_EDITABLE}


def txn_values(order_id: str, position: int, t: Transaction) -> dict[str, Any]:
    return {"id": t.id, "order_id": order_id, "position": position, "kind": t.kind.value,
            "status": t.status.value,
            "amount_minor": to_minor(t.amount), "key": t.key, "at": t.at,
            "fulfillment_id": t.fulfillment_id, "reference": t.reference, "error": t.error,
            "final": t.final, "attempts": t.attempts}


async def insert(conn: AsyncConnection, order: Order) -> None:
    """A new order's authorisation; one already paying for another order is refused."""
    p = order.payment
    if p is None:
        return
    try:  # the whole transaction is rolled back on the refusal: no savepoint needed
        await conn.execute(sa.insert(P), [{
            "order_id": order.id, "provider": p.provider, "reference": p.reference,
            "authorized_minor": to_minor(p.authorized), "expires_at": p.expires_at,
            "flagged_at": p.flagged_at, "partial": p.partial}])
    except sa.exc.IntegrityError:
        raise errors.PaymentAlreadyUsed(
            f"payment {p.reference} of {p.provider} already pays for another order",
            field=["payment", "reference"]) from None
    await _insert_txns(conn, order, set())


async def _insert_txns(conn: AsyncConnection, order: Order, known: Collection[str]) -> None:
    """The order's movements not among `known` (ids already written)."""
    assert order.payment is not None
    rows = [txn_values(order.id, i, t) for i, t in enumerate(order.payment.transactions)
            if t.id not in known]
    if rows:
        await conn.execute(sa.insert(T), rows)


async def save(conn: AsyncConnection, order: Order,
               loaded: tuple[Any, dict[str, dict[str, Any]]]) -> None:
    p = order.payment
    if p is None:
        return
    flagged, txns = loaded
    if p.flagged_at != flagged:
        await conn.execute(sa.update(P).where(P.c.order_id == order.id)
                           .values(flagged_at=p.flagged_at))
    await _insert_txns(conn, order, txns)
    changed = [v for i, t in enumerate(p.transactions) if t.id in txns
               and _pick(v := txn_values(order.id, i, t)) != txns[t.id]]
    if changed:
        await conn.execute(
            sa.update(T).where(T.c.id == sa.bindparam("k_id"))
            .values({c: sa.bindparam(f"k_{c}") for c in TXN_EDITABLE}),
            [{"k_id": r["id"], **{f"k_{c}": r[c] for c in TXN_EDITABLE}} for r in changed])


def lapsed(now: datetime, *, limit: int) -> sa.Select[tuple[str]]:
    """Orders with work to hand over whose authorisation expired before `now`, not flagged
    yet and not on hold (a range of ix_payments_expires_at)."""
    o = table(OrderRow).c
    return (sa.select(P.c.order_id).join(table(OrderRow), o.id == P.c.order_id)
            .where(P.c.expires_at <= now, P.c.flagged_at.is_(None), o.hold_reason.is_(None),
                   o.status.in_(sorted(s.value for s in LAPSE_STATUSES)))
            .order_by(P.c.expires_at, P.c.order_id).limit(limit))


def failing() -> sa.Select[tuple[str]]:
    """Orders with a capture or release the provider refused and that is not through yet
    (refunds are claimed on their return, not here)."""
    return sa.select(T.c.order_id).where(T.c.status == TransactionStatus.FAILED.value)


def expired(now: datetime) -> sa.Select[tuple[str]]:
    """Orders whose authorisation expired (whether anything is left to ship is decided on
    the loaded order)."""
    return sa.select(P.c.order_id).where(P.c.expires_at <= now)
