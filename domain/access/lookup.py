"""How a caller names an order by its number: the one read that finds it, which tells them
nothing of whether somebody else's exists."""

from __future__ import annotations

from typing import Protocol, TypeVar

from domain.access import Principal, Role

O_co = TypeVar("O_co", covariant=True)


class OrdersByNumber(Protocol[O_co]):
    """How orders are read by number (`domain.orders.ports.OrderReader` has it)."""

    async def order_by_number(self, number: str) -> O_co | None: ...
    async def order_for_guest(self, number: str, email: str) -> O_co | None: ...


async def order_named(reader: OrdersByNumber[O_co], number: str, *, principal: Principal,
                      email: str | None = None) -> O_co | None:
    """The order `number` as `principal` may look it up. A customer's is read by number and
    their own email (or the one they give, to follow an order as its guest would), a guest's
    by number and the email they give (their proof): one read that finds nothing alike for an
    unknown number and for another customer's order, so no timing tells them apart. Staff
    and stores read by number; what they may see of it is `access.order_view`'s to say."""
    given = (email or "").strip().lower()
    if principal.role is Role.CUSTOMER:  # another order's email given: the guest's proof
        proof = given or (principal.email or "").lower()
        return await reader.order_for_guest(number, proof) if proof else None
    if principal.role is Role.ANONYMOUS:
        return await reader.order_for_guest(number, given) if given else None
    return await reader.order_by_number(number)
