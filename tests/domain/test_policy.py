"""Sourcing policies: validation, how rules narrow location types, storage round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.catalog import HandlingClass, LocationType
from domain.kernel import errors
from domain.sourcing.policy import (
    BUILT_IN,
    LocationRule,
    SourcingPolicy,
    Strategy,
    Weights,
    from_dict,
    new_policy,
    to_dict,
)

GOOD = {"channel": "web", "strategy": "BALANCED", "weights": (1.0, 2.5, 0.5),
        "max_shipments": 2, "ship_together": [["furniture", "lighting"]],
        "rules": [(None, "HAZMAT", ["WAREHOUSE"]), ("furniture", None, ["SUPPLIER"])],
        "ship_from_store": False, "split_lines": True, "split_kits": True,
        "pickup_transfers": False}


def test_a_valid_policy_round_trips_through_its_stored_form() -> None:
    policy = new_policy(**GOOD)
    at = datetime(2030, 1, 2, tzinfo=UTC)

    stored = from_dict(to_dict(policy), channel="web", version=3, created_at=at,
                       created_by="admin:a")

    assert stored == replace(policy, version=3, created_at=at, created_by="admin:a")
    assert stored.weights.milli() == (1000, 2500, 500)


@pytest.mark.parametrize(("change", "field"), [
    ({"channel": "telepathy"}, ["channel"]),
    ({"strategy": "CHEAPEST"}, ["strategy"]),
    ({"weights": (1.0, float("nan"), 1.0)}, ["weights", "speed"]),
    ({"weights": (1.0, 1.0, 1001.0)}, ["weights", "emissions"]),
    ({"weights": (0.0, 0.0, 0.0004)}, ["weights"]),
    ({"max_shipments": 21}, ["maxShipments"]),
    ({"ship_together": [[]]}, ["shipTogether", "0"]),
    ({"ship_together": [["bad group!"]]}, ["shipTogether", "0"]),
    ({"rules": [("furniture", "HAZMAT", ["STORE"])]}, ["rules", "0"]),
    ({"rules": [(None, "RADIOACTIVE", ["STORE"])]}, ["rules", "0"]),
    ({"rules": [(None, "HAZMAT", ["SPACEPORT"])]}, ["rules", "0"]),
])
def test_an_invalid_policy_names_the_field(change: dict, field: list[str]) -> None:
    with pytest.raises(errors.DomainError) as refused:
        new_policy(**{**GOOD, **change})

    assert refused.value.field == field
    assert refused.value.code == ("UNKNOWN_CHANNEL" if field == ["channel"] else "INVALID_INPUT")


def test_the_star_channel_is_the_default_for_every_channel() -> None:
    assert new_policy(**{**GOOD, "channel": "*"}).channel == "*"


def test_every_rule_that_applies_narrows_the_allowed_location_types() -> None:
    policy = SourcingPolicy(rules=(
        LocationRule(frozenset({LocationType.WAREHOUSE, LocationType.THIRD_PARTY}),
                     handling=HandlingClass.HAZMAT),
        LocationRule(frozenset({LocationType.WAREHOUSE, LocationType.STORE}),
                     product_group="electronics")))

    hazmat_electronics = policy.allowed_types(frozenset({"electronics"}),
                                              frozenset({HandlingClass.HAZMAT}))
    apparel = policy.allowed_types(frozenset({"apparel"}), frozenset({HandlingClass.STANDARD}))

    assert hazmat_electronics == {LocationType.WAREHOUSE}
    assert apparel == frozenset(LocationType)


def test_a_line_belongs_to_the_ship_together_group_of_its_product_group() -> None:
    policy = SourcingPolicy(ship_together=(frozenset({"furniture"}), frozenset({"garden"})))

    assert policy.together_group(frozenset({"garden"})) == 1
    assert policy.together_group(frozenset({"apparel"})) is None


def test_the_built_in_default_is_lowest_cost_without_limits() -> None:
    assert (BUILT_IN.channel, BUILT_IN.version, BUILT_IN.strategy) == ("*", 0,
                                                                       Strategy.LOWEST_COST)
    assert BUILT_IN.max_shipments is None and BUILT_IN.ship_from_store
    assert BUILT_IN.weights == Weights(1.0, 1.0, 1.0)
