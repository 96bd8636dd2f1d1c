"""Types shared by every area: money, addresses, pages, enums mirrored from the domain."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeAlias

import strawberry
from strawberry import relay

from domain import catalog, orders
from domain.catalog import Address as DomainAddress
from domain.kernel import tax
from domain.kernel.errors import InvalidInput, NotFound
from domain.kernel.geo import GeoPoint
from domain.kernel.money import Money as DomainMoney

# strawberry.enum() registers the GraphQL definition on the domain enum in place and returns that
# same class, so each public name is a plain alias of the domain enum (usable in annotations) and
# the call is made for its registration.
HandlingClass: TypeAlias = catalog.HandlingClass
strawberry.enum(HandlingClass, description="How an item must be handled.")
TaxClass: TypeAlias = tax.TaxClass
strawberry.enum(TaxClass, description="A VAT rate class: the rate is the class's in the country "
                                      "the goods go to (Italy: 22, 10, 5, 4, 0 %).")
LocationType: TypeAlias = catalog.LocationType
strawberry.enum(LocationType, description="Kind of location.")
Capability: TypeAlias = catalog.Capability
strawberry.enum(Capability, description="What a location can do.")
OrderStatus: TypeAlias = orders.OrderStatus
strawberry.enum(OrderStatus, description="Order status (SPEC §2).")
LineStatus: TypeAlias = orders.LineStatus
strawberry.enum(LineStatus, description="Status of one order line.")
FulfillmentStatus: TypeAlias = orders.FulfillmentStatus
strawberry.enum(FulfillmentStatus, description="Fulfillment status (SPEC §2).")
DeliveryMethod: TypeAlias = orders.DeliveryMethod
strawberry.enum(DeliveryMethod, description="Ship or pick up.")
ServiceLevel: TypeAlias = orders.ServiceLevel
strawberry.enum(ServiceLevel, description="Carrier service level.")
TrackingStatus: TypeAlias = orders.TrackingStatus
strawberry.enum(TrackingStatus, description="Normalised carrier scan taxonomy.")
OrderTag: TypeAlias = orders.OrderTag
strawberry.enum(OrderTag, description="Labels agents put on orders.")

MAX_PAGE = 100


@strawberry.type(description="An amount in one currency; the amount is a decimal string.")
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def from_domain(cls, money: DomainMoney) -> Money:
        return cls(amount=money.amount, currency=money.currency)


@strawberry.input(description="A point on Earth in decimal degrees.")
class GeoPointInput:
    latitude: float
    longitude: float


@strawberry.input(description="A postal address; latitude/longitude improve sourcing.")
class AddressInput:
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    region: str | None = None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    latitude: float | None = None
    longitude: float | None = None

    def to_domain(self) -> DomainAddress:
        point = (GeoPoint(self.latitude, self.longitude)
                 if self.latitude is not None and self.longitude is not None else None)
        return DomainAddress(line1=self.line1, city=self.city, postal_code=self.postal_code,
                             country=self.country, line2=self.line2, region=self.region,
                             point=point)


@strawberry.type(description="A postal address.")
class Address:
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str
    latitude: float | None
    longitude: float | None

    @classmethod
    def from_domain(cls, a: DomainAddress) -> Address:
        return cls(line1=a.line1, line2=a.line2, city=a.city, postal_code=a.postal_code,
                   region=a.region, country=a.country,
                   latitude=a.point.latitude if a.point else None,
                   longitude=a.point.longitude if a.point else None)


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, has_previous: bool) -> PageInfo:
        return cls(has_next_page=has_next, has_previous_page=has_previous,
                   start_cursor=cursors[0] if cursors else None,
                   end_cursor=cursors[-1] if cursors else None)


def page_size(first: int | None, *, default: int = 20) -> int:
    """Validate `first`: 0-100."""
    if first is None:
        return default
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}", field=["first"])
    return first


def node_id(value: str, type_name: str, *, field: list[str]) -> str:
    """The database id inside a Relay global id of `type_name`; anything else is NOT_FOUND
    (a refusal the client can show, not a crash)."""
    try:
        gid = relay.GlobalID.from_id(value)
    except ValueError:
        raise NotFound(f"{value!r} is not a {type_name} id", field=field) from None
    if gid.type_name != type_name or not 0 < len(gid.node_id) <= 64 or "\x00" in gid.node_id:
        raise NotFound(f"{value!r} is not a {type_name} id", field=field)
    return gid.node_id


def link_base(request: Any) -> str:
    """This server's address for links in an answer: the request's, with a WebSocket's
    ws(s):// made http(s):// (a subscription's links are opened by the browser); "" without a
    request."""
    if request is None:
        return ""
    base = str(request.base_url).rstrip("/")
    for socket, web in (("ws://", "http://"), ("wss://", "https://")):
        if base.startswith(socket):
            return web + base[len(socket):]
    return base
