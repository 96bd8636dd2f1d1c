"""Orders: PlaceOrder validation, pricing, totals and the status a new order gets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain import orders
from domain.catalog import Address, Capability, Channel, HandlingClass, Location, LocationType, Sku
from domain.kernel import errors
from domain.kernel.geo import GeoPoint
from domain.kernel.money import Money
from domain.orders import (
    Delivery,
    DeliveryMethod,
    LineRequest,
    LineStatus,
    OrderStatus,
    ServiceLevel,
)

ROME = Address("Via del Corso 1", "Roma", "00186", "IT", point=GeoPoint(41.9, 12.48))


def store(code: str = "ST-ROMA", *,
          capabilities: frozenset[Capability] = frozenset({Capability.PICKUP}),
          channels: tuple[str, ...] = ("web",), active: bool = True) -> Location:
    return Location(code=code, name="Roma Corso", type=LocationType.STORE, address=ROME,
                    capabilities=capabilities, channels=channels, active=active)


def sku(code: str, **prices: str) -> Sku:
    return Sku(sku=code, name=code, product_group="general", handling=HandlingClass.STANDARD,
               weight_grams=100, prices={c: Decimal(a) for c, a in prices.items()})


def lines(*pairs: tuple[str, int]) -> tuple[LineRequest, ...]:
    return tuple(LineRequest(s, q) for s, q in pairs)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def ship(level: ServiceLevel = ServiceLevel.STANDARD) -> Delivery:
    return Delivery(DeliveryMethod.SHIP, level, ROME)


def amounts(result: tuple[Money, ...]) -> tuple[str, ...]:
    """Exact string form, so 0 and 0.00 (equal as Decimals) are told apart."""
    return tuple(str(m.amount) for m in result)


# --- merged_lines -----------------------------------------------------------------------------


def test_an_order_without_lines_is_invalid() -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        orders.merged_lines(())

    assert refused.value.field == ["lines"]


def test_more_than_one_hundred_lines_is_a_cart_too_large() -> None:
    with pytest.raises(errors.CartTooLarge) as refused:
        orders.merged_lines(lines(*((f"SKU-{i}", 1) for i in range(101))))

    assert refused.value.field == ["lines"]
    assert refused.value.code == "CART_TOO_LARGE"


def test_exactly_one_hundred_lines_are_accepted() -> None:
    merged = orders.merged_lines(lines(*((f"SKU-{i}", 1) for i in range(100))))

    assert len(merged) == 100


@pytest.mark.parametrize("quantity", [0, -1, 1000])
def test_quantity_out_of_range_is_refused_at_its_line(quantity: int) -> None:
    with pytest.raises(errors.InvalidQuantity) as refused:
        orders.merged_lines(lines(("A", 1), ("B", 2), ("C", quantity)))

    assert refused.value.field == ["lines", "2", "quantity"]
    assert refused.value.code == "INVALID_QUANTITY"


def test_duplicate_skus_merge_into_one_line_in_first_seen_order() -> None:
    merged = orders.merged_lines(lines(("A", 2), ("B", 1), ("A", 3), ("C", 999)))

    assert merged == [LineRequest("A", 5), LineRequest("B", 1), LineRequest("C", 999)]


def test_merged_quantity_may_reach_but_not_exceed_999() -> None:
    assert orders.merged_lines(lines(("A", 500), ("A", 499))) == [LineRequest("A", 999)]

    with pytest.raises(errors.InvalidQuantity) as refused:
        orders.merged_lines(lines(("A", 500), ("B", 1), ("A", 500)))

    assert refused.value.field == ["lines", "2", "quantity"]


# --- check_email, check_idempotency_key -------------------------------------------------------


def test_email_is_trimmed_and_lowercased() -> None:
    assert orders.check_email("  Ada.Lovelace@Example.COM ", field=["customer", "email"]) == (
        "ada.lovelace@example.com")


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@example",
                                   "ada@example.c", "a da@example.com", "ada@@example.com",
                                   "a" * 65 + "@example.com", "a@" + "b" * 250 + ".com"])
def test_malformed_email_is_refused_at_the_given_field(email: str) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        orders.check_email(email, field=["customer", "email"])

    assert refused.value.field == ["customer", "email"]


@pytest.mark.parametrize("key", ["k" * 8, "k" * 128, "order-2030-01-02-ada"])
def test_idempotency_key_of_8_to_128_printable_characters_is_kept(key: str) -> None:
    assert orders.check_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "k" * 7, "k" * 129, "key-with\nnewline", "tab\tinside-key"])
def test_bad_idempotency_key_is_refused(key: str) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        orders.check_idempotency_key(key)

    assert refused.value.field == ["idempotencyKey"]


# --- check_delivery ---------------------------------------------------------------------------


def test_shipping_without_an_address_is_an_invalid_address() -> None:
    with pytest.raises(errors.InvalidAddress) as refused:
        orders.check_delivery(Delivery(DeliveryMethod.SHIP), channel="web", locations={})

    assert refused.value.field == ["delivery", "address"]


def test_shipping_to_a_bad_italian_postal_code_names_the_postal_code() -> None:
    address = Address("Via Roma 1", "Roma", "0018", "IT")

    with pytest.raises(errors.InvalidAddress) as refused:
        orders.check_delivery(Delivery(DeliveryMethod.SHIP, address=address), channel="web",
                              locations={})

    assert refused.value.field == ["delivery", "address", "postalCode"]


def test_shipping_defaults_to_standard_and_normalises_the_address() -> None:
    given = Delivery(DeliveryMethod.SHIP, None, Address(" Via Roma 1 ", "Roma", "00184", "it"),
                     pickup_location="ST-ROMA", promise_option_id="opt-1")

    checked = orders.check_delivery(given, channel="web", locations={})

    assert checked == Delivery(DeliveryMethod.SHIP, ServiceLevel.STANDARD,
                               Address("Via Roma 1", "Roma", "00184", "IT"), None, "opt-1")


def test_pickup_at_a_pickup_location_of_the_channel_is_accepted_without_address() -> None:
    given = Delivery(DeliveryMethod.PICKUP, ServiceLevel.EXPRESS, ROME, "ST-ROMA", "opt-2")

    checked = orders.check_delivery(given, channel="web", locations={"ST-ROMA": store()})

    assert checked == Delivery(DeliveryMethod.PICKUP, None, None, "ST-ROMA", "opt-2")


@pytest.mark.parametrize("location", [
    store(capabilities=frozenset({Capability.SHIP, Capability.SHIP_FROM_STORE})),
    store(channels=("store",)),
    store(active=False),
], ids=["without-pickup-capability", "not-selling-for-channel", "inactive"])
def test_pickup_at_an_unsuitable_location_is_refused(location: Location) -> None:
    with pytest.raises(errors.InvalidPickupLocation) as refused:
        orders.check_delivery(Delivery(DeliveryMethod.PICKUP, pickup_location="ST-ROMA"),
                              channel="web", locations={"ST-ROMA": location})

    assert refused.value.field == ["delivery", "pickupLocation"]
    assert refused.value.code == "INVALID_PICKUP_LOCATION"


@pytest.mark.parametrize("code", [None, "ST-NOWHERE"])
def test_pickup_at_an_unknown_or_missing_location_is_refused(code: str | None) -> None:
    with pytest.raises(errors.InvalidPickupLocation):
        orders.check_delivery(Delivery(DeliveryMethod.PICKUP, pickup_location=code),
                              channel="web", locations={"ST-ROMA": store()})


# --- price_lines, check_currency --------------------------------------------------------------


def test_lines_are_priced_in_the_order_currency() -> None:
    catalog = {"A": sku("A", EUR="19.90", USD="21.50"), "B": sku("B", EUR="5.00")}

    prices = orders.price_lines([LineRequest("A", 2), LineRequest("B", 1)], skus=catalog,
                                currency="EUR")

    assert prices == [eur("19.90"), eur("5.00")]


def test_unknown_sku_is_refused_at_its_line() -> None:
    with pytest.raises(errors.UnknownSku) as refused:
        orders.price_lines([LineRequest("A", 1), LineRequest("GHOST", 1)],
                           skus={"A": sku("A", EUR="1.00")}, currency="EUR")

    assert refused.value.field == ["lines", "1", "sku"]


def test_sku_without_a_price_in_the_currency_is_unsupported() -> None:
    with pytest.raises(errors.UnsupportedCurrency) as refused:
        orders.price_lines([LineRequest("A", 1)], skus={"A": sku("A", EUR="1.00")},
                           currency="USD")

    assert refused.value.field == ["lines", "0", "sku"]


def _command(currency: str | None) -> orders.PlaceOrder:
    return orders.PlaceOrder("key-12345678", "web", orders.Customer("ada@example.com"),
                             lines(("A", 1)), ship(), currency)


def test_order_currency_defaults_to_the_channel_default() -> None:
    channel = Channel("web", "Web", ("EUR", "CHF"))

    assert orders.check_currency(_command(None), channel) == "EUR"
    assert orders.check_currency(_command("CHF"), channel) == "CHF"


def test_currency_the_channel_does_not_sell_in_is_refused() -> None:
    with pytest.raises(errors.UnsupportedCurrency) as refused:
        orders.check_currency(_command("USD"), Channel("web", "Web", ("EUR",)))

    assert refused.value.field == ["currency"]


# --- totals -----------------------------------------------------------------------------------


def totals(price: str, quantity: int, *, delivery: Delivery, country: str = "IT"
           ) -> tuple[str, ...]:
    return amounts(orders.totals([eur(price)], [LineRequest("A", quantity)], delivery=delivery,
                                 destination_country=country, currency="EUR"))


def test_italian_vat_is_included_in_prices_and_shipping() -> None:
    # 2 × 19.90 + 4.90 = 44.70, of which VAT 44.70 × 22/122 = 8.0606 → 8.06
    assert totals("19.90", 2, delivery=ship()) == ("39.80", "4.90", "8.06", "44.70")


def test_standard_shipping_is_free_from_49() -> None:
    # 49.00 × 22/122 = 8.836 → 8.84
    assert totals("49.00", 1, delivery=ship()) == ("49.00", "0.00", "8.84", "49.00")


def test_standard_shipping_is_charged_just_below_49() -> None:
    # 48.99 + 4.90 = 53.89; 53.89 × 22/122 = 9.7179 → 9.72
    assert totals("48.99", 1, delivery=ship()) == ("48.99", "4.90", "9.72", "53.89")


def test_express_shipping_costs_9_90_even_above_the_free_threshold() -> None:
    # 3 × 19.90 + 9.90 = 69.60; 69.60 × 22/122 = 12.5508 → 12.55
    result = totals("19.90", 3, delivery=ship(ServiceLevel.EXPRESS))

    assert result == ("59.70", "9.90", "12.55", "69.60")


def test_same_day_shipping_costs_14_90() -> None:
    # 10.00 + 14.90 = 24.90; 24.90 × 22/122 = 4.4902 → 4.49
    assert totals("10.00", 1, delivery=ship(ServiceLevel.SAME_DAY))[1:] == (
        "14.90", "4.49", "24.90")


def test_us_destination_adds_no_tax() -> None:
    assert totals("19.90", 2, delivery=ship(), country="US") == (
        "39.80", "4.90", "0.00", "44.70")


def test_swiss_vat_of_8_1_percent_is_added_on_top() -> None:
    # 44.70 × 0.081 = 3.6207 → 3.62, added to the total
    assert totals("19.90", 2, delivery=ship(), country="CH") == (
        "39.80", "4.90", "3.62", "48.32")


def test_country_without_a_rate_adds_no_tax() -> None:
    assert totals("19.90", 2, delivery=ship(), country="JP") == (
        "39.80", "4.90", "0.00", "44.70")


def test_pickup_has_no_shipping_fee() -> None:
    pickup = Delivery(DeliveryMethod.PICKUP, None, None, "ST-ROMA")

    # 39.80 × 22/122 = 7.1770 → 7.18
    assert totals("19.90", 2, delivery=pickup) == ("39.80", "0.00", "7.18", "39.80")


def test_totals_sum_several_lines() -> None:
    result = orders.totals([eur("19.90"), eur("0.99")], [LineRequest("A", 2),
                                                          LineRequest("B", 3)],
                           delivery=ship(), destination_country="IT", currency="EUR")

    # 39.80 + 2.97 = 42.77 + 4.90 = 47.67; 47.67 × 22/122 = 8.5963 → 8.60
    assert amounts(result) == ("42.77", "4.90", "8.60", "47.67")
    assert {m.currency for m in result} == {"EUR"}


# --- statuses ---------------------------------------------------------------------------------


def order_line(quantity: int, backordered: int) -> orders.OrderLine:
    return orders.OrderLine("line-id", "A", quantity, eur("1.00"),
                            orders.line_status(quantity, backordered), backordered)


@pytest.mark.parametrize(("backorders", "expected"), [
    ([0, 0], OrderStatus.ALLOCATED),
    ([3, 2], OrderStatus.BACKORDERED),
    ([3, 0], OrderStatus.PARTIALLY_ALLOCATED),
    ([1, 0], OrderStatus.PARTIALLY_ALLOCATED),
    ([1, 2], OrderStatus.PARTIALLY_ALLOCATED),
])
def test_status_after_placement_follows_backordered_units(backorders: list[int],
                                                           expected: OrderStatus) -> None:
    lines_ = [order_line(3, backorders[0]), order_line(2, backorders[1])]

    assert orders.status_after_placement(lines_) is expected


@pytest.mark.parametrize(("quantity", "backordered", "expected"), [
    (4, 0, LineStatus.ALLOCATED),
    (4, 4, LineStatus.BACKORDERED),
    (4, 1, LineStatus.PARTIALLY_ALLOCATED),
    (4, 3, LineStatus.PARTIALLY_ALLOCATED),
])
def test_line_status_follows_backordered_units(quantity: int, backordered: int,
                                               expected: LineStatus) -> None:
    assert orders.line_status(quantity, backordered) is expected
