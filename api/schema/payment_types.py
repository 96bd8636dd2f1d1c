"""An order's payment as a caller sees it: staff all of it, the customer the status and the
amounts (never the provider's references), stores nothing (`OrderView.payment`)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry import relay

from api.schema.common import Money
from domain import access, orders
from domain.kernel.money import Money as DomainMoney
from domain.orders import payment
from domain.service_desk import customers

PaymentStatus: TypeAlias = payment.PaymentStatus
strawberry.enum(PaymentStatus, description="Where the order's money is.")
TransactionKind: TypeAlias = payment.TransactionKind
strawberry.enum(TransactionKind, description="A movement of the order's money.")
TransactionStatus: TypeAlias = payment.TransactionStatus
strawberry.enum(TransactionStatus, description="PENDING: asked of the provider, answer not "
                                               "recorded yet; FAILED: refused, to be retried.")
ProblemKind: TypeAlias = customers.ProblemKind
strawberry.enum(ProblemKind, description="What on an order needs an agent.")


@strawberry.type(description="Something on a customer's order that needs an agent.")
class OrderProblem:
    order_number: str
    kind: ProblemKind
    since: datetime
    detail: str

    @classmethod
    def from_domain(cls, p: customers.Problem) -> OrderProblem:
        return cls(order_number=p.order_number, kind=p.kind, since=p.since, detail=p.detail)


@strawberry.type(description="One movement of the order's money.")
class PaymentTransaction:
    kind: TransactionKind
    status: TransactionStatus
    amount: Money
    reference: str | None = strawberry.field(description="The provider's id (staff only).")
    at: datetime
    fulfillment_id: strawberry.ID | None = strawberry.field(
        description="The fulfillment a capture is for (its `Fulfillment.id`).")
    error: str | None = strawberry.field(description="Why the provider refused (staff only).")


@strawberry.type(description="How the order is paid: what was authorised with the provider, "
                             "and what was captured, refunded and released since.")
class OrderPayment:
    status: PaymentStatus
    provider: str | None
    reference: str | None = strawberry.field(description="The provider's id of the "
                                                         "authorisation (staff only).")
    authorized: Money
    captured: Money
    refunded: Money
    voided: Money
    expires_at: datetime | None = strawberry.field(
        description="When the authorisation lapses if not captured.")
    transactions: list[PaymentTransaction]

    @classmethod
    def seen(cls, view: access.OrderView, o: orders.Order) -> OrderPayment | None:
        if not view.payment:
            return None
        p, cur = o.payment, o.currency

        def money(amount: object) -> Money:
            return Money.from_domain(DomainMoney(amount, cur))  # type: ignore[arg-type]

        if p is None:
            zero = money(payment.ZERO)
            return cls(status=PaymentStatus.NOT_REQUIRED, provider=None, reference=None,
                       authorized=zero, captured=zero, refunded=zero, voided=zero,
                       expires_at=None, transactions=[])
        staff = view.internal
        return cls(
            status=p.status, provider=p.provider, reference=p.reference if staff else None,
            authorized=money(p.authorized), captured=money(p.captured),
            refunded=money(p.refunded), voided=money(p.voided), expires_at=p.expires_at,
            transactions=[PaymentTransaction(
                kind=t.kind, status=t.status, amount=money(t.amount),
                reference=t.reference if staff else None, at=t.at,
                fulfillment_id=_fulfillment_gid(t.fulfillment_id),
                error=t.error if staff else None) for t in p.transactions])


def _fulfillment_gid(fulfillment_id: str | None) -> strawberry.ID | None:
    """As every other `fulfillmentId` of the API: the global id of `Fulfillment.id`."""
    if fulfillment_id is None:
        return None
    return strawberry.ID(str(relay.GlobalID("Fulfillment", fulfillment_id)))
