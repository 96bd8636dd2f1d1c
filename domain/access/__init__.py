"""Who may do what: one policy for every entry point (SPEC §3 invariant 6).

Two levels, both here: `ENTRY_POINTS` gives every root field of the API the capability it
needs (enforced once, before any resolver, by api/authorization.py), and the functions below
decide, per object, what an allowed caller sees of it (`order_view`, `sees_location_levels`,
`sees_network_internals`, `inventory_scope`, `order_follower`). Every field of an order, and
of what is reachable from it, is read through the `OrderView` of its caller
(api/schema/order_types.py).

The access context: roles, capabilities and what each principal may see.

May use: kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.kernel import errors


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
    # raw per-location levels and their ledger stream: the people who move the stock and
    # the console; a storefront sees `available`, never onHand/reserved/safety stock
    "inventory.read": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION, Role.STORE}),
    # channel availability is storefront data (SPEC §4: anonymous callers may use it)
    "availability.read": frozenset(Role),
    # integrations place the orders of marketplaces, ERPs and call-centre software, named
    # on the order as themselves (placedBy integration:<subject>)
    "orders.place": frozenset({Role.ANONYMOUS, Role.CUSTOMER, Role.AGENT, Role.ADMIN,
                               Role.STORE, Role.INTEGRATION}),
    # many orders in one request: feeds from the back office, not a storefront or a counter
    "orders.place_batch": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION}),
    "orders.search": frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION, Role.CUSTOMER}),
    "orders.track": frozenset(Role),
    # one order by number or id: signed in; which orders, and how much of them, is
    # decided per order by `order_view`
    "orders.read": frozenset(Role) - {Role.ANONYMOUS},
    # following one order: anyone, per order by `order_follower` (guests give the email)
    "orders.follow": frozenset(Role),
    # Relay node/nodes: anyone; each object by the rule of its own type (`node_visible`)
    "nodes.read": frozenset(Role),
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
    # returns: customers for their own orders, guests with the order's email, agents on
    # anyone's behalf (domain/returns/services.may_act); the way back is staff's work
    "returns.read": frozenset({Role.ANONYMOUS, Role.CUSTOMER, Role.AGENT, Role.ADMIN}),
    "returns.request": frozenset({Role.ANONYMOUS, Role.CUSTOMER, Role.AGENT, Role.ADMIN}),
    "returns.approve": frozenset({Role.AGENT, Role.ADMIN}),
    "returns.transit": frozenset({Role.INTEGRATION, Role.AGENT, Role.ADMIN}),
    # store associates receive only at their own locations: another location's return
    # is NOT_FOUND to them, as one that does not exist (returns/services.receive_return)
    "returns.receive": frozenset({Role.STORE, Role.AGENT, Role.ADMIN, Role.INTEGRATION}),
    "returns.refund": frozenset({Role.AGENT, Role.ADMIN}),
    # a failed payment capture asked again once the provider recovered (payments/services)
    "payments.retry": frozenset({Role.AGENT, Role.ADMIN}),
    "channels.manage": frozenset({Role.ADMIN}),
    # customer mails: agents read what was sent and send one again (notifications/services)
    "notifications.resend": frozenset({Role.AGENT, Role.ADMIN}),
    # webhook endpoints: admins all, an integration those it created (integration/services)
    "webhooks.manage": frozenset({Role.ADMIN, Role.INTEGRATION}),
    # events a consumer parked after its last attempt: the operator's
    "consumers.operate": frozenset({Role.ADMIN}),
}
STAFF = frozenset({Role.AGENT, Role.ADMIN, Role.INTEGRATION})

# Every root field of the GraphQL API and the capability it needs, checked once before its
# resolver runs (api/authorization.py). A root field missing here is refused to everyone, and
# tests/api/test_authorization_matrix.py fails: a new entry point is closed until it is given
# a rule. Which objects a caller may see behind an allowed field (their own orders, their
# location's work) is decided by the functions below, per object.
ENTRY_POINTS: dict[str, str] = {
    # catalog and network: public storefront data
    "Query.locations": "catalog.read",
    "Query.skus": "catalog.read",
    "Query.channels": "catalog.read",
    "Query.availability": "availability.read",
    "Query.deliveryPromise": "promise.read",
    "Query.node": "nodes.read",
    "Query.nodes": "nodes.read",
    # orders
    "Query.order": "orders.read",
    "Query.orders": "orders.search",
    "Query.trackOrder": "orders.track",
    "Query.customer": "customers.read",
    "Query.fulfillments": "fulfillments.read",
    # back office
    "Query.sourcingDecision": "sourcing.read",
    "Query.sourcingDecisions": "sourcing.read",
    "Query.simulateSourcing": "sourcing.simulate",
    "Query.sourcingPolicies": "sourcing.policies.read",
    "Query.locationDowntime": "network.downtime.read",
    "Query.operationsMetrics": "operations.read",
    "Mutation.upsertLocations": "catalog.write",
    "Mutation.upsertSkus": "catalog.write",
    "Mutation.setInventory": "inventory.write",
    "Mutation.adjustInventory": "inventory.write",
    "Mutation.expectIncoming": "inventory.write",
    "Mutation.receiveIncoming": "inventory.write",
    "Mutation.placeOrder": "orders.place",
    "Mutation.placeOrders": "orders.place_batch",
    "Mutation.acceptFulfillment": "fulfillments.work",
    "Mutation.rejectFulfillment": "fulfillments.work",
    "Mutation.pickFulfillment": "fulfillments.work",
    "Mutation.packFulfillment": "fulfillments.work",
    "Mutation.shipFulfillment": "fulfillments.work",
    "Mutation.markReadyForPickup": "fulfillments.work",
    "Mutation.confirmPickup": "fulfillments.work",
    "Mutation.recordTrackingEvent": "tracking.record",
    "Mutation.cancelOrder": "orders.cancel",
    "Mutation.holdOrder": "orders.manage",
    "Mutation.releaseOrder": "orders.manage",
    "Mutation.updateShippingAddress": "orders.manage",
    "Mutation.addOrderNote": "orders.manage",
    "Mutation.addOrderTags": "orders.manage",
    "Mutation.removeOrderTags": "orders.manage",
    "Mutation.upsertSourcingPolicy": "sourcing.policies.write",
    "Mutation.scheduleLocationDowntime": "network.downtime",
    "Mutation.rerouteFulfillment": "fulfillments.reroute",
    # returns: whose return it is, per order, in domain/returns/services.may_act
    "Query.returnEligibility": "returns.read",
    "Mutation.requestReturn": "returns.request",
    "Mutation.approveReturn": "returns.approve",
    "Mutation.rejectReturn": "returns.approve",
    "Mutation.closeReturn": "returns.approve",
    "Mutation.markReturnInTransit": "returns.transit",
    "Mutation.receiveReturn": "returns.receive",
    "Mutation.refundReturn": "returns.refund",
    "Mutation.retryPaymentCapture": "payments.retry",
    "Mutation.updateChannel": "channels.manage",
    "Mutation.resendNotification": "notifications.resend",
    # integration: webhooks and parked events
    "Query.webhookEndpoints": "webhooks.manage",
    "Query.webhookDeliveries": "webhooks.manage",
    "Mutation.createWebhookEndpoint": "webhooks.manage",
    "Mutation.updateWebhookEndpoint": "webhooks.manage",
    "Mutation.rotateWebhookSecret": "webhooks.manage",
    "Mutation.deleteWebhookEndpoint": "webhooks.manage",
    "Mutation.redeliverWebhooks": "webhooks.manage",
    "Query.parkedEvents": "consumers.operate",
    "Mutation.retryParkedEvents": "consumers.operate",
    "Mutation.skipParkedEvents": "consumers.operate",
    "Subscription.orderEvents": "orders.follow",
    "Subscription.inventoryEvents": "inventory.read",
    "Subscription.fulfillmentEvents": "fulfillments.follow",
}


def authorize_entry(principal: Principal, type_name: str, field_name: str) -> None:
    """The rule of one root field (`Query.order`…); a field without a rule is refused."""
    capability = ENTRY_POINTS.get(f"{type_name}.{field_name}")
    if capability is None:
        raise errors.Forbidden(f"{type_name}.{field_name} has no authorization rule")
    require(principal, capability)


def require(principal: Principal, capability: str) -> None:
    """Raise Forbidden (or Unauthenticated for anonymous callers) unless allowed."""
    if principal.role in CAPABILITIES.get(capability, frozenset()):
        return
    if principal.role is Role.ANONYMOUS:
        raise errors.Unauthenticated("sign in to do this")
    raise errors.Forbidden(f"role {principal.role.value} may not {capability}")


def acts_at(principal: Principal, location: str) -> bool:
    """Store associates act only at their own locations (others as their role allows)."""
    return principal.role is not Role.STORE or location in principal.locations


def require_location(principal: Principal, location: str, *, field: list[str]) -> None:
    """Store associates act only on their own locations."""
    if not acts_at(principal, location):
        raise errors.Forbidden(f"not allowed at location {location}", field=field)


class _Work(Protocol):
    @property
    def location(self) -> str: ...
    @property
    def status(self) -> str: ...


class _Customer(Protocol):
    @property
    def email(self) -> str: ...


class _Delivery(Protocol):
    @property
    def pickup_location(self) -> str | None: ...


class ViewedOrder(Protocol):
    """What the view rules read of an order (`domain.orders.Order` has it): whose it is,
    where its work is, and where it is picked up. Access sits below orders, so it names only
    this much."""

    @property
    def fulfillments(self) -> Sequence[_Work]: ...
    @property
    def customer(self) -> _Customer: ...
    @property
    def delivery(self) -> _Delivery: ...


# Work a location no longer answers for: it rejected it, customer service moved it away (the
# moved work becomes REJECTED) or it was cancelled. A store sees an order only while it has
# other work on it.
ENDED_WORK = frozenset({"REJECTED", "CANCELLED"})


def work_locations(order: ViewedOrder) -> frozenset[str]:
    """The locations with work on `order` they still answer for (see ENDED_WORK)."""
    return frozenset(f.location for f in order.fulfillments if f.status not in ENDED_WORK)


def public_actor(actor: str) -> str:
    """How an actor is named to whoever may not know who acted (the customer, a store): the
    customer or the guest as such, anyone else of the retailer's side as "promessa"."""
    role = actor.split(":", 1)[0]
    return role if role in (Role.CUSTOMER.value, "guest") else "promessa"


@dataclass(frozen=True, slots=True)
class OrderView:
    """How much of one order a principal may see: every field of an order, and of what is
    reachable from it (fulfillments, timeline, customer, delivery, returns), is read through
    it (api/schema/order_types.py).

    Staff see all of it. A customer sees their own order without the staff's notes, tags and
    reasons, and without the names of the staff who acted on it. A store associate sees the
    order only for the work at their locations: those fulfillments, the customer's name (and
    phone when the parcel is picked up at their counter), the address the parcels go to
    while it has work to ship, no email, no internal notes, nobody's name.
    """

    internal: bool  # staff timeline, notes, hold reason
    tags: bool
    locations: frozenset[str] | None  # the fulfillments shown; None: all of them
    email: bool
    phone: bool
    address: bool  # the delivery address
    actors: bool  # who acted, by name (placedBy, timeline, requestedBy); else public_actor
    documents: bool  # the customer's own documents: return labels print their home address
    payment: bool = False  # status and amounts (provider references: `internal` too)

    def shows(self, location: str) -> bool:
        return self.locations is None or location in self.locations

    @property
    def whole(self) -> bool:
        """Every fulfillment is shown (staff, the owner): the guest's tracking view too."""
        return self.locations is None

    def actor(self, actor: str) -> str:
        """`actor` as this view names it."""
        return actor if self.actors else public_actor(actor)


FULL_VIEW = OrderView(internal=True, tags=True, locations=None, email=True, phone=True,
                      address=True, actors=True, documents=True, payment=True)
OWNER_VIEW = OrderView(internal=False, tags=False, locations=None, email=True, phone=True,
                       address=True, actors=False, documents=True, payment=True)
# a store with no work on the order (a drop-off return received for an order shipped from
# elsewhere, work it rejected): the order's number and state, nothing about the customer
NO_WORK_VIEW = OrderView(internal=False, tags=True, locations=frozenset(), email=False,
                         phone=False, address=False, actors=False, documents=False)


def order_view(principal: Principal, order: ViewedOrder) -> OrderView | None:
    """What `principal` may see of `order`; None when nothing (to them it does not exist)."""
    locations = work_locations(order)
    if not can_read_order(principal, customer_email=order.customer.email,
                          fulfillment_locations=locations):
        return None
    if principal.role is Role.STORE:
        pickup = order.delivery.pickup_location
        return OrderView(internal=False, tags=True, locations=principal.locations & frozenset(
            f.location for f in order.fulfillments), email=False,
            phone=pickup is not None and pickup in principal.locations, address=True,
            actors=False, documents=False)
    return FULL_VIEW if principal.role in STAFF else OWNER_VIEW


def answer_view(principal: Principal, order: ViewedOrder) -> OrderView:
    """The view of an order a mutation answers with: whoever placed or changed it sees at
    least what its owner sees (a guest at checkout typed it all in) — except a store
    associate, who never sees more than the store view (e.g. receiving a drop-off return of
    an order shipped from elsewhere: no email, no address, no other location's work)."""
    view = order_view(principal, order)
    if view is not None:
        return view
    if principal.role is Role.STORE:
        return NO_WORK_VIEW
    return OWNER_VIEW


def can_read_order(principal: Principal, *, customer_email: str,
                   fulfillment_locations: frozenset[str]) -> bool:
    """Staff any order, a customer their own, a store associate one with work at their
    locations."""
    if principal.role in STAFF:
        return True
    if principal.role is Role.CUSTOMER:
        return principal.email is not None and principal.email.lower() == customer_email
    if principal.role is Role.STORE:
        return bool(principal.locations & fulfillment_locations)
    return False


def sees_location_levels(principal: Principal, location: str) -> bool:
    """Raw stock figures (onHand, reserved, safety stock) of one location: staff, and store
    associates at their own locations. Storefronts see `available` only."""
    if principal.role in STAFF:
        return True
    return principal.role is Role.STORE and location in principal.locations


def sees_network_internals(principal: Principal) -> bool:
    """Cost models, capacity and carbon factors of locations are the retailer's business."""
    return principal.role in STAFF


def inventory_scope(principal: Principal, locations: frozenset[str] | None, *,
                    field: list[str]) -> frozenset[str] | None:
    """The locations whose stock events a principal follows: store associates only theirs
    (all of theirs when they name none)."""
    if principal.role is not Role.STORE:
        return locations
    if locations is None:
        return principal.locations
    for code in sorted(locations):
        require_location(principal, code, field=field)
    return locations


def audience(principal: Principal) -> tuple[str | tuple[str, ...] | None, ...]:
    """Principals who see exactly the same of every object: a shared execution of one
    document (api/schema/shared_execution.py) is shared only within one audience."""
    if principal.role in STAFF:
        return ("staff",)
    if principal.role is Role.STORE:
        return (principal.role.value, tuple(sorted(principal.locations)))
    return (principal.role.value, principal.email)


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
