"""The network and the catalog: SKUs (and kits), locations, channels, addresses.

The catalog context: SKUs and kits, locations and their capabilities, channels; its use cases
upsert them (`services`).

May use: kernel, access.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from enum import StrEnum

from domain.catalog.hours import OpeningHours
from domain.kernel import errors
from domain.kernel.geo import GeoPoint
from domain.kernel.money import Money, check_currency, to_amount
from domain.kernel.tax import TaxClass

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
MAX_NAME = 200
MAX_KIT_COMPONENTS = 50


class HandlingClass(StrEnum):
    STANDARD = "STANDARD"
    FRAGILE = "FRAGILE"
    HAZMAT = "HAZMAT"
    OVERSIZED = "OVERSIZED"
    COLD_CHAIN = "COLD_CHAIN"


class LocationType(StrEnum):
    WAREHOUSE = "WAREHOUSE"
    STORE = "STORE"
    THIRD_PARTY = "THIRD_PARTY"
    SUPPLIER = "SUPPLIER"


class Capability(StrEnum):
    SHIP = "SHIP"
    PICKUP = "PICKUP"
    SHIP_FROM_STORE = "SHIP_FROM_STORE"


def check_code(value: str, *, what: str, field: list[str]) -> str:
    if not CODE_RE.match(value or ""):
        raise errors.InvalidInput(
            f"{what} {value!r} must be 1-64 letters, digits, '-', '_', '.', ':'", field=field)
    return value


def check_name(value: str, *, field: list[str]) -> str:
    value = (value or "").strip()
    if not value or len(value) > MAX_NAME:
        raise errors.InvalidInput(f"name must be 1-{MAX_NAME} characters", field=field)
    return value


# Postal code shapes of the countries we ship to most; others need only be non-empty.
POSTAL_CODE = {
    "IT": r"\d{5}", "DE": r"\d{5}", "FR": r"\d{5}", "ES": r"\d{5}", "AT": r"\d{4}",
    "CH": r"\d{4}", "NL": r"\d{4} ?[A-Z]{2}", "BE": r"\d{4}", "PT": r"\d{4}-\d{3}",
    "US": r"\d{5}(-\d{4})?", "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
}


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None
    point: GeoPoint | None = None

    def validated(self, *, field: list[str]) -> Address:
        """Return a normalised copy or raise InvalidAddress naming the first bad part."""
        def bad(part: str, why: str) -> errors.InvalidAddress:
            return errors.InvalidAddress(f"address {part} {why}", field=[*field, part])

        for part in ("line1", "city"):
            value = (getattr(self, part) or "").strip()
            if not value or len(value) > MAX_NAME:
                raise bad(part, f"must be 1-{MAX_NAME} characters")
        country = (self.country or "").strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise bad("country", "must be an ISO 3166 alpha-2 code")
        postal = (self.postal_code or "").strip().upper()
        shape = POSTAL_CODE.get(country, r"[A-Z0-9][A-Z0-9 \-]{1,11}")
        if not re.fullmatch(shape, postal):
            raise bad("postalCode", f"{postal!r} is not a valid postal code for {country}")
        if self.point is not None and not self.point.valid():
            raise bad("latitude", "and longitude must be within ±90 and ±180")
        return Address(line1=self.line1.strip(), city=self.city.strip(), postal_code=postal,
                       country=country, line2=self.line2, region=self.region, point=self.point)


@dataclass(frozen=True, slots=True)
class KitComponent:
    sku: str
    quantity: int


@dataclass(slots=True)
class Sku:
    sku: str
    name: str
    product_group: str
    handling: HandlingClass
    weight_grams: int
    prices: dict[str, Decimal] = field(default_factory=dict)
    backorderable: bool = False
    preorderable: bool = False
    components: tuple[KitComponent, ...] = ()
    tax_class: TaxClass = TaxClass.STANDARD  # its VAT rate in each country (kernel/tax.py)

    @property
    def is_kit(self) -> bool:
        return bool(self.components)

    def price(self, currency: str) -> Money | None:
        amount = self.prices.get(currency)
        return None if amount is None else Money(amount, currency)


def new_sku(*, sku: str, name: str, product_group: str, handling: str, weight_grams: int,
            prices: list[tuple[str | Decimal, str]], backorderable: bool, preorderable: bool,
            components: list[tuple[str, int]], at: list[str],
            tax_class: str = TaxClass.STANDARD) -> Sku:
    """Validate one SKU of an upsert (`at` is its path in the input)."""
    check_code(sku, what="sku", field=[*at, "sku"])
    try:
        handling_class = HandlingClass(handling)
    except ValueError:
        raise errors.InvalidInput(f"unknown handling class {handling!r}",
                                  field=[*at, "handling"]) from None
    try:
        taxed_as = TaxClass(tax_class)
    except ValueError:
        raise errors.InvalidInput(f"unknown tax class {tax_class!r}",
                                  field=[*at, "taxClass"]) from None
    if not 0 <= weight_grams <= 5_000_000:
        raise errors.InvalidInput("weightGrams must be 0-5000000", field=[*at, "weightGrams"])
    price_map: dict[str, Decimal] = {}
    for i, (amount, currency) in enumerate(prices):
        currency = check_currency(currency, field=[*at, "prices", str(i), "currency"])
        if currency in price_map:
            raise errors.InvalidInput(f"two prices in {currency}", field=[*at, "prices", str(i)])
        price_map[currency] = to_amount(amount, field=[*at, "prices", str(i), "amount"])
    if len(components) > MAX_KIT_COMPONENTS:
        raise errors.InvalidInput("too many kit components", field=[*at, "components"])
    seen: set[str] = set()
    for i, (component, quantity) in enumerate(components):
        if component == sku:
            raise errors.InvalidInput("a kit cannot contain itself",
                                      field=[*at, "components", str(i)])
        if component in seen:
            raise errors.InvalidInput(f"component {component} listed twice",
                                      field=[*at, "components", str(i)])
        if not 1 <= quantity <= 1000:
            raise errors.InvalidQuantity("component quantity must be 1-1000",
                                         field=[*at, "components", str(i), "quantity"])
        seen.add(component)
    group = check_code(product_group, what="product group", field=[*at, "productGroup"])
    return Sku(sku=sku, name=check_name(name, field=[*at, "name"]), product_group=group,
               handling=handling_class, weight_grams=weight_grams, prices=price_map,
               backorderable=backorderable, preorderable=preorderable,
               components=tuple(KitComponent(c, q) for c, q in components), tax_class=taxed_as)


@dataclass(frozen=True, slots=True)
class Location:
    code: str
    name: str
    type: LocationType
    address: Address
    capabilities: frozenset[Capability]
    channels: tuple[str, ...]
    handling_classes: frozenset[HandlingClass] = frozenset(HandlingClass)
    time_zone: str = "UTC"
    cutoff_time: time = time(15, 0)
    processing_hours: int = 24
    daily_capacity: int | None = None
    cost_per_shipment: Decimal = Decimal("5.00")
    cost_per_kg: Decimal = Decimal("0.50")
    # kg CO2e per tonne-km of the road freight carrying this location's parcels (line haul;
    # each shipped parcel also pays a last-mile drop: domain/sourcing/emissions.py)
    carbon_factor: float = 0.1
    active: bool = True
    # THIRD_PARTY only: minutes its integration has to acknowledge (accept) work offered to
    # it before the work is re-sourced; None: no limit
    ack_minutes: int | None = None
    # when it works (its own time zone); None: around the clock (domain/catalog/hours.py)
    opening_hours: OpeningHours | None = None

    @property
    def point(self) -> GeoPoint | None:
        return self.address.point

    @property
    def offered_work(self) -> bool:
        """Work here is offered to an integration (FULFILLMENT_ASSIGNED), which accepts it."""
        return self.type is LocationType.THIRD_PARTY

    def ships(self) -> bool:
        return bool(self.capabilities & {Capability.SHIP, Capability.SHIP_FROM_STORE})

    def accepts(self, handling: HandlingClass) -> bool:
        return handling in self.handling_classes


@dataclass(frozen=True, slots=True)
class Channel:
    code: str
    name: str
    currencies: tuple[str, ...]
    payment_required: bool = False  # orders only with a payment (placeOrder's `payment`)
    # how its mails look (domain/notifications): the sender's display name, an accent colour
    # (#rrggbb) and the language of orders that name none
    sender_name: str | None = None
    brand_color: str | None = None
    locale: str | None = None

    @property
    def default_currency(self) -> str:
        return self.currencies[0]


MAIL_LANGUAGES = ("en", "it")  # the languages customer mails are written in
LOCALE_RE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")  # a language, and its region: it, en-GB


@dataclass(frozen=True, slots=True)
class ChannelMail:
    """A change to how a channel's mails look: None leaves a field as it is, "" clears it."""

    sender_name: str | None = None
    brand_color: str | None = None
    locale: str | None = None

    def checked(self) -> ChannelMail:
        name = self.sender_name
        if name is not None:
            name = name.strip()
            # it goes into the From header: a line break or an invisible character would
            # break or disguise every mail of the channel
            if len(name) > 100 or any(c in name for c in '<>"\\,;:@') \
                    or not name.isprintable():
                raise errors.InvalidInput("senderName: at most 100 printable characters on one "
                                          "line, none of < > \" \\ , ; : @",
                                          field=["senderName"])
        color = self.brand_color
        if color:
            color = color.strip().lower()
            if not re.fullmatch(r"#[0-9a-f]{6}", color):
                raise errors.InvalidInput("brandColor must be #rrggbb, e.g. #0b5fff",
                                          field=["brandColor"])
        locale = self.locale
        if locale:
            locale = locale.strip()
            if not LOCALE_RE.match(locale) or locale[:2] not in MAIL_LANGUAGES:
                raise errors.InvalidInput(
                    f"locale must be a language mails are written in ({', '.join(MAIL_LANGUAGES)}"
                    "), optionally with its region: it, it-IT, en-GB",
                    field=["locale"])
        return ChannelMail(name, color, locale)

    def apply(self, channel: Channel) -> Channel:
        def pick(given: str | None, current: str | None) -> str | None:
            return current if given is None else (given or None)

        return dataclasses.replace(
            channel, sender_name=pick(self.sender_name, channel.sender_name),
            brand_color=pick(self.brand_color, channel.brand_color),
            locale=pick(self.locale, channel.locale))


def check_channel_code(code: str, *, field: list[str]) -> str:
    """Channels are web, store, call_center or marketplace:<name> (SPEC §1)."""
    if code in ("web", "store", "call_center"):
        return code
    if code.startswith("marketplace:") and CODE_RE.match(code.removeprefix("marketplace:")):
        return code
    raise errors.UnknownChannel(
        f"channel {code!r} must be web, store, call_center or marketplace:<name>", field=field)


def new_location(*, code: str, name: str, type: str, address: Address,
                 capabilities: list[str], channels: list[str], handling_classes: list[str] | None,
                 time_zone: str, cutoff_time: str, processing_hours: int,
                 daily_capacity: int | None, cost_per_shipment: str | None,
                 cost_per_kg: str | None, carbon_factor: float | None, active: bool,
                 at: list[str], ack_minutes: int | None = None,
                 opening_hours: OpeningHours | None = None) -> Location:
    """Validate one location of an upsert (`at` is its path in the input)."""
    check_code(code, what="location code", field=[*at, "code"])
    try:
        location_type = LocationType(type)
        caps = frozenset(Capability(c) for c in capabilities)
        handling = (frozenset(HandlingClass) if handling_classes is None
                    else frozenset(HandlingClass(h) for h in handling_classes))
    except ValueError as exc:
        raise errors.InvalidInput(str(exc), field=at) from None
    for i, channel in enumerate(channels):
        check_channel_code(channel, field=[*at, "channels", str(i)])
    if not address.point:
        raise errors.InvalidAddress("a location needs latitude and longitude",
                                    field=[*at, "address", "latitude"])
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", cutoff_time or "")
    if not match:
        raise errors.InvalidInput("cutoffTime must be HH:MM", field=[*at, "cutoffTime"])
    if not 0 <= processing_hours <= 24 * 30:
        raise errors.InvalidInput("processingHours must be 0-720", field=[*at, "processingHours"])
    if daily_capacity is not None and not 0 <= daily_capacity <= 1_000_000:
        raise errors.InvalidInput("dailyCapacity must be 0-1000000", field=[*at, "dailyCapacity"])
    if not _valid_time_zone(time_zone):
        raise errors.InvalidInput(f"unknown time zone {time_zone!r}", field=[*at, "timeZone"])
    carbon = 0.1 if carbon_factor is None else carbon_factor
    if not 0 <= carbon <= 10:
        raise errors.InvalidInput("carbonFactor must be 0-10", field=[*at, "carbonFactor"])
    _check_ack_minutes(ack_minutes, location_type, field=[*at, "ackMinutes"])
    return Location(
        code=code, name=check_name(name, field=[*at, "name"]), type=location_type,
        address=address.validated(field=[*at, "address"]), capabilities=caps,
        channels=tuple(dict.fromkeys(channels)), handling_classes=handling, time_zone=time_zone,
        cutoff_time=time(int(match[1]), int(match[2])), processing_hours=processing_hours,
        daily_capacity=daily_capacity,
        cost_per_shipment=to_amount(cost_per_shipment or "5.00",
                                    field=[*at, "costPerShipment"]),
        cost_per_kg=to_amount(cost_per_kg or "0.50", field=[*at, "costPerKg"]),
        carbon_factor=carbon, active=active, ack_minutes=ack_minutes,
        opening_hours=opening_hours)


MAX_ACK_MINUTES = 7 * 24 * 60


def _check_ack_minutes(minutes: int | None, type_: LocationType, *, field: list[str]) -> None:
    if minutes is None:
        return
    if not 1 <= minutes <= MAX_ACK_MINUTES:
        raise errors.InvalidInput(f"ackMinutes must be 1-{MAX_ACK_MINUTES}", field=field)
    if type_ is not LocationType.THIRD_PARTY:
        raise errors.InvalidInput("ackMinutes applies to THIRD_PARTY locations only (their "
                                  "integration acknowledges the work)", field=field)


def _valid_time_zone(name: str) -> bool:
    import zoneinfo  # standard library; imported here to keep module import cheap

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


DEFAULT_CHANNELS = (
    Channel("web", "Web shop", ("EUR",)),
    Channel("store", "Stores (point of sale)", ("EUR",)),
    Channel("call_center", "Call centre", ("EUR",)),
    Channel("marketplace:amazon", "Amazon marketplace", ("EUR",)),
)
