"""Returns, their lines and refunds: loaded for many orders in three statements, written back
as a diff of what steps change (status, receipt, conditions, new refunds)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.kernel.money import Money
from domain.returns import Refund, Return, ReturnLine
from domain.returns.policy import Resolution, ReturnMethod
from domain.returns.status import ReturnStatus
from persistence.mapping import from_minor, to_minor
from persistence.tables import (
    FulfillmentRow,
    OrderRow,
    RefundRow,
    ReturnLineRow,
    ReturnRow,
    table,
)

_R, _L, _F, _O = (table(ReturnRow), table(ReturnLineRow), table(RefundRow),
                  table(OrderRow))
RETURNS_OF = (sa.select(_R, _O.c.number.label("order_number"), _O.c.customer_email)
              .join(_O, _O.c.id == _R.c.order_id)
              .where(_R.c.order_id.in_(sa.bindparam("ids", expanding=True)))
              .order_by(_R.c.requested_at, _R.c.number))
LINES_OF = (sa.select(_L).join(_R, _R.c.id == _L.c.return_id)
            .where(_R.c.order_id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(_L.c.return_id, _L.c.position))
REFUNDS_OF = (sa.select(_F).where(_F.c.order_id.in_(sa.bindparam("ids", expanding=True)))
              .order_by(_F.c.refunded_at, _F.c.id))
ORDER_OF = (sa.select(_O.c.number).join(_R, _R.c.order_id == _O.c.id)
            .where(_R.c.number == sa.bindparam("number")))
RETURN_EDITABLE = ("status", "received_at", "replacement_order_id")


async def load_returns(conn: AsyncConnection, order_ids: list[str]) -> dict[str, list[Return]]:
    """Every return of these orders, oldest first: three statements however many."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = (await conn.execute(RETURNS_OF, {"ids": ids})).all()
    if not rows:
        return {}
    lines = (await conn.execute(LINES_OF, {"ids": ids})).all()
    paid = (await conn.execute(REFUNDS_OF, {"ids": ids})).all()
    line_map: dict[str, list[Any]] = {}
    for ln in lines:
        line_map.setdefault(ln.return_id, []).append(ln)
    refund_map: dict[str, list[Any]] = {}
    for f in paid:
        refund_map.setdefault(f.return_id, []).append(f)
    out: dict[str, list[Return]] = {}
    for r in rows:
        out.setdefault(r.order_id, []).append(
            return_from_rows(r, line_map.get(r.id, []), refund_map.get(r.id, [])))
    return out


def return_from_rows(r: Any, lines: list[Any], paid: list[Any]) -> Return:
    def money(minor: int) -> Money:
        return Money(from_minor(minor), r.currency)

    return Return(
        id=r.id, number=r.number, order_id=r.order_id, order_number=r.order_number,
        customer_email=r.customer_email, status=ReturnStatus(r.status),
        resolution=Resolution(r.resolution), method=ReturnMethod(r.method),
        lines=[ReturnLine(ln.id, ln.order_line_id, ln.sku, ln.quantity, ln.reason,
                          money(ln.refund_minor), ln.exchange_sku, ln.restocked,
                          ln.written_off) for ln in lines],
        receiving_location=r.receiving_location, fee=money(r.fee_minor),
        shipping_refund=money(r.shipping_refund_minor), refund_total=money(r.refund_minor),
        requested_at=r.requested_at, requested_by=r.requested_by,
        auto_approved=r.auto_approved, carrier=r.carrier, tracking_number=r.tracking_number,
        drop_off_code=r.drop_off_code, replacement_order_id=r.replacement_order_id,
        received_at=r.received_at,
        refunds=[Refund(f.id, Money(from_minor(f.amount_minor), f.currency), f.reference,
                        f.provider, f.refunded_at, f.actor) for f in paid])


def _return_values(ret: Return, now: datetime) -> dict[str, Any]:
    return {"id": ret.id, "number": ret.number, "order_id": ret.order_id,
            "status": ret.status.value, "resolution": ret.resolution.value,
            "method": ret.method.value, "currency": ret.refund_total.currency,
            "receiving_location": ret.receiving_location, "fee_minor": to_minor(ret.fee.amount),
            "shipping_refund_minor": to_minor(ret.shipping_refund.amount),
            "refund_minor": to_minor(ret.refund_total.amount),
            "auto_approved": ret.auto_approved, "carrier": ret.carrier,
            "tracking_number": ret.tracking_number, "drop_off_code": ret.drop_off_code,
            "replacement_order_id": ret.replacement_order_id,
            "requested_at": ret.requested_at, "requested_by": ret.requested_by,
            "received_at": ret.received_at, "updated_at": now}


def _refund_values(ret: Return, f: Refund) -> dict[str, Any]:
    return {"id": f.id, "return_id": ret.id, "order_id": ret.order_id,
            "amount_minor": to_minor(f.amount.amount), "currency": f.amount.currency,
            "provider": f.provider, "reference": f.reference, "refunded_at": f.at,
            "actor": f.actor}


UPDATE_LINE = (sa.update(_L).where(_L.c.id == sa.bindparam("k_id"))
               .values(restocked=sa.bindparam("k_restocked"),
                       written_off=sa.bindparam("k_written_off")))


class SqlReturnRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now
        self._loaded: dict[str, tuple[dict[str, Any], dict[str, tuple[int, int]],
                                      dict[str, str | None]]] = {}

    def _remember(self, ret: Return) -> None:
        values = _return_values(ret, self.now)
        self._loaded[ret.id] = ({k: values[k] for k in RETURN_EDITABLE},
                                {ln.id: (ln.restocked, ln.written_off) for ln in ret.lines},
                                {f.id: f.reference for f in ret.refunds})

    async def for_order(self, order_id: str) -> list[Return]:
        found = (await load_returns(self.conn, [order_id])).get(order_id, [])
        for ret in found:
            self._remember(ret)
        return found

    async def order_number_of(self, return_number: str) -> str | None:
        return (await self.conn.execute(ORDER_OF, {"number": return_number})
                ).scalar_one_or_none()

    async def add(self, ret: Return) -> None:
        await self.conn.execute(sa.insert(_R), [_return_values(ret, self.now)])
        await self.conn.execute(sa.insert(_L), [
            {"id": ln.id, "return_id": ret.id, "position": i, "order_line_id": ln.order_line_id,
             "sku": ln.sku, "quantity": ln.quantity, "reason": ln.reason,
             "refund_minor": to_minor(ln.refund.amount), "exchange_sku": ln.exchange_sku,
             "restocked": ln.restocked, "written_off": ln.written_off}
            for i, ln in enumerate(ret.lines)])
        if ret.refunds:
            await self.conn.execute(sa.insert(_F), [_refund_values(ret, f) for f in ret.refunds])
        self._remember(ret)

    async def save(self, ret: Return) -> None:
        head, conditions, refunds = self._loaded[ret.id]
        values = _return_values(ret, self.now)
        changed = {k: values[k] for k in RETURN_EDITABLE if values[k] != head[k]}
        if changed:
            await self.conn.execute(sa.update(_R).where(_R.c.id == ret.id).values(
                **changed, updated_at=self.now))
        lines = [{"k_id": ln.id, "k_restocked": ln.restocked, "k_written_off": ln.written_off}
                 for ln in ret.lines if conditions[ln.id] != (ln.restocked, ln.written_off)]
        if lines:
            await self.conn.execute(UPDATE_LINE, lines)
        await self._save_refunds(ret, refunds)
        self._remember(ret)

    async def _save_refunds(self, ret: Return, loaded: dict[str, str | None]) -> None:
        """New refunds (claims) are inserted, completed claims updated, dropped ones deleted."""
        now = {f.id: f for f in ret.refunds}
        new = [_refund_values(ret, f) for f in ret.refunds if f.id not in loaded]
        if new:
            await self.conn.execute(sa.insert(_F), new)
        for f in ret.refunds:
            if f.id in loaded and loaded[f.id] != f.reference:
                await self.conn.execute(sa.update(_F).where(_F.c.id == f.id).values(
                    reference=f.reference, provider=f.provider, refunded_at=f.at))
        gone = [k for k in loaded if k not in now]
        if gone:
            await self.conn.execute(sa.delete(_F).where(_F.c.id.in_(gone)))


async def return_by_number(conn: AsyncConnection, number: str) -> Return | None:
    """One return by its number (two statements more for its lines and refunds)."""
    order_id = (await conn.execute(sa.select(_R.c.order_id).where(_R.c.number == number))
                ).scalar_one_or_none()
    if order_id is None:
        return None
    found = (await load_returns(conn, [order_id])).get(order_id, [])
    return next((r for r in found if r.number == number), None)


def completable_orders(delivered_before: Mapping[str, datetime], *,
                       open_returns: Collection[ReturnStatus], limit: int
                       ) -> sa.Select[str]:
    """DELIVERED orders (ix on orders.status) whose last delivery per channel is older than
    the channel's time, with no open return; the oldest last delivery first."""
    f, o, r = table(FulfillmentRow).c, _O.c, _R.c
    last = sa.func.max(sa.func.coalesce(f.delivered_at, o.placed_at))
    by_time: dict[datetime, list[str]] = {}
    for channel, before in sorted(delivered_before.items()):
        by_time.setdefault(before, []).append(channel)
    due = [sa.and_(o.channel.in_(channels), last < before)
           for before, channels in sorted(by_time.items())]
    open_return = sa.exists().where(r.order_id == o.id,
                                    r.status.in_(sorted(s.value for s in open_returns)))
    return (sa.select(o.id)
            .join(table(FulfillmentRow), f.order_id == o.id)
            .where(o.status == "DELIVERED", f.status == "DELIVERED",
                   o.channel.in_(sorted(delivered_before)), ~open_return)
            .group_by(o.id, o.channel)
            .having(sa.or_(*due))
            .order_by(last, o.id).limit(limit))
