"""What the engine is given: available units net of reservations and safety stock."""

from __future__ import annotations

from domain.catalog import Channel
from domain.inventory import InventoryLevel
from domain.orders import LineRequest, ServiceLevel
from domain.sourcing.ports import SourcingSnapshot
from domain.sourcing.services import candidates, demands_for, request_for
from tests.domain.builders import MILAN, NOW, ROME_ADDRESS, decide, location, shipped, sku

SHIRT = sku("SHIRT")
STORE = location("ST-ROMA")
WAREHOUSE = location("WH-MIL", MILAN)


def snapshot(**levels: InventoryLevel) -> SourcingSnapshot:
    return SourcingSnapshot(
        channel=Channel("web", "Web", ("EUR",)), skus={"SHIRT": SHIRT},
        locations={"ST-ROMA": STORE, "WH-MIL": WAREHOUSE},
        levels={(lv.sku, lv.location): lv for lv in levels.values()}, incoming={})


def test_safety_stock_and_reservations_are_never_offered_to_sourcing() -> None:
    # given 10 on hand in Rome, 4 reserved for orders, 5 kept as safety stock
    snap = snapshot(rome=InventoryLevel("SHIRT", "ST-ROMA", 10, 4, 5),
                    milan=InventoryLevel("SHIRT", "WH-MIL", 3, 0, 0))

    offered = {c.location.code: c.available for c in candidates(snap)}

    assert offered == {"ST-ROMA": {"SHIRT": 1}, "WH-MIL": {"SHIRT": 3}}
    two = decide([(SHIRT, 2)], candidates(snap))
    assert shipped(two) == {"WH-MIL": {"SHIRT": 2}}  # the store's last 2 are safety stock


def test_a_pickup_request_goes_to_the_store_s_own_address_without_a_service_level() -> None:
    snap = snapshot()
    demands = demands_for(snap, [LineRequest("SHIRT", 1)])

    pickup = request_for(snap, demands, now=NOW, address=None, service_level=None,
                         pickup="ST-ROMA")
    ship = request_for(snap, demands, now=NOW, address=ROME_ADDRESS, service_level=None,
                       pickup=None)

    assert (pickup.destination.point, pickup.service_level) == (STORE.point, None)
    assert ship.service_level is ServiceLevel.STANDARD
