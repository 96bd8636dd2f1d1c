"""Inventory invariants, catalog validation, access policy and money parsing."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from domain import access, inventory
from domain.access import Principal, Role
from domain.catalog import (
    Address,
    Capability,
    HandlingClass,
    KitComponent,
    LocationType,
    new_location,
    new_sku,
)
from domain.inventory import Incoming, InventoryLevel
from domain.kernel import errors
from domain.kernel.geo import GeoPoint
from domain.kernel.money import Money, to_amount

# --- inventory levels -------------------------------------------------------------------------


def level(on_hand: int = 10, reserved: int = 0, safety_stock: int = 0) -> InventoryLevel:
    return InventoryLevel("A", "WH-1", on_hand, reserved, safety_stock)


@pytest.mark.parametrize(("on_hand", "reserved", "safety", "expected"), [
    (10, 3, 2, 5), (10, 8, 2, 0), (2, 3, 0, 0), (5, 0, 9, 0), (0, 0, 0, 0),
])
def test_available_is_on_hand_minus_reserved_and_safety_clamped_at_zero(
        on_hand: int, reserved: int, safety: int, expected: int) -> None:
    assert level(on_hand, reserved, safety).available == expected


def test_snapshot_sets_on_hand_and_returns_the_delta() -> None:
    lv = level(on_hand=10, reserved=4, safety_stock=1)

    delta = inventory.apply_snapshot(lv, on_hand=7, safety_stock=None, field=["onHand"])

    assert delta == -3
    assert (lv.on_hand, lv.reserved, lv.safety_stock) == (7, 4, 1)


def test_snapshot_may_set_safety_stock_alone_with_a_zero_delta() -> None:
    lv = level(on_hand=10, reserved=4, safety_stock=0)

    assert inventory.apply_snapshot(lv, on_hand=10, safety_stock=6, field=["x"]) == 0
    assert (lv.on_hand, lv.safety_stock) == (10, 6)


@pytest.mark.parametrize(("on_hand", "safety"), [(5, 2), (3, None), (-1, 0), (10, 8)])
def test_snapshot_below_what_is_reserved_is_refused_and_changes_nothing(
        on_hand: int, safety: int | None) -> None:
    # given 4 units reserved and 1 of safety stock: onHand − safety must stay ≥ 4
    lv = level(on_hand=10, reserved=4, safety_stock=1)

    with pytest.raises(errors.NegativeInventory) as refused:
        inventory.apply_snapshot(lv, on_hand=on_hand, safety_stock=safety,
                                 field=["levels", "0", "onHand"])

    assert refused.value.field == ["levels", "0", "onHand"]
    assert (lv.on_hand, lv.reserved, lv.safety_stock) == (10, 4, 1)


def test_snapshot_of_a_negative_count_is_refused() -> None:
    lv = level(on_hand=0)

    with pytest.raises(errors.NegativeInventory):
        inventory.apply_snapshot(lv, on_hand=-1, safety_stock=None, field=["onHand"])

    assert lv.on_hand == 0


def test_snapshot_exactly_at_the_invariant_is_accepted() -> None:
    lv = level(on_hand=10, reserved=4, safety_stock=1)

    assert inventory.apply_snapshot(lv, on_hand=5, safety_stock=None, field=["x"]) == -5
    assert lv.available == 0


def test_delta_adjusts_on_hand() -> None:
    lv = level(on_hand=10, reserved=4, safety_stock=1)

    inventory.apply_delta(lv, delta=-5, field=["delta"])

    assert (lv.on_hand, lv.reserved) == (5, 4)


@pytest.mark.parametrize(("start", "delta"), [((3, 0, 0), -4), ((10, 4, 1), -6), ((10, 9, 0), -2)])
def test_delta_that_would_break_the_invariant_is_refused_and_changes_nothing(
        start: tuple[int, int, int], delta: int) -> None:
    lv = level(*start)

    with pytest.raises(errors.NegativeInventory) as refused:
        inventory.apply_delta(lv, delta=delta, field=["delta"])

    assert refused.value.field == ["delta"]
    assert (lv.on_hand, lv.reserved, lv.safety_stock) == start


def test_positive_delta_is_accepted_even_while_the_level_is_short() -> None:
    # safety stock raised above what is free: receiving stock must still be possible
    lv = level(on_hand=5, reserved=4, safety_stock=3)

    inventory.apply_delta(lv, delta=1, field=["delta"])

    assert lv.on_hand == 6


def test_delta_beyond_the_unit_ceiling_is_refused() -> None:
    lv = level(on_hand=inventory.MAX_UNITS)

    with pytest.raises(errors.InvalidQuantity):
        inventory.apply_delta(lv, delta=1, field=["delta"])

    assert lv.on_hand == inventory.MAX_UNITS


def test_unallocated_incoming_is_quantity_minus_allocated() -> None:
    receipt = Incoming("R-1", "A", "WH-1", 10, 3, datetime(2030, 2, 1, tzinfo=UTC))

    assert receipt.unallocated == 7


@pytest.mark.parametrize("reason", ["", "   ", "r" * 65])
def test_reason_must_be_1_to_64_characters(reason: str) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        inventory.check_reason(reason, field=["reason"])

    assert refused.value.field == ["reason"]


def test_units_may_be_negative_only_when_allowed() -> None:
    assert inventory.check_units(-5, what="delta", field=["d"], allow_negative=True) == -5
    with pytest.raises(errors.InvalidQuantity):
        inventory.check_units(-5, what="onHand", field=["d"])
    with pytest.raises(errors.InvalidQuantity):
        inventory.check_units(inventory.MAX_UNITS + 1, what="onHand", field=["d"])


# --- catalog ----------------------------------------------------------------------------------

AT = ["skus", "3"]


def make_sku(**overrides: Any) -> Any:
    fields: dict[str, Any] = dict(
        sku="KIT-1", name=" Starter kit ", product_group="kits", handling="FRAGILE",
        weight_grams=900, prices=[("19.90", "EUR"), ("21.5", "USD")], backorderable=True,
        preorderable=False, components=[("A", 2), ("B", 1)], at=AT)
    return new_sku(**{**fields, **overrides})


def test_new_sku_builds_a_validated_kit() -> None:
    kit = make_sku()

    assert (kit.sku, kit.name, kit.handling, kit.is_kit) == (
        "KIT-1", "Starter kit", HandlingClass.FRAGILE, True)
    assert kit.prices == {"EUR": Decimal("19.90"), "USD": Decimal("21.50")}
    assert kit.components == (KitComponent("A", 2), KitComponent("B", 1))
    assert kit.price("EUR") == Money(Decimal("19.90"), "EUR")
    assert kit.price("GBP") is None


@pytest.mark.parametrize(("overrides", "error", "field"), [
    ({"sku": ""}, errors.InvalidInput, [*AT, "sku"]),
    ({"sku": "-leading-dash"}, errors.InvalidInput, [*AT, "sku"]),
    ({"sku": "has space"}, errors.InvalidInput, [*AT, "sku"]),
    ({"sku": "x" * 65}, errors.InvalidInput, [*AT, "sku"]),
    ({"handling": "RADIOACTIVE"}, errors.InvalidInput, [*AT, "handling"]),
    ({"weight_grams": -1}, errors.InvalidInput, [*AT, "weightGrams"]),
    ({"prices": [("1.00", "EUR"), ("2.00", "EUR")]}, errors.InvalidInput, [*AT, "prices", "1"]),
    ({"prices": [("1.00", "eur")]}, errors.InvalidInput, [*AT, "prices", "0", "currency"]),
    ({"prices": [("-1", "EUR")]}, errors.InvalidInput, [*AT, "prices", "0", "amount"]),
    ({"components": [("A", 1), ("KIT-1", 1)]}, errors.InvalidInput, [*AT, "components", "1"]),
    ({"components": [("A", 1), ("A", 2)]}, errors.InvalidInput, [*AT, "components", "1"]),
    ({"components": [("A", 0)]}, errors.InvalidQuantity, [*AT, "components", "0", "quantity"]),
    ({"product_group": "no spaces"}, errors.InvalidInput, [*AT, "productGroup"]),
    ({"name": "   "}, errors.InvalidInput, [*AT, "name"]),
])
def test_invalid_sku_is_refused_at_the_offending_field(
        overrides: dict[str, Any], error: type[errors.DomainError], field: list[str]) -> None:
    with pytest.raises(error) as refused:
        make_sku(**overrides)

    assert type(refused.value) is error
    assert refused.value.field == field


LOC_AT = ["locations", "0"]
MILAN = Address("Via Milano 1", "Milano", "20121", "it", point=GeoPoint(45.46, 9.19))


def make_location(**overrides: Any) -> Any:
    fields: dict[str, Any] = dict(
        code="WH-MIL", name="Milano DC", type="WAREHOUSE", address=MILAN,
        capabilities=["SHIP", "SHIP"], channels=["web", "marketplace:amazon", "web"],
        handling_classes=None, time_zone="Europe/Rome", cutoff_time="16:30",
        processing_hours=12, daily_capacity=500, cost_per_shipment=None, cost_per_kg="0.3",
        carbon_factor=None, active=True, at=LOC_AT)
    return new_location(**{**fields, **overrides})


def test_new_location_builds_a_validated_location() -> None:
    loc = make_location()

    assert (loc.type, loc.capabilities, loc.channels) == (
        LocationType.WAREHOUSE, frozenset({Capability.SHIP}), ("web", "marketplace:amazon"))
    assert (loc.cutoff_time, loc.time_zone, loc.handling_classes) == (
        time(16, 30), "Europe/Rome", frozenset(HandlingClass))
    assert (loc.cost_per_shipment, loc.cost_per_kg, loc.carbon_factor) == (
        Decimal("5.00"), Decimal("0.30"), 0.1)
    assert loc.address.country == "IT"


@pytest.mark.parametrize(("overrides", "error", "field"), [
    ({"code": "bad code"}, errors.InvalidInput, [*LOC_AT, "code"]),
    ({"type": "SPACESHIP"}, errors.InvalidInput, LOC_AT),
    ({"capabilities": ["TELEPORT"]}, errors.InvalidInput, LOC_AT),
    ({"channels": ["web", "tiktok"]}, errors.UnknownChannel, [*LOC_AT, "channels", "1"]),
    ({"address": Address("Via Milano 1", "Milano", "20121", "IT")}, errors.InvalidAddress,
     [*LOC_AT, "address", "latitude"]),
    ({"cutoff_time": "24:00"}, errors.InvalidInput, [*LOC_AT, "cutoffTime"]),
    ({"cutoff_time": "9:30"}, errors.InvalidInput, [*LOC_AT, "cutoffTime"]),
    ({"cutoff_time": "12:60"}, errors.InvalidInput, [*LOC_AT, "cutoffTime"]),
    ({"time_zone": "Mars/Olympus_Mons"}, errors.InvalidInput, [*LOC_AT, "timeZone"]),
    ({"time_zone": "../etc/passwd"}, errors.InvalidInput, [*LOC_AT, "timeZone"]),
    ({"processing_hours": 721}, errors.InvalidInput, [*LOC_AT, "processingHours"]),
    ({"daily_capacity": -1}, errors.InvalidInput, [*LOC_AT, "dailyCapacity"]),
    ({"carbon_factor": 10.5}, errors.InvalidInput, [*LOC_AT, "carbonFactor"]),
    ({"address": Address("Via Milano 1", "Milano", "2012", "IT", point=GeoPoint(45, 9))},
     errors.InvalidAddress, [*LOC_AT, "address", "postalCode"]),
])
def test_invalid_location_is_refused_at_the_offending_field(
        overrides: dict[str, Any], error: type[errors.DomainError], field: list[str]) -> None:
    with pytest.raises(error) as refused:
        make_location(**overrides)

    assert type(refused.value) is error
    assert refused.value.field == field


@pytest.mark.parametrize(("country", "postal", "expected"), [
    (" it ", "00184", ("IT", "00184")),
    ("gb", "sw1a 1aa", ("GB", "SW1A 1AA")),
    ("Nl", "1011ab", ("NL", "1011AB")),
    ("jp", "100-0001", ("JP", "100-0001")),
])
def test_validated_address_normalises_country_and_postal_code(
        country: str, postal: str, expected: tuple[str, str]) -> None:
    address = Address(" 1 Main St ", " City ", postal, country).validated(field=["address"])

    assert (address.country, address.postal_code) == expected
    assert (address.line1, address.city) == ("1 Main St", "City")


@pytest.mark.parametrize(("address", "part"), [
    (Address("", "Roma", "00184", "IT"), "line1"),
    (Address("Via Roma 1", " ", "00184", "IT"), "city"),
    (Address("Via Roma 1", "Roma", "00184", "ITA"), "country"),
    (Address("Via Roma 1", "Roma", "00184", "I1"), "country"),
    (Address("Via Roma 1", "Roma", "ABCDE", "IT"), "postalCode"),
    (Address("Main St 1", "NYC", "1000", "US"), "postalCode"),
    (Address("Via Roma 1", "Roma", "00184", "IT", point=GeoPoint(91.0, 0.0)), "latitude"),
])
def test_invalid_address_names_the_bad_part(address: Address, part: str) -> None:
    with pytest.raises(errors.InvalidAddress) as refused:
        address.validated(field=["delivery", "address"])

    assert refused.value.field == ["delivery", "address", part]


# --- access -----------------------------------------------------------------------------------

ADA = Principal(Role.CUSTOMER, "u-ada", "Ada@Example.com")
ROMA = Principal(Role.STORE, "u-roma", "roma@example.com", frozenset({"ST-ROMA"}))


def test_anonymous_caller_is_unauthenticated_for_a_protected_capability() -> None:
    with pytest.raises(errors.Unauthenticated):
        access.require(access.ANONYMOUS, "orders.search")


@pytest.mark.parametrize(("role", "capability"), [
    (Role.CUSTOMER, "catalog.write"), (Role.STORE, "orders.search"),
    (Role.AGENT, "inventory.write"), (Role.STORE, "orders.place_batch"),
    (Role.CUSTOMER, "orders.place_batch"), (Role.ADMIN, "no.such.capability"),
])
def test_signed_in_caller_with_the_wrong_role_is_forbidden(role: Role, capability: str) -> None:
    with pytest.raises(errors.Forbidden):
        access.require(Principal(role, "someone"), capability)


@pytest.mark.parametrize(("role", "capability"), [
    (Role.ANONYMOUS, "orders.place"), (Role.ANONYMOUS, "orders.track"),
    (Role.INTEGRATION, "catalog.write"), (Role.STORE, "inventory.write"),
    (Role.INTEGRATION, "orders.place"), (Role.INTEGRATION, "orders.place_batch"),
])
def test_allowed_role_passes(role: Role, capability: str) -> None:
    assert access.require(Principal(role, "someone"), capability) is None


@pytest.mark.parametrize(("principal", "expected"), [
    (Principal(Role.AGENT, "u-agent"), True),
    (Principal(Role.ADMIN, "u-admin"), True),
    (Principal(Role.INTEGRATION, "erp"), True),
    (ADA, True),
    (Principal(Role.CUSTOMER, "u-bob", "bob@example.com"), False),
    (Principal(Role.CUSTOMER, "u-anon"), False),
    (ROMA, True),
    (Principal(Role.STORE, "u-mil", None, frozenset({"WH-MIL"})), False),
    (access.ANONYMOUS, False),
])
def test_who_can_read_an_order(principal: Principal, expected: bool) -> None:
    readable = access.can_read_order(principal, customer_email="ada@example.com",
                                     fulfillment_locations=frozenset({"ST-ROMA", "WH-TO"}))

    assert readable is expected


def test_customer_cannot_place_an_order_for_another_email() -> None:
    with pytest.raises(errors.Forbidden) as refused:
        access.order_customer_email(ADA, "bob@example.com")

    assert refused.value.field == ["customer", "email"]


def test_customer_places_orders_for_their_own_email_whatever_the_case() -> None:
    assert access.order_customer_email(ADA, "ADA@example.COM") == "ada@example.com"


def test_agent_may_place_an_order_for_any_customer() -> None:
    agent = Principal(Role.AGENT, "u-agent", "agent@example.com")

    assert access.order_customer_email(agent, "Bob@Example.com") == "bob@example.com"


def test_store_associate_acts_only_at_their_own_locations() -> None:
    access.require_location(ROMA, "ST-ROMA", field=["location"])
    with pytest.raises(errors.Forbidden) as refused:
        access.require_location(ROMA, "WH-MIL", field=["levels", "0", "location"])

    assert refused.value.field == ["levels", "0", "location"]


def test_location_rule_does_not_restrict_other_roles() -> None:
    assert access.require_location(Principal(Role.ADMIN, "root"), "WH-MIL", field=[]) is None


def test_actor_names_the_principal_for_ledgers() -> None:
    assert (access.ANONYMOUS.actor, ADA.actor) == ("guest", "customer:u-ada")


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("19.9", "19.90"), ("19.994", "19.99"), ("19.995", "20.00"), ("0.005", "0.01"),
    (7, "7.00"), (Decimal("0"), "0.00"), ("99999999.99", "99999999.99"),
])
def test_amount_is_rounded_half_up_to_cents(value: str | int | Decimal, expected: str) -> None:
    assert str(to_amount(value)) == expected


@pytest.mark.parametrize("value", ["-0.01", "-5", "NaN", "sNaN", "Infinity", "-Infinity",
                                   "100000000", "1e20", "abc", "", None])
def test_negative_non_finite_huge_or_garbage_amount_is_refused(value: Any) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        to_amount(value, field=["price"])

    assert refused.value.field == ["price"]


def test_amount_that_rounds_up_to_the_ceiling_is_refused() -> None:
    with pytest.raises(errors.InvalidInput):
        to_amount("99999999.995")


def test_negative_zero_becomes_plain_zero() -> None:
    assert str(to_amount("-0")) == "0.00"
