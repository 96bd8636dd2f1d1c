"""The sourcing engine's fundamentals under the default policy (lowest cost): where an order is
fulfilled, kits, handling classes, backorders and reservations — from pre-loaded candidates."""

from __future__ import annotations

import pytest

from domain.catalog import Capability, HandlingClass, LocationType
from domain.kernel import errors
from domain.sourcing import Allocation, Backorder, Plan, Reason, demand_for
from tests.domain.builders import (
    BOLOGNA,
    MILAN,
    NAPLES,
    ROME,
    at,
    decide,
    location,
    receipt,
    shipped,
    sku,
    verdict,
)

A, B, C = sku("A"), sku("B"), sku("C")
NEAR_A = location("NEAR-A", ROME)
NEAR_B = location("NEAR-B", ROME)


# --- one location for everything --------------------------------------------------------------


def test_one_location_with_everything_wins_over_nearer_partial_ones() -> None:
    # given two Rome warehouses each holding part of the cart and Milan holding all of it
    candidates = [at(NEAR_A, A=5), at(NEAR_B, B=5), at(location("FAR-ALL", MILAN), A=2, B=1)]

    result = decide([(A, 2), (B, 1)], candidates)

    # then one parcel from Milan (5.00 + 2.50 national) beats two local parcels (2 × 5.00)
    assert result.plan.allocations == [Allocation("FAR-ALL", 0, 2), Allocation("FAR-ALL", 1, 1)]
    assert result.plan.backorders == []
    assert [v.location for v in result.candidates if v.chosen] == ["FAR-ALL"]


def test_nearest_of_several_equally_priced_locations_wins_on_emissions() -> None:
    # given three local warehouses at 1, 8 and 20 km and one without coordinates
    from domain.kernel.geo import GeoPoint

    candidates = [at(location("WH-20", GeoPoint(41.90, 12.73)), A=9),
                  at(location("WH-1", GeoPoint(41.90, 12.50)), A=9),
                  at(location("WH-8", GeoPoint(41.90, 12.59)), A=9),
                  at(location("WH-NOWHERE", None), A=9)]

    result = decide([(A, 3)], candidates)

    assert result.plan.allocations == [Allocation("WH-1", 0, 3)]
    # the same price locally (no carrier surcharge); unknown distance counts as national
    assert verdict(result, "WH-8").cost == verdict(result, "WH-1").cost == result.cost
    assert verdict(result, "WH-NOWHERE").cost > result.cost
    assert verdict(result, "WH-8").reasons == (Reason.HIGHER_SCORE,)


def test_with_no_complete_location_the_cheapest_split_is_chosen() -> None:
    # given Rome has A, Bologna has B and C, Naples has B only
    candidates = [at(NEAR_A, A=1), at(location("NAP-B", NAPLES), B=1),
                  at(location("BLQ-BC", BOLOGNA), B=1, C=1)]

    result = decide([(A, 1), (B, 1), (C, 1)], candidates)

    # then two parcels (Rome + Bologna) rather than three
    assert shipped(result) == {"NEAR-A": {"A": 1}, "BLQ-BC": {"B": 1, "C": 1}}
    assert verdict(result, "NAP-B").reasons == (Reason.HIGHER_SCORE,)


def test_a_line_quantity_splits_across_locations_when_none_has_enough() -> None:
    candidates = [at(NEAR_A, A=3), at(location("MIL", MILAN), A=4)]

    result = decide([(A, 5)], candidates)

    assert shipped(result) == {"NEAR-A": {"A": 3}, "MIL": {"A": 2}}


# --- kits -------------------------------------------------------------------------------------

KIT = sku("KIT", components=(("A", 2), ("B", 1)))
CATALOG = {"A": A, "B": B}


def test_each_kit_unit_takes_all_its_components_from_one_location() -> None:
    # NEAR makes one kit (A 4//2 = 2, B 1); MIL makes one kit (A 2//2 = 1, B 5)
    candidates = [at(NEAR_A, A=4, B=1), at(location("MIL", MILAN), A=2, B=5)]

    result = decide([(KIT, 2)], candidates, catalog=CATALOG)

    assert sorted(result.plan.allocations, key=lambda a: a.location) == [
        Allocation("MIL", 0, 1), Allocation("NEAR-A", 0, 1)]
    demands = [demand_for(0, KIT, 2, CATALOG)]
    assert result.plan.reservations(demands) == {("A", "NEAR-A"): 2, ("B", "NEAR-A"): 1,
                                                 ("A", "MIL"): 2, ("B", "MIL"): 1}


def test_a_kit_no_location_can_assemble_is_refused_even_if_components_exist_apart() -> None:
    candidates = [at(NEAR_A, A=10), at(NEAR_B, B=10)]

    with pytest.raises(errors.InsufficientStock) as refused:
        decide([(KIT, 1)], candidates, catalog=CATALOG)

    assert refused.value.skus == ("KIT",)


def test_a_location_missing_one_kit_component_is_explained_as_no_stock() -> None:
    candidates = [at(NEAR_A, A=100), at(location("MIL", MILAN), A=2, B=1)]

    result = decide([(KIT, 1)], candidates, catalog=CATALOG)

    assert shipped(result) == {"MIL": {"KIT": 1}}
    assert verdict(result, "NEAR-A").reasons == (Reason.NO_STOCK,)


def test_kit_and_a_line_sharing_a_component_never_double_count_it() -> None:
    # given a cart of one A and one kit (A×1, B×1); NEAR holds one A and one B only
    kit = sku("KIT-AB", components=(("A", 1), ("B", 1)))
    candidates = [at(NEAR_A, A=1, B=1), at(location("MIL", MILAN), A=2, B=1)]

    result = decide([(A, 1), (kit, 1)], candidates, catalog=CATALOG)

    demands = [demand_for(0, A, 1, CATALOG), demand_for(1, kit, 1, CATALOG)]
    reserved = result.plan.reservations(demands)
    assert all(reserved[key] <= {"NEAR-A": {"A": 1, "B": 1}, "MIL": {"A": 2, "B": 1}}[key[1]][
        key[0]] for key in reserved)
    # one parcel from Milan, the only place with both A's
    assert shipped(result) == {"MIL": {"A": 1, "KIT-AB": 1}}


def test_a_kit_takes_the_handling_of_its_components() -> None:
    # given a STANDARD kit whose battery component is HAZMAT, stocked near and far
    battery = sku("BATTERY", handling=HandlingClass.HAZMAT)
    frame = sku("FRAME")
    kit = sku("E-BIKE-KIT", components=(("FRAME", 1), ("BATTERY", 1)))
    near = location("NEAR-NOHAZ", handling=frozenset({HandlingClass.STANDARD}))

    result = decide([(kit, 1)], [at(near, FRAME=5, BATTERY=5),
                                 at(location("MIL", MILAN), FRAME=5, BATTERY=5)],
                    catalog={"BATTERY": battery, "FRAME": frame})

    assert shipped(result) == {"MIL": {"E-BIKE-KIT": 1}}
    assert verdict(result, "NEAR-NOHAZ").reasons == (Reason.HANDLING_CLASS,)


# --- handling classes -------------------------------------------------------------------------

HAZ = sku("HAZ", handling=HandlingClass.HAZMAT)
NO_HAZMAT = frozenset(HandlingClass) - {HandlingClass.HAZMAT}


def test_a_location_not_accepting_hazmat_never_gets_a_hazmat_line() -> None:
    near = location("NEAR-NOHAZ", handling=NO_HAZMAT)
    candidates = [at(near, A=10, HAZ=10), at(location("MIL", MILAN), HAZ=1)]

    result = decide([(A, 1), (HAZ, 1)], candidates)

    assert shipped(result) == {"NEAR-NOHAZ": {"A": 1}, "MIL": {"HAZ": 1}}
    assert [(n.sku, n.reason) for n in verdict(result, "NEAR-NOHAZ").notes] == [
        ("HAZ", Reason.HANDLING_CLASS)]


def test_hazmat_stock_only_at_a_non_accepting_location_is_insufficient() -> None:
    near = location("NEAR-NOHAZ", handling=NO_HAZMAT)

    with pytest.raises(errors.InsufficientStock) as refused:
        decide([(HAZ, 1)], [at(near, HAZ=10)])

    assert refused.value.skus == ("HAZ",)


# --- backorders and refusals ------------------------------------------------------------------


@pytest.mark.parametrize("flags", [{"backorderable": True}, {"preorderable": True}])
def test_sku_without_stock_is_backordered_against_earliest_receipt_with_enough_left(
        flags: dict[str, bool]) -> None:
    # given receipts out of date order; the earliest has only 1 unit unallocated
    item = sku("BO", **flags)
    incoming = {"BO": [receipt("R-LATE", "BO", "WH-1", quantity=10, day=20),
                       receipt("R-MID", "BO", "WH-2", quantity=5, day=10),
                       receipt("R-EARLY", "BO", "WH-1", quantity=3, allocated=2, day=5)]}

    result = decide([(item, 4)], [at(location("WH-1")), at(location("WH-2", MILAN))],
                    incoming=incoming)

    assert result.plan.allocations == []
    [waiting] = result.plan.backorders
    assert (waiting.line, waiting.incoming_id, waiting.location, waiting.units) == (
        0, "R-MID", "WH-2", 4)
    # the window follows the receipt: Sunday 10 February, so dispatched on Monday, then two
    # to three carrier days (national): Wednesday 13 to Thursday 14
    assert result.window() is not None
    assert [d.date().isoformat() for d in result.window()] == ["2030-02-13", "2030-02-14"]


def test_only_the_units_stock_cannot_cover_are_backordered() -> None:
    item = sku("BO", backorderable=True)
    incoming = {"BO": [receipt("R-1", "BO", "WH-1", quantity=10, day=3)]}

    result = decide([(item, 5)], [at(location("WH-1"), BO=2)], incoming=incoming)

    assert result.plan.allocations == [Allocation("WH-1", 0, 2)]
    assert [(b.incoming_id, b.units) for b in result.plan.backorders] == [("R-1", 3)]


def test_non_backorderable_sku_without_stock_raises_insufficient_stock() -> None:
    incoming = {"B": [receipt("R-B", "B", "WH-1", quantity=50, day=2)]}

    with pytest.raises(errors.InsufficientStock) as refused:
        decide([(A, 1), (B, 1), (C, 2)], [at(location("WH-1"), A=1, C=1)], incoming=incoming)

    assert refused.value.skus == ("B", "C")
    assert refused.value.field == ["lines", "1"]
    assert refused.value.code == "INSUFFICIENT_STOCK"


def test_backorderable_sku_is_refused_when_no_single_receipt_has_enough() -> None:
    item = sku("BO", backorderable=True)
    incoming = {"BO": [receipt("R-1", "BO", "WH-1", quantity=2, day=3),
                       receipt("R-2", "BO", "WH-1", quantity=4, allocated=2, day=4)]}

    with pytest.raises(errors.InsufficientStock) as refused:
        decide([(item, 3)], [at(location("WH-1"))], incoming=incoming)

    assert refused.value.skus == ("BO",)


def test_a_kit_is_never_backordered_even_when_flagged_backorderable() -> None:
    kit = sku("KIT-BO", backorderable=True, components=(("A", 1),))
    incoming = {"KIT-BO": [receipt("R-K", "KIT-BO", "WH-1", quantity=9)],
                "A": [receipt("R-A", "A", "WH-1", quantity=9)]}

    with pytest.raises(errors.InsufficientStock) as refused:
        decide([(kit, 1)], [at(location("WH-1"))], incoming=incoming, catalog=CATALOG)

    assert refused.value.skus == ("KIT-BO",)


def test_pickup_order_is_backordered_only_against_stock_arriving_at_the_pickup_store() -> None:
    store = location("ST-ROMA", type=LocationType.STORE,
                     capabilities=frozenset({Capability.PICKUP}))
    item = sku("BO", backorderable=True)
    incoming = {"BO": [receipt("R-WH", "BO", "WH-MIL", quantity=10, day=2),
                       receipt("R-STORE", "BO", "ST-ROMA", quantity=10, day=9)]}

    result = decide([(item, 1)], [at(store)], incoming=incoming, pickup="ST-ROMA")

    assert [b.incoming_id for b in result.plan.backorders] == ["R-STORE"]


def test_re_sourcing_may_leave_units_waiting_for_stock_nobody_announced() -> None:
    result = decide([(A, 3)], [at(location("WH-1"), A=1)], unsourced=True)

    assert result.plan.allocations == [Allocation("WH-1", 0, 1)]
    assert result.plan.backorders == [Backorder(0, None, None, 2, None, "A")]
    assert result.window() is None  # no date can be promised for those


# --- reservations -----------------------------------------------------------------------------


def test_reservations_expand_kit_components_and_sum_per_sku_and_location() -> None:
    kit = sku("KIT-AB3", components=(("A", 1), ("B", 3)))
    demands = [demand_for(0, A, 2, CATALOG), demand_for(1, kit, 2, CATALOG)]
    plan = Plan(allocations=[Allocation("WH-1", 0, 2), Allocation("WH-1", 1, 1),
                             Allocation("WH-2", 1, 1)])

    assert plan.reservations(demands) == {("A", "WH-1"): 3, ("B", "WH-1"): 3,
                                          ("A", "WH-2"): 1, ("B", "WH-2"): 3}


def test_a_split_kit_component_reserves_only_that_component() -> None:
    kit = sku("KIT-AB3", components=(("A", 1), ("B", 3)))
    plan = Plan(allocations=[Allocation("WH-1", 0, 2, "A"), Allocation("WH-2", 0, 6, "B")])

    assert plan.reservations([demand_for(0, kit, 2, CATALOG)]) == {("A", "WH-1"): 2,
                                                                   ("B", "WH-2"): 6}


def test_backorders_reserve_nothing() -> None:
    plan = Plan(backorders=[Backorder(0, "R-1", "WH-1", 4)])

    assert plan.reservations([demand_for(0, A, 4, {})]) == {}


# --- who may ship at all ----------------------------------------------------------------------


def test_inactive_location_is_never_used_and_says_so() -> None:
    result = decide([(A, 1)], [at(location("OFF", active=False), A=9),
                               at(location("MIL", MILAN), A=1)])

    assert shipped(result) == {"MIL": {"A": 1}}
    assert verdict(result, "OFF").reasons == (Reason.INACTIVE,)


@pytest.mark.parametrize(("capabilities", "ships"), [
    (frozenset({Capability.SHIP}), True),
    (frozenset({Capability.SHIP_FROM_STORE}), True),
    (frozenset({Capability.PICKUP}), False),
    (frozenset(), False),
])
def test_shipping_needs_a_ship_capability(capabilities, ships: bool) -> None:
    loc = location("L-1", capabilities=capabilities)
    fallback = location("MIL", MILAN)

    result = decide([(A, 1)], [at(loc, A=1), at(fallback, A=1)])

    assert ("L-1" in shipped(result)) is ships
    if not ships:
        assert verdict(result, "L-1").reasons == (Reason.CANNOT_SHIP,)


def test_a_pickup_is_fulfilled_by_the_pickup_store_when_it_has_the_stock() -> None:
    store = location("ST-ROMA", type=LocationType.STORE)
    warehouse = location("WH-ROMA", ROME, per_shipment="0.00", per_kg="0.00")

    result = decide([(A, 2)], [at(store, A=2), at(warehouse, A=50)], pickup="ST-ROMA")

    assert shipped(result) == {"ST-ROMA": {"A": 2}}
    assert result.shipments[0].transfer_to is None
