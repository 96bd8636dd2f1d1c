"""Who may do what: one policy for every entry point (SPEC §3 invariant 6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain import errors


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "customer"
    AGENT = "agent"
    STORE = "store"
    ADMIN = "admin"
    INTEGRATION = "integration"


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    subject: str | None = None
    email: str | None = None
    locations: frozenset[str] = frozenset()

    @property
    def actor(self) -> str:
        """How the principal is named on ledgers and timelines."""
        if self.role is Role.ANONYMOUS:
            return "guest"
        return f"{self.role.value}:{self.subject or self.email or '?'}"


ANONYMOUS = Principal(Role.ANONYMOUS)

# What each capability needs. Anything not listed here is refused: a new entry point without a
# rule is closed, not open.
CAPABILITIES: dict[str, frozenset[Role]] = {
    "catalog.write": frozenset({Role.ADMIN, Role.INTEGRATION}),
    "catalog.read": frozenset(Role),
    "inventory.write": frozenset({Role.ADMIN, Role.INTEGRATION, Role.STORE}),
    "inventory.read": frozenset(Role),
    "orders.place": frozenset({Role.ANONYMOUS, Role.CUSTOMER, Role.AGENT, Role.ADMIN,
                               Role.STORE}),
    "orders.search": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION, Role.CUSTOMER}),
    "orders.track": frozenset(Role),
    # customer service; customers may also cancel their own orders (see service_desk)
    "orders.manage": frozenset({Role.AGENT, Role.ADMIN}),
    "customers.read": frozenset({Role.AGENT, Role.ADMIN}),
    "operations.read": frozenset({Role.AGENT, Role.ADMIN}),
    "orders.cancel": frozenset({Role.AGENT, Role.ADMIN, Role.CUSTOMER}),
    # a location's work queue and the work itself: store associates only at their locations
    "fulfillments.read": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION, Role.STORE}),
    "fulfillments.work": frozenset({Role.STORE, Role.ADMIN, Role.INTEGRATION}),
    "tracking.record": frozenset({Role.INTEGRATION, Role.ADMIN}),
    "promise.read": frozenset(Role),
    "sourcing.read": frozenset({Role.AGENT, Role.ADMIN}),
    "sourcing.simulate": frozenset({Role.AGENT, Role.ADMIN}),
    "sourcing.policies.read": frozenset({Role.ADMIN}),
    "sourcing.policies.write": frozenset({Role.ADMIN}),
    "network.downtime": frozenset({Role.ADMIN, Role.INTEGRATION, Role.STORE}),
    "network.downtime.read": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION,
                                        Role.STORE}),
    "fulfillments.resource": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION,
                                        Role.STORE}),
    # customer service moves work from one location to another
    "fulfillments.reroute": frozenset({Role.AGENT, Role.ADMIN}),
    # live streams: every order's events, a location's work
    "orders.follow_all": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION}),
    "fulfillments.follow": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION, Role.STORE}),
}
STAFF = frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION})


def require(principal: Principal, capability: str) -> None:
    """Raise Forbidden (or Unauthenticated for anonymous callers) unless allowed."""
    if principal.role in CAPABILITIES.get(capability, frozenset()):
        return
    if principal.role is Role.ANONYMOUS:
        raise errors.Unauthenticated("sign in to do this")
    raise errors.Forbidden(f"role {principal.role.value} may not {capability}")


def require_location(principal: Principal, location: str, *, field: list[str]) -> None:
    """Store associates act only on their own locations."""
    if principal.role is Role.STORE and location not in principal.locations:
        raise errors.Forbidden(f"not allowed at location {location}", field=field)


def can_read_order(principal: Principal, *, customer_email: str,
                   fulfillment_locations: frozenset[str]) -> bool:
    if principal.role in STAFF:
        return True
    if principal.role is Role.CUSTOMER:
        return principal.email is not None and principal.email.lower() == customer_email
    if principal.role is Role.STORE:
        return bool(principal.locations & fulfillment_locations)
    return False


def order_customer_email(principal: Principal, requested: str) -> str:
    """The email an order is placed for: customers only ever for themselves."""
    if principal.role is Role.CUSTOMER:
        if principal.email is None or principal.email.lower() != requested.lower():
            raise errors.Forbidden("customers place orders only for their own email",
                                   field=["customer", "email"])
    return requested.lower()


def order_follower(principal: Principal, *, number: str, customer_email: str | None,
                   fulfillment_locations: frozenset[str], email: str | None) -> bool:
    """Who may follow one order's events: True for its full view, False for the guest view.

    Whoever may read the order gets the full view. Anyone else who gives the order's email
    with its number (the guest's proof, as for trackOrder) gets the guest view. Everyone else
    is refused the same way whether the order exists or not (`customer_email` None), so the
    refusal does not reveal which numbers exist — except to staff, who may know.
    """
    if customer_email is not None and principal.role is not Role.ANONYMOUS and can_read_order(
            principal, customer_email=customer_email,
            fulfillment_locations=fulfillment_locations):
        return True
    if customer_email is not None and email is not None and \
            email.strip().lower() == customer_email:
        return False
    if customer_email is None and principal.role in STAFF:
        raise errors.NotFound(f"no order {number}", field=["number"])
    if principal.role is Role.ANONYMOUS and email is None:
        raise errors.Unauthenticated("sign in, or give the order's email, to follow an order")
    raise errors.Forbidden(f"you may not follow order {number}", field=["number"])
