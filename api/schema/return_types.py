"""Return types shared by the order views (Order.returns, TrackedOrder.returns) and the return
mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from api import labels
from api.context import Context
from api.schema.catalog import Location
from api.schema.common import Money, link_base
from domain import access, returns
from domain.returns import policy as return_policy
from domain.returns import status

ReturnStatus: TypeAlias = status.ReturnStatus
strawberry.enum(ReturnStatus, description="Return status (SPEC §2).")
Resolution: TypeAlias = return_policy.Resolution
strawberry.enum(Resolution, description="What the customer gets for the items.")
ReturnMethod: TypeAlias = return_policy.ReturnMethod
strawberry.enum(ReturnMethod, description="How the items travel back.")
ReturnShippingPayer: TypeAlias = return_policy.Payer
strawberry.enum(ReturnShippingPayer, name="ReturnShippingPayer",
                description="Who pays for the way back.")
ReturnCondition: TypeAlias = returns.Condition
strawberry.enum(ReturnCondition, name="ReturnCondition",
                description="RESTOCK: back on hand; WRITE_OFF: not sellable.")


@strawberry.type(description="Units of one order line in a return.")
class ReturnLine:
    id: strawberry.ID = strawberry.field(description="The return line (for receiveReturn).")
    order_line_id: strawberry.ID = strawberry.field(description="`OrderLine.id`.")
    sku: str
    quantity: int
    reason: str
    refund: Money = strawberry.field(description="This line's share of the refund.")
    exchange_sku: str | None = strawberry.field(description="What an exchange sends instead.")
    restocked: int = strawberry.field(description="Units received as RESTOCK.")
    written_off: int = strawberry.field(description="Units received as WRITE_OFF.")


@strawberry.type(description="The printable return label; the URL works only for the "
                             "return's customer, until `expiresAt`.")
class ReturnLabel:
    carrier: str
    tracking_number: str
    url: str
    expires_at: datetime


def signed_label(info: strawberry.Info[Context, None], ret: returns.Return
                 ) -> ReturnLabel | None:
    """The label of a ship-back return while it may be sent, as a signed, expiring link on
    this server (the caller decides whether the viewer may print it)."""
    if ret.method is not return_policy.ReturnMethod.SHIP_BACK or \
            ret.status not in labels.PRINTABLE or ret.tracking_number is None:
        return None
    deps = info.context.deps
    path, expires = labels.label_path(deps.label_key, ret, now=deps.clock.now(),
                                      ttl=deps.label_ttl)
    request = info.context.request
    base = link_base(request)
    return ReturnLabel(carrier=ret.carrier or "", tracking_number=ret.tracking_number,
                       url=base + path, expires_at=expires)


@strawberry.type(description="Where the customer drops the parcel, and the code to show.")
class DropOff:
    code: str
    location_code: strawberry.Private[str]

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        found = await info.context.loaders.location.load(self.location_code)
        assert found is not None
        return Location.from_domain(found)


@strawberry.type(name="Refund", description="Money given back, as the payment provider "
                                            "confirmed it.")
class RefundRecord:
    amount: Money
    reference: str
    provider: str
    at: datetime


@strawberry.type(description="A return (RMA) of delivered items of an order.")
class Return:
    number: str
    order_number: str
    status: ReturnStatus
    resolution: Resolution
    method: ReturnMethod
    lines: list[ReturnLine]
    return_shipping_fee: Money = strawberry.field(
        description="The label the customer pays, deducted from the refund.")
    shipping_refund: Money = strawberry.field(
        description="The original delivery charge refunded with this return.")
    refund_amount: Money = strawberry.field(description="What this return refunds.")
    refunds: list[RefundRecord] = strawberry.field(
        description="Refunds the payment provider confirmed.")
    refund_pending: Money | None = strawberry.field(
        description="A refund claimed and waiting for the provider's answer (asking "
                    "`refundReturn` again finishes it, paying once).")
    auto_approved: bool
    requested_at: datetime
    received_at: datetime | None
    next_statuses: list[ReturnStatus]
    domain: strawberry.Private[returns.Return]
    view: strawberry.Private[access.OrderView]

    @strawberry.field(description="Where the items go back to.")
    async def receiving_location(self, info: strawberry.Info[Context, None]) -> Location:
        found = await info.context.loaders.location.load(self.domain.receiving_location)
        assert found is not None
        return Location.from_domain(found)

    @strawberry.field(description="Who asked for it (staff only).")
    def requested_by(self) -> str | None:
        return self.domain.requested_by if self.view.actors else None

    @strawberry.field(description="Ship back: the label, once the return is approved and "
                                  "until it is received (the customer and staff: it prints "
                                  "the customer's address).")
    def label(self, info: strawberry.Info[Context, None]) -> ReturnLabel | None:
        return signed_label(info, self.domain) if self.view.documents else None

    @strawberry.field(description="Drop at a store: the store and the code to show, once the "
                                  "return is approved.")
    def drop_off(self) -> DropOff | None:
        ret = self.domain
        if ret.drop_off_code is None or ret.status not in labels.PRINTABLE:
            return None
        return DropOff(code=ret.drop_off_code, location_code=ret.receiving_location)

    @strawberry.field(description="An exchange's replacement order.")
    async def replacement_order_number(self, info: strawberry.Info[Context, None]
                                       ) -> str | None:
        if self.domain.replacement_order_id is None:
            return None
        found = await info.context.loaders.order.load(self.domain.replacement_order_id)
        return found.number if found else None

    @classmethod
    def from_domain(cls, r: returns.Return, view: access.OrderView) -> Return:
        """The return as seen with `view`, the caller's view of its order."""
        return cls(
            number=r.number, order_number=r.order_number, status=r.status,
            resolution=r.resolution, method=r.method,
            lines=[ReturnLine(id=strawberry.ID(ln.id),
                              order_line_id=strawberry.ID(ln.order_line_id), sku=ln.sku,
                              quantity=ln.quantity, reason=ln.reason,
                              refund=Money.from_domain(ln.refund), exchange_sku=ln.exchange_sku,
                              restocked=ln.restocked, written_off=ln.written_off)
                   for ln in r.lines],
            return_shipping_fee=Money.from_domain(r.fee),
            shipping_refund=Money.from_domain(r.shipping_refund),
            refund_amount=Money.from_domain(r.refund_total),
            refunds=[RefundRecord(amount=Money.from_domain(f.amount), reference=f.reference,
                                  provider=f.provider, at=f.at)
                     for f in r.refunds if f.reference is not None and f.provider is not None],
            refund_pending=(Money.from_domain(r.pending_refund.amount)
                            if r.pending_refund is not None else None),
            auto_approved=r.auto_approved, requested_at=r.requested_at,
            received_at=r.received_at,
            next_statuses=list(status.return_next(r.status, r.resolution)), domain=r,
            view=view)
