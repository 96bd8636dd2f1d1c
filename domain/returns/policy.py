"""Return policies as data: one per channel, overridable per product group.

A policy says for how long after delivery items may come back (counted in whole days of the
customer's own calendar), what never comes back, who pays for the way back, which requests
are approved without an agent, what the customer may get instead (refund, exchange, store
credit) and how the parcel travels (shipped back with a label, or dropped at a store).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.catalog import HandlingClass, LocationType, Sku
from domain.orders import OrderTag
from domain.sourcing.shipping import zone


class Resolution(StrEnum):
    REFUND = "REFUND"
    EXCHANGE = "EXCHANGE"
    STORE_CREDIT = "STORE_CREDIT"


class ReturnMethod(StrEnum):
    SHIP_BACK = "SHIP_BACK"
    DROP_AT_STORE = "DROP_AT_STORE"


class Payer(StrEnum):
    CUSTOMER = "CUSTOMER"
    MERCHANT = "MERCHANT"


ALL_RESOLUTIONS = frozenset(Resolution)
ALL_METHODS = frozenset(ReturnMethod)


@dataclass(frozen=True, slots=True)
class GroupRule:
    """What a product group changes of its channel's policy (None: as the channel says)."""

    returnable: bool = True
    window_days: int | None = None
    resolutions: frozenset[Resolution] | None = None
    # the kinds of location that take this group back, whatever the method says
    received_at: frozenset[LocationType] | None = None


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    channel: str
    window_days: int = 30
    resolutions: frozenset[Resolution] = ALL_RESOLUTIONS
    methods: frozenset[ReturnMethod] = ALL_METHODS
    # who pays for a shipped-back parcel; a customer-paid label is deducted from the refund
    shipping_paid_by: Payer = Payer.MERCHANT
    return_shipping_fee: Decimal = Decimal("0.00")
    # the original delivery charge is refunded with the return that brings everything back
    refund_original_shipping: bool = False
    # approved without an agent when the refund (for exchanges: the value) is at most this
    auto_approve_up_to: Decimal | None = Decimal("150.00")
    # never approved automatically: an agent looks first
    manual_review_tags: frozenset[OrderTag] = frozenset({OrderTag.REPLACEMENT})
    # an exchange's replacement waits for the return, except for VIP orders
    vip_exchange_ships_at_once: bool = True
    non_returnable_handling: frozenset[HandlingClass] = frozenset({HandlingClass.HAZMAT})
    groups: dict[str, GroupRule] = field(default_factory=dict)
    ship_back_to: frozenset[LocationType] = frozenset({LocationType.WAREHOUSE})
    drop_at: frozenset[LocationType] = frozenset({LocationType.STORE})
    carrier: str = "BRT"

    def rule(self, sku: Sku) -> GroupRule:
        return self.groups.get(sku.product_group, GroupRule())

    def returnable(self, sku: Sku) -> bool:
        return self.rule(sku).returnable and sku.handling not in self.non_returnable_handling

    def window(self, sku: Sku) -> int:
        days = self.rule(sku).window_days
        return self.window_days if days is None else days

    def resolutions_for(self, sku: Sku) -> frozenset[Resolution]:
        allowed = self.rule(sku).resolutions
        return self.resolutions if allowed is None else self.resolutions & allowed

    def fee(self, method: ReturnMethod, resolution: Resolution) -> Decimal:
        """What the customer pays for the way back: a label, unless the merchant pays, the
        parcel is dropped at a store, or it is an exchange."""
        if (self.shipping_paid_by is Payer.CUSTOMER and method is ReturnMethod.SHIP_BACK
                and resolution is not Resolution.EXCHANGE):
            return self.return_shipping_fee
        return Decimal("0.00")

    def receivers(self, method: ReturnMethod, skus: Iterable[Sku] = ()) -> frozenset[LocationType]:
        """The kinds of location that take these items back by `method`."""
        kinds = self.ship_back_to if method is ReturnMethod.SHIP_BACK else self.drop_at
        for sku in skus:
            only = self.rule(sku).received_at
            if only is not None:
                kinds = kinds & only
        return kinds


# Personalised goods and opened hygiene products never come back; lamps have 14 days and go
# back to a warehouse only (stores have no room for them).
_GROUPS = {
    "personalised": GroupRule(returnable=False),
    "hygiene": GroupRule(returnable=False),
    "lighting": GroupRule(window_days=14,
                          received_at=frozenset({LocationType.WAREHOUSE})),
    "gift-cards": GroupRule(returnable=False),
}
POLICIES: dict[str, ReturnPolicy] = {
    "web": ReturnPolicy("web", shipping_paid_by=Payer.CUSTOMER,
                        return_shipping_fee=Decimal("4.90"), groups=_GROUPS),
    "call_center": ReturnPolicy("call_center", shipping_paid_by=Payer.CUSTOMER,
                                return_shipping_fee=Decimal("4.90"), groups=_GROUPS),
    "store": ReturnPolicy("store", window_days=30, groups=_GROUPS,
                          methods=frozenset({ReturnMethod.DROP_AT_STORE})),
    # the marketplace refunds its own customers; we take the goods back and swap them
    "marketplace": ReturnPolicy("marketplace", window_days=14, groups=_GROUPS,
                                resolutions=frozenset({Resolution.REFUND}),
                                auto_approve_up_to=None),
}


def policy_for(channel: str) -> ReturnPolicy:
    """The channel's policy (`marketplace:*` share one); unknown channels get the web's."""
    if channel.startswith("marketplace:"):
        return POLICIES["marketplace"]
    return POLICIES.get(channel, POLICIES["web"])


# The customer's calendar, by the country they receive in (an order has no zone of its own).
COUNTRY_ZONES = {
    "IT": "Europe/Rome", "DE": "Europe/Berlin", "FR": "Europe/Paris", "ES": "Europe/Madrid",
    "AT": "Europe/Vienna", "CH": "Europe/Zurich", "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels", "PT": "Europe/Lisbon", "IE": "Europe/Dublin",
    "GB": "Europe/London", "GR": "Europe/Athens", "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen", "PL": "Europe/Warsaw", "US": "America/New_York",
}


def zone_of_country(country: str | None) -> str:
    return COUNTRY_ZONES.get((country or "").upper(), "UTC")


def window_end(delivered_at: datetime, days: int, time_zone: str) -> datetime:
    """The first moment items delivered at `delivered_at` may no longer be returned: the
    midnight after the last day of the window, in the customer's zone (delivery day is day 0).
    """
    tz = zone(time_zone)
    last_day = delivered_at.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
