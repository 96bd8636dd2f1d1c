"""Orders: the PlaceOrder command, its validation, and the order aggregate it creates.

The orders context: the order aggregate, its commands' validation and pricing, and its status
machines (`lifecycle`).

May use: kernel, catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.catalog import LOCALE_RE, Address, Capability, Channel, Location, Sku
from domain.kernel import errors, events, tax
from domain.kernel.money import Money
from domain.orders.payment import Payment

MAX_LINES = 100
MAX_QUANTITY = 999
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    ALLOCATED = "ALLOCATED"
    PARTIALLY_ALLOCATED = "PARTIALLY_ALLOCATED"
    BACKORDERED = "BACKORDERED"
    IN_FULFILLMENT = "IN_FULFILLMENT"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    ON_HOLD = "ON_HOLD"
    CANCELLED = "CANCELLED"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"


class LineStatus(StrEnum):
    UNALLOCATED = "UNALLOCATED"
    ALLOCATED = "ALLOCATED"
    PARTIALLY_ALLOCATED = "PARTIALLY_ALLOCATED"
    BACKORDERED = "BACKORDERED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class FulfillmentStatus(StrEnum):
    ASSIGNED = "ASSIGNED"
    ACCEPTED = "ACCEPTED"
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    DELIVERED = "DELIVERED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    DELIVERY_FAILED = "DELIVERY_FAILED"


class TrackingStatus(StrEnum):
    """The carrier scan taxonomy every carrier's codes are normalised to."""

    LABEL_CREATED = "LABEL_CREATED"
    PICKED_UP = "PICKED_UP"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELAYED = "DELAYED"
    DELIVERY_FAILED = "DELIVERY_FAILED"
    DELIVERED = "DELIVERED"


class OrderTag(StrEnum):
    VIP = "VIP"
    GIFT = "GIFT"
    REPLACEMENT = "REPLACEMENT"


class DeliveryMethod(StrEnum):
    SHIP = "SHIP"
    PICKUP = "PICKUP"


class ServiceLevel(StrEnum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"
    SAME_DAY = "SAME_DAY"


# Shipping charged to the customer, in the order's currency, by service level.
SHIPPING_FEE = {ServiceLevel.STANDARD: Decimal("4.90"), ServiceLevel.EXPRESS: Decimal("9.90"),
                ServiceLevel.SAME_DAY: Decimal("14.90")}
FREE_STANDARD_SHIPPING_FROM = Decimal("49.00")


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    name: str | None = None
    phone: str | None = None
    locale: str | None = None  # the language messages to them are written in ("it", "en-GB")


@dataclass(frozen=True, slots=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Delivery:
    method: DeliveryMethod
    service_level: ServiceLevel | None = None
    address: Address | None = None
    pickup_location: str | None = None
    promise_option_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """Money the customer authorised with `provider` before ordering (`reference`: e.g. a
    Stripe PaymentIntent id); `amount`: what they authorised, when the caller knows it."""

    provider: str
    reference: str
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    idempotency_key: str
    channel: str
    customer: Customer
    lines: tuple[LineRequest, ...]
    delivery: Delivery
    currency: str | None = None
    payment: PaymentRequest | None = None


@dataclass(slots=True)
class OrderLine:
    id: str
    sku: str
    quantity: int
    unit_price: Money
    status: LineStatus
    backordered: int = 0
    incoming_id: str | None = None
    cancelled: int = 0
    returned: int = 0  # units received back from the customer
    # the VAT rate the line was sold at (its SKU's tax class in the destination country),
    # fixed when the order is placed so documents issued later agree with its totals; None
    # on orders placed before tax classes existed: the country's standard rate
    vat_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FulfillmentLine:
    """`quantity` units of `sku` to pick; they make `units` units of the order line (a kit
    line has one row per component, each carrying the kit units it belongs to)."""

    order_line_id: str
    sku: str
    quantity: int
    units: int


@dataclass(frozen=True, slots=True)
class TrackingScan:
    """One carrier event, as the carrier reported it (`at`) and as we received it."""

    status: TrackingStatus
    at: datetime
    recorded_at: datetime
    location: str | None = None
    description: str | None = None


@dataclass(slots=True)
class Fulfillment:
    id: str
    location: str
    status: FulfillmentStatus
    lines: list[FulfillmentLine]
    service_level: ServiceLevel | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    reason: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    tracking: list[TrackingScan] = field(default_factory=list)
    transfer_to: str | None = None  # a pickup store this stock travels to first


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """What happened, for staff (`message`) and, when the customer may see it, in plain
    words (`public`). Edits keep the value `before` and `after` the change."""

    at: datetime
    type: str
    message: str
    actor: str
    before: str | None = None
    after: str | None = None
    public: str | None = None

    @property
    def role(self) -> str:
        """The actor's role: `agent` of `agent:ann@…`, `guest`, `system`."""
        return self.actor.split(":", 1)[0]


@dataclass(slots=True)
class Order:
    id: str
    number: str
    channel: str
    customer: Customer
    currency: str
    delivery: Delivery
    status: OrderStatus
    lines: list[OrderLine]
    fulfillments: list[Fulfillment]
    subtotal: Money
    shipping: Money
    tax: Money
    total: Money
    placed_at: datetime
    placed_by: str
    hold_reason: str | None = None
    tags: frozenset[OrderTag] = frozenset()
    timeline: list[TimelineEntry] = field(default_factory=list)
    events: list[events.Event] = field(default_factory=list)
    promised_earliest: datetime | None = None
    promised_latest: datetime | None = None
    payment: Payment | None = None  # None: no payment needed (NOT_REQUIRED)

    @property
    def tax_added(self) -> bool:
        """Tax was added on top of the prices (Switzerland), not included in them."""
        return self.total.amount != self.subtotal.amount + self.shipping.amount

    def charged(self, list_amount: Decimal, line: OrderLine | None = None) -> Decimal:
        """What `list_amount` of `line`'s list price (None: of the shipping charge) cost the
        customer, tax included, unrounded. Where tax was added to the prices, at the line's
        own rate and the shipping at the goods' highest, as `totals` charged them; otherwise
        (and for orders placed before lines carried their rate) the order's total spread over
        its list prices."""
        rates = [ln.vat_rate for ln in self.lines]
        if self.tax_added and all(r is not None for r in rates):
            rate = line.vat_rate if line is not None else max(r for r in rates if r is not None)
            return list_amount * (1 + (rate or Decimal(0)))
        base = self.subtotal.amount + self.shipping.amount
        return list_amount * self.total.amount / base if base else Decimal(0)

    def fulfillment(self, fulfillment_id: str) -> Fulfillment:
        found = next((f for f in self.fulfillments if f.id == fulfillment_id), None)
        if found is None:
            raise errors.NotFound(f"order {self.number} has no fulfillment {fulfillment_id}",
                                  field=["fulfillmentId"])
        return found

    def record(self, type_: str, message: str, *, actor: str, at: datetime,
               public: str | None = None, before: str | None = None, after: str | None = None,
               fulfillment: Fulfillment | None = None) -> None:
        """Append to the timeline and raise the matching event, with the status as it is now
        (so settle statuses first)."""
        self.timeline.append(TimelineEntry(at, type_, message, actor, before, after, public))
        self.events.append(events.order_changed(
            type=type_, number=self.number, status=self.status.value, at=at,
            fulfillment=(fulfillment.id, fulfillment.location, fulfillment.status.value)
            if fulfillment else None))


def offer(order: Order, work: Iterable[Fulfillment], *, locations: Mapping[str, Location],
          at: datetime) -> None:
    """New work at THIRD_PARTY locations is offered to their integration: a
    FULFILLMENT_ASSIGNED entry and event (on the location's stream too) for each, naming the
    time it has to accept the work when the location has an acknowledgement window."""
    for f in work:
        where = locations.get(f.location)
        if where is None or not where.offered_work:
            continue
        units = sum(fl.quantity for fl in f.lines)
        within = (f"; to be accepted within {where.ack_minutes} minutes"
                  if where.ack_minutes else "")
        order.record("FULFILLMENT_ASSIGNED", f"Work offered to {f.location} ({units} units)"
                     f"{within}", actor="system", at=at, after=f.status.value, fulfillment=f)


def check_email(email: str, *, field: list[str]) -> str:
    email = (email or "").strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise errors.InvalidInput(f"{email!r} is not an email address", field=field)
    return email.lower()


def check_locale(locale: str | None, *, field: list[str]) -> str | None:
    """A language, optionally with its region (`it`, `en-GB`), or None."""
    if locale is None:
        return None
    if not LOCALE_RE.match(locale):
        raise errors.InvalidInput(f"{locale[:20]!r} is not a locale such as 'it' or 'en-GB'",
                                  field=field)
    return locale


def check_idempotency_key(key: str) -> str:
    if not 8 <= len(key or "") <= 128 or not key.isprintable():
        raise errors.InvalidInput("idempotencyKey must be 8-128 printable characters",
                                  field=["idempotencyKey"])
    return key


def merged_lines(lines: tuple[LineRequest, ...]) -> list[LineRequest]:
    """Check quantities and cart size; lines of the same SKU become one line."""
    if not lines:
        raise errors.InvalidInput("an order needs at least one line", field=["lines"])
    if len(lines) > MAX_LINES:
        raise errors.CartTooLarge(f"an order has at most {MAX_LINES} lines", field=["lines"])
    merged: dict[str, int] = {}
    for i, line in enumerate(lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise errors.InvalidQuantity(f"quantity must be 1-{MAX_QUANTITY}",
                                         field=["lines", str(i), "quantity"])
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
        if merged[line.sku] > MAX_QUANTITY:
            raise errors.InvalidQuantity(f"at most {MAX_QUANTITY} units of {line.sku}",
                                         field=["lines", str(i), "quantity"])
    return [LineRequest(sku, quantity) for sku, quantity in merged.items()]


def check_delivery(delivery: Delivery, *, channel: str,
                   locations: dict[str, Location]) -> Delivery:
    """Validate the delivery choice against the network."""
    if delivery.method is DeliveryMethod.SHIP:
        if delivery.address is None:
            raise errors.InvalidAddress("shipping needs an address",
                                        field=["delivery", "address"])
        address = delivery.address.validated(field=["delivery", "address"])
        return Delivery(DeliveryMethod.SHIP, delivery.service_level or ServiceLevel.STANDARD,
                        address, None, delivery.promise_option_id)
    code = delivery.pickup_location
    location = locations.get(code or "")
    if (location is None or Capability.PICKUP not in location.capabilities
            or channel not in location.channels or not location.active):
        raise errors.InvalidPickupLocation(
            f"{code!r} is not a pickup location for channel {channel}",
            field=["delivery", "pickupLocation"])
    return Delivery(DeliveryMethod.PICKUP, None, None, code, delivery.promise_option_id)


def price_lines(lines: list[LineRequest], *, skus: dict[str, Sku],
                currency: str) -> list[Money]:
    """Unit prices from the catalog, in the order's currency."""
    prices = []
    for i, line in enumerate(lines):
        sku = skus.get(line.sku)
        if sku is None:
            raise errors.UnknownSku(f"unknown SKU {line.sku!r}", field=["lines", str(i), "sku"])
        price = sku.price(currency)
        if price is None:
            raise errors.UnsupportedCurrency(f"{line.sku} has no price in {currency}",
                                             field=["lines", str(i), "sku"])
        prices.append(price)
    return prices


def check_currency(command: PlaceOrder, channel: Channel) -> str:
    return currency_for(command.currency, channel)


def currency_for(requested: str | None, channel: Channel) -> str:
    """The currency asked for (default: the channel's), if the channel sells in it."""
    currency = requested or channel.default_currency
    if currency not in channel.currencies:
        raise errors.UnsupportedCurrency(
            f"channel {channel.code} sells in {', '.join(channel.currencies)}, not {currency}",
            field=["currency"])
    return currency


def totals(prices: list[Money], lines: list[LineRequest], *, delivery: Delivery,
           destination_country: str, currency: str, rates: list[Decimal] | None = None
           ) -> tuple[Money, Money, Money, Money]:
    """(subtotal, shipping, tax, total) for the priced lines and the delivery choice;
    `rates`: each line's VAT rate (default: the country's standard rate)."""
    subtotal = subtotal_of(prices, lines, currency=currency)
    fee = shipping_fee(delivery.service_level if delivery.method is DeliveryMethod.SHIP
                       else None, subtotal.amount)
    shipping = Money(fee, currency)
    if rates is None:
        rates = [tax.rate_for(destination_country)] * len(lines)
    taxed = [(price.amount * line.quantity, rate)
             for price, line, rate in zip(prices, lines, rates, strict=True)]
    taxed.append((fee, tax.shipping_rate(rates, destination_country)))
    tax_amount, added = tax.tax_by_rate(destination_country, taxed)
    total = Money(subtotal.amount + fee + added, currency)
    return subtotal, shipping, Money(tax_amount, currency), total


def subtotal_of(prices: list[Money], lines: list[LineRequest], *, currency: str) -> Money:
    subtotal = Money.zero(currency)
    for price, line in zip(prices, lines, strict=True):
        subtotal = subtotal + price.times(line.quantity)
    return subtotal


def shipping_fee(service_level: ServiceLevel | None, subtotal: Decimal) -> Decimal:
    """What the customer pays for delivery (pickups: None, free)."""
    if service_level is None:
        return Decimal("0.00")
    if service_level is ServiceLevel.STANDARD and subtotal >= FREE_STANDARD_SHIPPING_FROM:
        return Decimal("0.00")
    return SHIPPING_FEE[service_level]


def status_after_placement(lines: list[OrderLine]) -> OrderStatus:
    backordered = sum(1 for line in lines if line.backordered)
    if backordered == 0:
        return OrderStatus.ALLOCATED
    if all(line.backordered == line.quantity for line in lines):
        return OrderStatus.BACKORDERED
    return OrderStatus.PARTIALLY_ALLOCATED


def line_status(quantity: int, backordered: int) -> LineStatus:
    if backordered == 0:
        return LineStatus.ALLOCATED
    return LineStatus.BACKORDERED if backordered == quantity else LineStatus.PARTIALLY_ALLOCATED
