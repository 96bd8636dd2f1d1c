"""FewestLocationsSourcer: where an order is fulfilled, from pre-loaded candidates only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import errors
from domain.catalog import (
    Address,
    Capability,
    HandlingClass,
    KitComponent,
    Location,
    LocationType,
    Sku,
)
from domain.geo import GeoPoint
from domain.inventory import Incoming
from domain.sourcing import (
    Allocation,
    Backorder,
    Candidate,
    Demand,
    FewestLocationsSourcer,
    Plan,
    eligible,
)

ROME = Address("Via del Corso 1", "Roma", "00186", "IT", point=GeoPoint(41.9, 12.48))


def sku(code: str, *, handling: HandlingClass = HandlingClass.STANDARD,
        backorderable: bool = False, preorderable: bool = False,
        components: tuple[tuple[str, int], ...] = ()) -> Sku:
    return Sku(sku=code, name=code.title(), product_group="general", handling=handling,
               weight_grams=500, prices={}, backorderable=backorderable,
               preorderable=preorderable,
               components=tuple(KitComponent(c, q) for c, q in components))


def location(code: str, *, type: LocationType = LocationType.WAREHOUSE,
             capabilities: frozenset[Capability] = frozenset({Capability.SHIP}),
             channels: tuple[str, ...] = ("web",),
             handling: frozenset[HandlingClass] = frozenset(HandlingClass),
             active: bool = True) -> Location:
    return Location(code=code, name=code, type=type, address=ROME, capabilities=capabilities,
                    channels=channels, handling_classes=handling, active=active)


def demand(line: int, item: Sku, units: int) -> Demand:
    parts = tuple((c.sku, c.quantity) for c in item.components) or ((item.sku, 1),)
    return Demand(line, item, units, parts)


def candidate(where: str | Location, distance_km: float | None, **stock: int) -> Candidate:
    loc = location(where) if isinstance(where, str) else where
    return Candidate(loc, distance_km, dict(stock))


def receipt(id: str, code: str, where: str, *, quantity: int, allocated: int = 0,
            day: int) -> Incoming:
    return Incoming(id, code, where, quantity, allocated, datetime(2030, 2, day, tzinfo=UTC))


def plan(demands: list[Demand], candidates: list[Candidate], *,
         incoming: dict[str, list[Incoming]] | None = None, pickup: str | None = None) -> Plan:
    return FewestLocationsSourcer().plan(demands, candidates, incoming=incoming or {},
                                         pickup=pickup)


A, B, C = sku("A"), sku("B"), sku("C")


# --- one location for everything --------------------------------------------------------------


def test_one_location_with_everything_wins_over_nearer_partial_ones() -> None:
    # given two near locations each holding part of the cart and a far one holding all of it
    candidates = [candidate("NEAR-A", 1.0, A=5), candidate("NEAR-B", 2.0, B=5),
                  candidate("FAR-ALL", 300.0, A=2, B=1)]

    # when
    result = plan([demand(0, A, 2), demand(1, B, 1)], candidates)

    # then
    assert result.allocations == [Allocation("FAR-ALL", 0, 2), Allocation("FAR-ALL", 1, 1)]
    assert result.backorders == []


def test_nearest_of_several_complete_locations_wins() -> None:
    candidates = [candidate("WH-30", 30.0, A=9), candidate("WH-10", 10.0, A=9),
                  candidate("WH-20", 20.0, A=9), candidate("WH-NONE", None, A=9)]

    result = plan([demand(0, A, 3)], candidates)

    assert result.allocations == [Allocation("WH-10", 0, 3)]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_distance_tie_goes_to_warehouse_before_third_party_before_store(
        order: tuple[int, ...]) -> None:
    # codes sort the other way round, so only the type can decide
    tied = [candidate(location("A-STORE", type=LocationType.STORE), 5.0, A=1),
            candidate(location("M-3PL", type=LocationType.THIRD_PARTY), 5.0, A=1),
            candidate(location("Z-WAREHOUSE", type=LocationType.WAREHOUSE), 5.0, A=1)]

    result = plan([demand(0, A, 1)], [tied[i] for i in order])

    assert result.allocations == [Allocation("Z-WAREHOUSE", 0, 1)]


# --- several locations ------------------------------------------------------------------------


def test_without_a_complete_location_the_fewest_are_used_most_covering_first() -> None:
    # given nearest-first would need three locations; the far one covers two lines at once
    candidates = [candidate("NEAR-A", 1.0, A=1), candidate("MID-B", 2.0, B=1),
                  candidate("FAR-BC", 90.0, B=1, C=1)]

    result = plan([demand(0, A, 1), demand(1, B, 1), demand(2, C, 1)], candidates)

    assert result.allocations == [Allocation("FAR-BC", 1, 1), Allocation("FAR-BC", 2, 1),
                                  Allocation("NEAR-A", 0, 1)]


def test_greedy_step_counts_units_not_lines() -> None:
    # FAR covers 5 units of one line, NEAR covers 2 units over two lines
    candidates = [candidate("NEAR", 1.0, A=1, B=1), candidate("FAR", 50.0, A=5)]

    result = plan([demand(0, A, 5), demand(1, B, 1)], candidates)

    assert result.allocations == [Allocation("FAR", 0, 5), Allocation("NEAR", 1, 1)]


def test_equal_coverage_goes_to_the_nearest() -> None:
    candidates = [candidate("FAR-A", 40.0, A=1), candidate("NEAR-B", 4.0, B=1),
                  candidate("MID-A", 20.0, A=1)]

    result = plan([demand(0, A, 1), demand(1, B, 1)], candidates)

    assert result.allocations == [Allocation("NEAR-B", 1, 1), Allocation("MID-A", 0, 1)]


def test_a_line_quantity_splits_across_locations() -> None:
    candidates = [candidate("NEAR", 1.0, A=3), candidate("FAR", 9.0, A=4)]

    result = plan([demand(0, A, 5)], candidates)

    assert result.allocations == [Allocation("FAR", 0, 4), Allocation("NEAR", 0, 1)]
    assert result.backorders == []


# --- kits -------------------------------------------------------------------------------------

KIT = sku("KIT", components=(("A", 2), ("B", 1)))


def test_each_kit_unit_takes_all_components_from_one_location() -> None:
    # NEAR makes one kit (A 4//2=2, B 1); FAR makes one kit (A 2//2=1, B 5)
    candidates = [candidate("NEAR", 1.0, A=4, B=1), candidate("FAR", 9.0, A=2, B=5)]
    demands = [demand(0, KIT, 2)]

    result = plan(demands, candidates)

    assert result.allocations == [Allocation("NEAR", 0, 1), Allocation("FAR", 0, 1)]
    assert result.reservations(demands) == {("A", "NEAR"): 2, ("B", "NEAR"): 1,
                                            ("A", "FAR"): 2, ("B", "FAR"): 1}


def test_a_location_missing_one_kit_component_cannot_serve_the_kit() -> None:
    candidates = [candidate("NEAR", 1.0, A=100), candidate("FAR", 9.0, A=2, B=1)]

    result = plan([demand(0, KIT, 1)], candidates)

    assert result.allocations == [Allocation("FAR", 0, 1)]


def test_a_kit_no_location_can_assemble_is_refused_even_if_components_exist_apart() -> None:
    candidates = [candidate("HAS-A", 1.0, A=10), candidate("HAS-B", 2.0, B=10)]

    with pytest.raises(errors.InsufficientStock) as refused:
        plan([demand(0, KIT, 1)], candidates)

    assert refused.value.skus == ("KIT",)


def test_location_that_really_has_everything_wins_when_a_kit_shares_a_component() -> None:
    # given a cart of one A and one kit (A×1, B×1): NEAR holds one A and one B, FAR holds both
    kit = sku("KIT-AB", components=(("A", 1), ("B", 1)))
    candidates = [candidate("NEAR", 1.0, A=1, B=1), candidate("FAR", 9.0, A=2, B=1)]

    result = plan([demand(0, A, 1), demand(1, kit, 1)], candidates)

    # then FAR alone ships everything (one shipment, as the rule promises)
    assert result.allocations == [Allocation("FAR", 0, 1), Allocation("FAR", 1, 1)]


# --- handling classes -------------------------------------------------------------------------

HAZ = sku("HAZ", handling=HandlingClass.HAZMAT)
NO_HAZMAT = frozenset(HandlingClass) - {HandlingClass.HAZMAT}


def test_a_location_not_accepting_hazmat_never_gets_a_hazmat_line() -> None:
    near = location("NEAR-NOHAZ", handling=NO_HAZMAT)
    candidates = [candidate(near, 1.0, A=10, HAZ=10), candidate("FAR", 80.0, HAZ=1)]

    result = plan([demand(0, A, 1), demand(1, HAZ, 1)], candidates)

    assert result.allocations == [Allocation("NEAR-NOHAZ", 0, 1), Allocation("FAR", 1, 1)]


def test_hazmat_stock_only_at_a_non_accepting_location_is_insufficient() -> None:
    near = location("NEAR-NOHAZ", handling=NO_HAZMAT)

    with pytest.raises(errors.InsufficientStock) as refused:
        plan([demand(0, HAZ, 1)], [candidate(near, 1.0, HAZ=10)])

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

    result = plan([demand(0, item, 4)], [candidate("WH-1", 1.0), candidate("WH-2", 5.0)],
                  incoming=incoming)

    assert result.allocations == []
    assert result.backorders == [Backorder(0, "R-MID", "WH-2", 4)]


def test_only_the_units_stock_cannot_cover_are_backordered() -> None:
    item = sku("BO", backorderable=True)
    incoming = {"BO": [receipt("R-1", "BO", "WH-1", quantity=10, day=3)]}

    result = plan([demand(0, item, 5)], [candidate("WH-1", 1.0, BO=2)], incoming=incoming)

    assert result.allocations == [Allocation("WH-1", 0, 2)]
    assert result.backorders == [Backorder(0, "R-1", "WH-1", 3)]


def test_non_backorderable_sku_without_stock_raises_insufficient_stock() -> None:
    # given line 0 in stock, lines 1 and 2 not, and a receipt that would be ignored anyway
    incoming = {"B": [receipt("R-B", "B", "WH-1", quantity=50, day=2)]}

    with pytest.raises(errors.InsufficientStock) as refused:
        plan([demand(0, A, 1), demand(1, B, 1), demand(2, C, 2)],
             [candidate("WH-1", 1.0, A=1, C=1)], incoming=incoming)

    assert refused.value.skus == ("B", "C")
    assert refused.value.field == ["lines", "1"]
    assert refused.value.code == "INSUFFICIENT_STOCK"


def test_backorderable_sku_is_refused_when_no_single_receipt_has_enough() -> None:
    item = sku("BO", backorderable=True)
    incoming = {"BO": [receipt("R-1", "BO", "WH-1", quantity=2, day=3),
                       receipt("R-2", "BO", "WH-1", quantity=4, allocated=2, day=4)]}

    with pytest.raises(errors.InsufficientStock) as refused:
        plan([demand(0, item, 3)], [candidate("WH-1", 1.0)], incoming=incoming)

    assert refused.value.skus == ("BO",)
    assert refused.value.field == ["lines", "0"]


def test_a_kit_is_never_backordered_even_when_flagged_backorderable() -> None:
    kit = sku("KIT-BO", backorderable=True, components=(("A", 1),))
    incoming = {"KIT-BO": [receipt("R-K", "KIT-BO", "WH-1", quantity=9, day=2)],
                "A": [receipt("R-A", "A", "WH-1", quantity=9, day=2)]}

    with pytest.raises(errors.InsufficientStock) as refused:
        plan([demand(0, kit, 1)], [candidate("WH-1", 1.0)], incoming=incoming)

    assert refused.value.skus == ("KIT-BO",)


def test_pickup_order_is_backordered_only_against_stock_arriving_at_the_pickup_location() -> None:
    store = location("ST-ROMA", type=LocationType.STORE,
                     capabilities=frozenset({Capability.PICKUP}))
    item = sku("BO", backorderable=True)
    incoming = {"BO": [receipt("R-WH", "BO", "WH-MIL", quantity=10, day=2),
                       receipt("R-STORE", "BO", "ST-ROMA", quantity=10, day=9)]}

    result = plan([demand(0, item, 1)], [candidate(store, 0.0)], incoming=incoming,
                  pickup="ST-ROMA")

    assert result.backorders == [Backorder(0, "R-STORE", "ST-ROMA", 1)]


# --- reservations -----------------------------------------------------------------------------


def test_reservations_expand_kit_components_and_sum_per_sku_and_location() -> None:
    kit = sku("KIT-AB3", components=(("A", 1), ("B", 3)))
    demands = [demand(0, A, 2), demand(1, kit, 2)]
    result = Plan(allocations=[Allocation("WH-1", 0, 2), Allocation("WH-1", 1, 1),
                               Allocation("WH-2", 1, 1)])

    assert result.reservations(demands) == {("A", "WH-1"): 3, ("B", "WH-1"): 3,
                                            ("A", "WH-2"): 1, ("B", "WH-2"): 3}


def test_backorders_reserve_nothing() -> None:
    result = Plan(backorders=[Backorder(0, "R-1", "WH-1", 4)])

    assert result.reservations([demand(0, A, 4)]) == {}


# --- eligibility ------------------------------------------------------------------------------


def test_location_selling_for_another_channel_is_not_eligible() -> None:
    loc = location("WH-1", channels=("store",))

    assert eligible(loc, channel="web", pickup=None) is False
    assert eligible(loc, channel="store", pickup=None) is True


def test_inactive_location_is_not_eligible() -> None:
    assert eligible(location("WH-1", active=False), channel="web", pickup=None) is False


@pytest.mark.parametrize(("capabilities", "expected"), [
    (frozenset({Capability.SHIP}), True),
    (frozenset({Capability.SHIP_FROM_STORE}), True),
    (frozenset({Capability.PICKUP}), False),
    (frozenset(), False),
])
def test_shipping_needs_a_ship_capability(capabilities: frozenset[Capability],
                                          expected: bool) -> None:
    loc = location("L-1", capabilities=capabilities)

    assert eligible(loc, channel="web", pickup=None) is expected


def test_pickup_order_is_fulfilled_only_by_the_pickup_location() -> None:
    store = location("ST-ROMA", type=LocationType.STORE,
                     capabilities=frozenset({Capability.PICKUP}))
    warehouse = location("WH-MIL")

    assert eligible(store, channel="web", pickup="ST-ROMA") is True
    assert eligible(warehouse, channel="web", pickup="ST-ROMA") is False


def test_pickup_location_selling_for_another_channel_is_not_eligible() -> None:
    store = location("ST-ROMA", capabilities=frozenset({Capability.PICKUP}),
                     channels=("store",))

    assert eligible(store, channel="web", pickup="ST-ROMA") is False


def test_kit_with_a_hazmat_component_is_not_sourced_where_hazmat_is_refused() -> None:
    # given a STANDARD kit whose battery component is HAZMAT, stocked near and far
    kit = sku("E-BIKE-KIT", components=(("FRAME", 1), ("BATTERY", 1)))
    line = Demand(0, kit, 1, (("FRAME", 1), ("BATTERY", 1)),
                  frozenset({HandlingClass.STANDARD, HandlingClass.HAZMAT}))
    near = location("NEAR-NOHAZ", handling=frozenset({HandlingClass.STANDARD}))

    result = plan([line], [candidate(near, 1.0, FRAME=5, BATTERY=5),
                           candidate("FAR", 400.0, FRAME=5, BATTERY=5)])

    assert result.allocations == [Allocation("FAR", 0, 1)]
