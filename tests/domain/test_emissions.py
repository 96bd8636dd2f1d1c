"""Shipping emissions: line haul by weight and distance plus a last-mile drop per parcel, so no
shipped parcel is "0 g" however light and near it is (issue 16, item 5)."""

from __future__ import annotations

from datetime import time

import pytest

from domain.catalog import LocationType
from domain.kernel.geo import GeoPoint, distance_km
from domain.orders import ServiceLevel
from domain.sourcing import emissions
from domain.sourcing.policy import Strategy
from tests.domain.builders import MILAN, ROME, at, decide, location, policy, sku, verdict

LAST_MILE = emissions.LAST_MILE_G_PER_PARCEL
ONE_KM_AWAY = GeoPoint(41.909, 12.49)  # north of ROME, the destination


def test_one_km_is_one_km() -> None:
    assert distance_km(ONE_KM_AWAY, ROME) == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("level", list(ServiceLevel))
def test_no_ship_option_of_a_200_g_parcel_1_km_away_is_0_g(level: ServiceLevel) -> None:
    store = location("ST-NEAR", ONE_KM_AWAY, type=LocationType.STORE, carbon=0.14,
                     cutoff=time(18, 0))
    tee = sku("TEE", grams=200)

    result = decide([(tee, 1)], [at(store, TEE=3)], service_level=level)

    assert result.shipments and result.co2_grams == LAST_MILE  # + 28 mg of line haul
    assert verdict(result, "ST-NEAR").co2_grams == LAST_MILE


def _grams(grams: int, where: GeoPoint) -> int:
    item = sku("ITEM", grams=grams)
    return decide([(item, 1)], [at(location("WH", where), ITEM=1)]).co2_grams


def test_the_figure_grows_with_distance_and_with_weight() -> None:
    near_light, far_light = _grams(200, ONE_KM_AWAY), _grams(200, MILAN)
    near_heavy, far_heavy = _grams(20_000, ONE_KM_AWAY), _grams(20_000, MILAN)

    # 200 g over ~477 km at 0.1 kg/t-km is ~9.5 g of line haul; 20 kg over 1 km is 2 g
    assert (near_light, far_light, near_heavy) == (LAST_MILE, LAST_MILE + 10, LAST_MILE + 2)
    assert near_light < far_light < far_heavy and near_light < near_heavy < far_heavy
    assert far_heavy == LAST_MILE + round(20_000 * distance_km(MILAN, ROME) * 0.1 / 1000)


def test_lowest_emissions_still_picks_the_nearer_location() -> None:
    near = location("NEAR", ONE_KM_AWAY, per_shipment="9.00")
    far = location("FAR", MILAN, per_shipment="1.00")
    tee = sku("TEE", grams=200)

    greenest = decide([(tee, 2)], [at(far, TEE=5), at(near, TEE=5)],
                      policy=policy(strategy=Strategy.LOWEST_EMISSIONS))
    cheapest = decide([(tee, 2)], [at(far, TEE=5), at(near, TEE=5)])

    assert [s.location for s in greenest.shipments] == ["NEAR"]
    assert [s.location for s in cheapest.shipments] == ["FAR"]
    assert greenest.co2_grams < cheapest.co2_grams


def test_one_parcel_beats_two_on_emissions_when_the_line_haul_saved_is_smaller() -> None:
    # NEAR has one unit, FAR (Milan) has both: two parcels would save ~19 g of line haul on
    # one unit but cost a second last-mile drop (181 g)
    near = location("NEAR", ONE_KM_AWAY)
    far = location("FAR", MILAN)
    tee = sku("TEE", grams=200)

    result = decide([(tee, 2)], [at(near, TEE=1), at(far, TEE=2)],
                    policy=policy(strategy=Strategy.LOWEST_EMISSIONS))

    assert [s.location for s in result.shipments] == ["FAR"]
    assert result.co2_grams == LAST_MILE + round(400 * distance_km(MILAN, ROME) * 0.1 / 1000)


def test_a_pickup_pays_no_last_mile_a_transfer_to_it_pays_its_line_haul() -> None:
    store = location("ST-ROMA", ROME, type=LocationType.STORE)
    far = location("WH-MIL", MILAN)
    tee = sku("TEE", grams=1000)

    own = decide([(tee, 1)], [at(store, TEE=1), at(far, TEE=1)], pickup="ST-ROMA")
    moved = decide([(tee, 1)], [at(store), at(far, TEE=1)], pickup="ST-ROMA")

    assert own.co2_grams == 0
    assert moved.co2_grams == round(1000 * distance_km(MILAN, ROME) * 0.1 / 1000) > 0
