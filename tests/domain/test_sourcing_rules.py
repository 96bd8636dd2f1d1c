"""Every policy rule and constraint, each in a scenario a retailer would recognise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.catalog import Capability, HandlingClass, LocationType
from domain.kernel import errors
from domain.orders import ServiceLevel
from domain.sourcing import Reason
from domain.sourcing.policy import LocationRule, Strategy, Weights
from domain.sourcing.shipping import Downtime
from tests.domain.builders import (
    MILAN,
    NAPLES,
    NOW,
    ROME,
    at,
    decide,
    location,
    policy,
    shipped,
    sku,
    verdict,
)

SHIRT = sku("TSHIRT-BLU-M", grams=200)
MUG = sku("MUG", group="kitchen", grams=400)
SOFA = sku("SOFA", group="furniture", handling=HandlingClass.OVERSIZED, grams=40_000)
TABLE = sku("TABLE", group="furniture", handling=HandlingClass.OVERSIZED, grams=25_000)
BATTERY = sku("BATTERY", group="electronics", handling=HandlingClass.HAZMAT, grams=300)

ROMA_STORE = location("ST-ROMA", ROME, type=LocationType.STORE, per_shipment="9.00",
                      processing_hours=2)
NAPLES_WH = location("WH-NAP", NAPLES, processing_hours=24, carbon=0.08)
MILAN_WH = location("WH-MIL", MILAN, processing_hours=24)


# --- strategies -------------------------------------------------------------------------------


@pytest.mark.parametrize(("strategy", "weights", "expected"), [
    # Naples: 5.00 + 1.00 regional + 0.11/kg; the Rome store: 9.00, no carrier surcharge
    (Strategy.LOWEST_COST, Weights(), "WH-NAP"),
    # the store dispatches today (2 h, cut-off 16:00); Naples takes a day to process
    (Strategy.FASTEST, Weights(), "ST-ROMA"),
    # a parcel from across town emits next to nothing; Naples is 190 km away
    (Strategy.LOWEST_EMISSIONS, Weights(), "ST-ROMA"),
    (Strategy.BALANCED, Weights(cost=1, speed=0, emissions=0), "WH-NAP"),
    # a day's wait weighs as much as 10 euros: the store's extra 3.89 is worth it
    (Strategy.BALANCED, Weights(cost=1, speed=10, emissions=0), "ST-ROMA"),
])
def test_each_strategy_picks_its_own_best_location(strategy, weights, expected) -> None:
    candidates = [at(ROMA_STORE, **{SHIRT.sku: 5}), at(NAPLES_WH, **{SHIRT.sku: 5})]

    result = decide([(SHIRT, 1)], candidates,
                    policy=policy(strategy=strategy, weights=weights))

    assert list(shipped(result)) == [expected]
    assert result.strategy is strategy
    other = next(v for v in result.candidates if not v.chosen)
    assert other.reasons == (Reason.HIGHER_SCORE,)
    assert other.score is not None and result.candidates[0].score is not None
    assert result.candidates[0].score <= other.score


def test_scores_are_in_the_strategy_s_own_units() -> None:
    candidates = [at(ROMA_STORE, **{SHIRT.sku: 5})]

    cost = decide([(SHIRT, 1)], candidates, policy=policy(strategy=Strategy.LOWEST_COST))
    fast = decide([(SHIRT, 1)], candidates, policy=policy(strategy=Strategy.FASTEST))

    store = cost.candidates[0]
    assert store.score == float(store.cost) == 9.10  # euros: 9.00 + 0.50/kg × 0.2 kg
    assert fast.candidates[0].score == pytest.approx(store.days, abs=0.01)  # days to arrival


# --- split limit ------------------------------------------------------------------------------

PRICEY_MILAN = location("WH-MIL", MILAN, per_shipment="12.00")


def test_without_a_limit_two_cheap_parcels_beat_one_dear_one() -> None:
    candidates = [at(location("WH-ROMA", ROME), **{SHIRT.sku: 2}),
                  at(NAPLES_WH, MUG=2), at(PRICEY_MILAN, MUG=2, **{SHIRT.sku: 2})]

    result = decide([(SHIRT, 1), (MUG, 1)], candidates)

    assert set(shipped(result)) == {"WH-ROMA", "WH-NAP"}


def test_max_one_shipment_sends_everything_from_the_one_location_that_has_it_all() -> None:
    candidates = [at(location("WH-ROMA", ROME), **{SHIRT.sku: 2}),
                  at(NAPLES_WH, MUG=2), at(PRICEY_MILAN, MUG=2, **{SHIRT.sku: 2})]

    result = decide([(SHIRT, 1), (MUG, 1)], candidates, policy=policy(max_shipments=1))

    assert shipped(result) == {"WH-MIL": {"TSHIRT-BLU-M": 1, "MUG": 1}}
    # the cheaper partial locations are explained by the limit, not by their price
    assert verdict(result, "WH-ROMA").reasons == (Reason.SPLIT_LIMIT,)
    assert verdict(result, "WH-NAP").reasons == (Reason.SPLIT_LIMIT,)


def test_a_split_limit_no_plan_can_meet_is_refused_with_its_own_code() -> None:
    candidates = [at(location("WH-ROMA", ROME), **{SHIRT.sku: 2}), at(NAPLES_WH, MUG=2)]

    with pytest.raises(errors.SourcingConstraints) as refused:
        decide([(SHIRT, 1), (MUG, 1)], candidates, policy=policy(max_shipments=1))

    assert refused.value.code == "SOURCING_CONSTRAINTS"
    assert "at most 1 shipment" in refused.value.message


def test_a_line_must_not_split_when_the_policy_says_so() -> None:
    candidates = [at(location("WH-ROMA", ROME), MUG=3), at(NAPLES_WH, MUG=4),
                  at(PRICEY_MILAN, MUG=5)]

    split = decide([(MUG, 5)], candidates)
    whole = decide([(MUG, 5)], candidates, policy=policy(split_lines=False))

    assert shipped(split) == {"WH-ROMA": {"MUG": 3}, "WH-NAP": {"MUG": 2}}
    assert shipped(whole) == {"WH-MIL": {"MUG": 5}}


# --- lines that ship together -----------------------------------------------------------------


def test_furniture_that_must_ship_together_leaves_from_one_place() -> None:
    # given the sofa is in Rome and Milan, the table only in Milan
    candidates = [at(location("WH-ROMA", ROME), SOFA=1), at(MILAN_WH, SOFA=1, TABLE=1)]
    together = policy(ship_together=(frozenset({"furniture"}),))

    apart = decide([(SOFA, 1), (TABLE, 1)], candidates)
    joined = decide([(SOFA, 1), (TABLE, 1)], candidates, policy=together)

    assert shipped(apart) == {"WH-ROMA": {"SOFA": 1}, "WH-MIL": {"TABLE": 1}}
    assert shipped(joined) == {"WH-MIL": {"SOFA": 1, "TABLE": 1}}
    assert verdict(joined, "WH-ROMA").reasons == (Reason.SHIP_TOGETHER,)


# --- location types by handling class and product group ---------------------------------------

HAZMAT_FROM_WAREHOUSES = LocationRule(frozenset({LocationType.WAREHOUSE}),
                                      handling=HandlingClass.HAZMAT)
NO_OVERSIZED_FROM_STORES = LocationRule(
    frozenset({LocationType.WAREHOUSE, LocationType.SUPPLIER, LocationType.THIRD_PARTY}),
    handling=HandlingClass.OVERSIZED)


def test_a_hazmat_line_splits_off_to_a_warehouse() -> None:
    # given the Rome store stocks both and is allowed hazmat goods by its handling classes
    candidates = [at(ROMA_STORE, BATTERY=5, **{SHIRT.sku: 5}),
                  at(NAPLES_WH, BATTERY=5)]
    rules = policy(rules=(HAZMAT_FROM_WAREHOUSES,))

    result = decide([(SHIRT, 1), (BATTERY, 1)], candidates, policy=rules)

    assert shipped(result) == {"ST-ROMA": {"TSHIRT-BLU-M": 1}, "WH-NAP": {"BATTERY": 1}}
    assert [(n.sku, n.reason) for n in verdict(result, "ST-ROMA").notes] == [
        ("BATTERY", Reason.LOCATION_TYPE)]


def test_oversized_goods_never_leave_from_a_store() -> None:
    candidates = [at(ROMA_STORE, SOFA=3), at(MILAN_WH, SOFA=1)]

    result = decide([(SOFA, 1)], candidates, policy=policy(rules=(NO_OVERSIZED_FROM_STORES,)))

    assert shipped(result) == {"WH-MIL": {"SOFA": 1}}
    assert verdict(result, "ST-ROMA").reasons == (Reason.LOCATION_TYPE,)


def test_a_product_group_can_be_drop_shipped_only() -> None:
    supplier = location("SUP-BRIANZA", MILAN, type=LocationType.SUPPLIER, per_shipment="29.00")
    rule = LocationRule(frozenset({LocationType.SUPPLIER}), product_group="furniture")
    candidates = [at(MILAN_WH, SOFA=4), at(supplier, SOFA=4)]

    result = decide([(SOFA, 1)], candidates, policy=policy(rules=(rule,)))

    assert shipped(result) == {"SUP-BRIANZA": {"SOFA": 1}}


# --- ship from store --------------------------------------------------------------------------


def test_with_ship_from_store_off_stores_do_not_ship_but_still_hand_over_pickups() -> None:
    off = policy(ship_from_store=False, strategy=Strategy.FASTEST)
    candidates = [at(ROMA_STORE, **{SHIRT.sku: 5}), at(NAPLES_WH, **{SHIRT.sku: 5})]

    shipping = decide([(SHIRT, 1)], candidates, policy=off)
    pickup = decide([(SHIRT, 1)], candidates, policy=off, pickup="ST-ROMA")

    assert list(shipped(shipping)) == ["WH-NAP"]
    assert verdict(shipping, "ST-ROMA").reasons == (Reason.SHIP_FROM_STORE_DISABLED,)
    assert list(shipped(pickup)) == ["ST-ROMA"]


# --- downtime and capacity --------------------------------------------------------------------


def test_a_location_in_downtime_is_skipped_and_the_explanation_says_so() -> None:
    stock_take = Downtime("d-1", "WH-NAP", NOW - timedelta(hours=2), NOW + timedelta(hours=6),
                          "stock take")
    candidates = [at(NAPLES_WH, **{SHIRT.sku: 5}), at(MILAN_WH, **{SHIRT.sku: 5})]

    result = decide([(SHIRT, 1)], candidates, downtime={"WH-NAP": [stock_take]})

    assert list(shipped(result)) == ["WH-MIL"]
    assert verdict(result, "WH-NAP").reasons == (Reason.DOWNTIME,)


def test_downtime_on_the_dispatch_day_pushes_the_delivery_date() -> None:
    # Naples would dispatch on Thursday 3 January; it is closed that day
    closed = Downtime("d-2", "WH-NAP", datetime(2030, 1, 3, tzinfo=UTC),
                      datetime(2030, 1, 4, tzinfo=UTC), "inventory")
    candidates = [at(NAPLES_WH, **{SHIRT.sku: 5})]

    open_ = decide([(SHIRT, 1)], candidates)
    shut = decide([(SHIRT, 1)], candidates, downtime={"WH-NAP": [closed]})

    assert open_.earliest is not None and shut.earliest is not None
    assert open_.earliest.date().isoformat() == "2030-01-04"  # Thursday + 1 carrier day
    assert shut.earliest.date().isoformat() == "2030-01-07"  # Friday + 1 → Monday


def test_a_store_at_capacity_is_skipped_and_the_explanation_says_so() -> None:
    store = location("ST-ROMA", ROME, type=LocationType.STORE, capacity=40)
    candidates = [at(store, **{SHIRT.sku: 5}), at(NAPLES_WH, **{SHIRT.sku: 5})]

    under = decide([(SHIRT, 1)], candidates, load={"ST-ROMA": 39})
    full = decide([(SHIRT, 1)], candidates, load={"ST-ROMA": 40})

    assert list(shipped(under)) == ["ST-ROMA"]
    assert list(shipped(full)) == ["WH-NAP"]
    assert verdict(full, "ST-ROMA").reasons == (Reason.CAPACITY,)


def test_a_location_that_rejected_the_work_is_not_asked_again() -> None:
    candidates = [at(ROMA_STORE, **{SHIRT.sku: 5}), at(NAPLES_WH, **{SHIRT.sku: 5})]

    result = decide([(SHIRT, 1)], candidates, exclude=frozenset({"WH-NAP"}))

    assert list(shipped(result)) == ["ST-ROMA"]
    assert verdict(result, "WH-NAP").reasons == (Reason.EXCLUDED,)


# --- kits -------------------------------------------------------------------------------------

KIT = sku("KIT-HOME", group="bundles", components=(("DESK", 1), ("CHAIR", 2)))
KIT_PARTS = {"DESK": sku("DESK", grams=20_000), "CHAIR": sku("CHAIR", grams=6_000)}


def test_a_kit_ships_whole_unless_the_policy_lets_its_components_split() -> None:
    candidates = [at(location("WH-ROMA", ROME), DESK=1), at(MILAN_WH, CHAIR=2)]

    with pytest.raises(errors.InsufficientStock):
        decide([(KIT, 1)], candidates, catalog=KIT_PARTS)
    split = decide([(KIT, 1)], candidates, catalog=KIT_PARTS, policy=policy(split_kits=True))

    assert shipped(split) == {"WH-ROMA": {"DESK": 1}, "WH-MIL": {"CHAIR": 2}}
    assert sorted((a.location, a.component, a.units) for a in split.plan.allocations) == [
        ("WH-MIL", "CHAIR", 2), ("WH-ROMA", "DESK", 1)]


# --- pickup -----------------------------------------------------------------------------------


def test_a_pickup_uses_the_store_s_own_stock_first_and_transfers_the_rest() -> None:
    # given a free-to-ship warehouse next door: the store's own stock still comes first
    store = location("ST-ROMA", ROME, type=LocationType.STORE)
    warehouse = location("WH-ROMA", ROME, per_shipment="0.00", per_kg="0.00")
    candidates = [at(store, **{SHIRT.sku: 1}), at(warehouse, **{SHIRT.sku: 50})]

    result = decide([(SHIRT, 3)], candidates, pickup="ST-ROMA")

    assert shipped(result) == {"ST-ROMA": {"TSHIRT-BLU-M": 1}, "WH-ROMA": {"TSHIRT-BLU-M": 2}}
    transfer = next(s for s in result.shipments if s.location == "WH-ROMA")
    assert transfer.transfer_to == "ST-ROMA"
    # ready when the transfer has arrived: after the store's own stock
    assert result.shipments[0].latest < transfer.earliest


def test_without_transfers_a_pickup_store_short_of_stock_cannot_take_the_order() -> None:
    store = location("ST-ROMA", ROME, type=LocationType.STORE)
    candidates = [at(store, **{SHIRT.sku: 1}), at(location("WH-ROMA", ROME), **{SHIRT.sku: 9})]

    with pytest.raises(errors.InsufficientStock):
        decide([(SHIRT, 3)], candidates, pickup="ST-ROMA",
               policy=policy(pickup_transfers=False))


# --- same-day ---------------------------------------------------------------------------------


def test_same_day_comes_only_from_nearby_locations_that_can_still_make_it() -> None:
    near = location("ST-ROMA", ROME, type=LocationType.STORE, processing_hours=2)
    far = location("WH-NAP", NAPLES)
    candidates = [at(near, **{SHIRT.sku: 2}), at(far, **{SHIRT.sku: 9})]

    morning = decide([(SHIRT, 1)], candidates, service_level=ServiceLevel.SAME_DAY)

    assert list(shipped(morning)) == ["ST-ROMA"]
    assert verdict(morning, "WH-NAP").reasons == (Reason.OUT_OF_RANGE,)
    assert morning.latest is not None and morning.latest.date() == NOW.date()


def test_same_day_is_refused_when_processing_would_end_after_the_cut_off() -> None:
    # 10:30 in Rome + 8 hours of processing is after the 16:00 cut-off
    slow = location("ST-SLOW", ROME, type=LocationType.STORE, processing_hours=8,
                    capabilities=frozenset({Capability.SHIP_FROM_STORE}))

    with pytest.raises(errors.InsufficientStock):
        decide([(SHIRT, 1)], [at(slow, **{SHIRT.sku: 2})], service_level=ServiceLevel.SAME_DAY)

    standard = decide([(SHIRT, 1)], [at(slow, **{SHIRT.sku: 2})])
    assert list(shipped(standard)) == ["ST-SLOW"]
