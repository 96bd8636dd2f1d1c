"""Sourcing policies: per channel, a strategy and the constraints every plan must respect.

A policy is immutable and versioned: saving one for a channel creates the next version, and each
sourcing decision records the version that made it. A channel without a policy of its own uses
the `*` policy, and without that the built-in default (version 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.catalog import CODE_RE, HandlingClass, LocationType, check_channel_code
from domain.kernel import errors

ANY_CHANNEL = "*"
MAX_RULES = 50
MAX_GROUPS = 20
MAX_SHIPMENTS = 20
MAX_WEIGHT = 1000.0


class Strategy(StrEnum):
    LOWEST_COST = "LOWEST_COST"
    FASTEST = "FASTEST"
    LOWEST_EMISSIONS = "LOWEST_EMISSIONS"
    BALANCED = "BALANCED"


@dataclass(frozen=True, slots=True)
class Weights:
    """BALANCED: how much one euro, one day and one kilogram of CO2e weigh (to 3 decimals)."""

    cost: float = 1.0
    speed: float = 1.0
    emissions: float = 1.0

    def milli(self) -> tuple[int, int, int]:
        return (round(self.cost * 1000), round(self.speed * 1000), round(self.emissions * 1000))


@dataclass(frozen=True, slots=True)
class LocationRule:
    """Lines of a product group or handling class may only come from these location types."""

    allowed_types: frozenset[LocationType]
    product_group: str | None = None
    handling: HandlingClass | None = None

    def applies(self, groups: frozenset[str], handling: frozenset[HandlingClass]) -> bool:
        if self.product_group is not None:
            return self.product_group in groups
        return self.handling in handling


@dataclass(frozen=True, slots=True)
class SourcingPolicy:
    channel: str = ANY_CHANNEL
    version: int = 0
    strategy: Strategy = Strategy.LOWEST_COST
    weights: Weights = Weights()
    max_shipments: int | None = None
    ship_together: tuple[frozenset[str], ...] = ()  # product groups that leave in one parcel
    rules: tuple[LocationRule, ...] = ()
    ship_from_store: bool = True
    split_lines: bool = True  # one line's units may come from several locations
    split_kits: bool = False  # a kit's components may come from different locations
    pickup_transfers: bool = True  # a pickup store may receive stock from elsewhere
    created_at: datetime | None = None
    created_by: str | None = None

    def allowed_types(self, groups: frozenset[str],
                      handling: frozenset[HandlingClass]) -> frozenset[LocationType]:
        """Location types a line may come from: every rule that applies narrows the set."""
        allowed = frozenset(LocationType)
        for rule in self.rules:
            if rule.applies(groups, handling):
                allowed &= rule.allowed_types
        return allowed

    def together_group(self, groups: frozenset[str]) -> int | None:
        """Index of the ship-together set a line belongs to, if any."""
        for i, together in enumerate(self.ship_together):
            if together & groups:
                return i
        return None


BUILT_IN = SourcingPolicy()


def new_policy(*, channel: str, strategy: str, weights: tuple[float, float, float] | None,
               max_shipments: int | None, ship_together: list[list[str]],
               rules: list[tuple[str | None, str | None, list[str]]], ship_from_store: bool,
               split_lines: bool, split_kits: bool, pickup_transfers: bool) -> SourcingPolicy:
    """Validate a policy as submitted (its version is assigned when it is saved)."""
    if channel != ANY_CHANNEL:
        check_channel_code(channel, field=["channel"])
    try:
        chosen = Strategy(strategy)
    except ValueError:
        raise errors.InvalidInput(f"unknown strategy {strategy!r}", field=["strategy"]) from None
    w = _weights(weights, chosen)
    if max_shipments is not None and not 1 <= max_shipments <= MAX_SHIPMENTS:
        raise errors.InvalidInput(f"maxShipments must be 1-{MAX_SHIPMENTS}",
                                  field=["maxShipments"])
    return SourcingPolicy(
        channel=channel, strategy=chosen, weights=w, max_shipments=max_shipments,
        ship_together=_together(ship_together), rules=_rules(rules),
        ship_from_store=ship_from_store, split_lines=split_lines, split_kits=split_kits,
        pickup_transfers=pickup_transfers)


def _weights(weights: tuple[float, float, float] | None, strategy: Strategy) -> Weights:
    if weights is None:
        return Weights()
    for name, value in zip(("cost", "speed", "emissions"), weights, strict=True):
        if not math.isfinite(value) or not 0 <= value <= MAX_WEIGHT:
            raise errors.InvalidInput(f"weight {name} must be 0-{MAX_WEIGHT:g}",
                                      field=["weights", name])
    result = Weights(*weights)
    if strategy is Strategy.BALANCED and not any(result.milli()):
        raise errors.InvalidInput("BALANCED needs at least one weight above 0.001",
                                  field=["weights"])
    return result


def _together(groups: list[list[str]]) -> tuple[frozenset[str], ...]:
    if len(groups) > MAX_GROUPS:
        raise errors.InvalidInput(f"at most {MAX_GROUPS} shipTogether groups",
                                  field=["shipTogether"])
    seen: set[str] = set()
    out = []
    for i, group in enumerate(groups):
        if not group:
            raise errors.InvalidInput("a shipTogether group needs a product group",
                                      field=["shipTogether", str(i)])
        for g in group:
            if not CODE_RE.match(g or ""):
                raise errors.InvalidInput(f"{g!r} is not a product group code",
                                          field=["shipTogether", str(i)])
            if g in seen:
                raise errors.InvalidInput(f"product group {g} is in two shipTogether groups",
                                          field=["shipTogether", str(i)])
            seen.add(g)
        out.append(frozenset(group))
    return tuple(out)


def _rules(rules: list[tuple[str | None, str | None, list[str]]]) -> tuple[LocationRule, ...]:
    if len(rules) > MAX_RULES:
        raise errors.InvalidInput(f"at most {MAX_RULES} rules", field=["rules"])
    out = []
    for i, (group, handling, types) in enumerate(rules):
        at = ["rules", str(i)]
        if (group is None) == (handling is None):
            raise errors.InvalidInput("a rule selects either a productGroup or a handling "
                                      "class", field=at)
        if group is not None and not CODE_RE.match(group):
            raise errors.InvalidInput(f"{group!r} is not a product group code",
                                      field=[*at, "productGroup"])
        if not types:
            raise errors.InvalidInput("allowedLocationTypes must not be empty",
                                      field=[*at, "allowedLocationTypes"])
        try:
            out.append(LocationRule(frozenset(LocationType(t) for t in types), group,
                                    HandlingClass(handling) if handling else None))
        except ValueError as exc:
            raise errors.InvalidInput(str(exc), field=at) from None
    return tuple(out)


def to_dict(policy: SourcingPolicy) -> dict[str, Any]:
    """The policy as plain JSON data (how it is stored)."""
    return {
        "strategy": policy.strategy.value,
        "weights": [policy.weights.cost, policy.weights.speed, policy.weights.emissions],
        "maxShipments": policy.max_shipments,
        "shipTogether": [sorted(g) for g in policy.ship_together],
        "rules": [{"productGroup": r.product_group,
                   "handling": r.handling.value if r.handling else None,
                   "allowedTypes": sorted(t.value for t in r.allowed_types)}
                  for r in policy.rules],
        "shipFromStore": policy.ship_from_store, "splitLines": policy.split_lines,
        "splitKits": policy.split_kits, "pickupTransfers": policy.pickup_transfers,
    }


def from_dict(data: dict[str, Any], *, channel: str, version: int,
              created_at: datetime | None = None, created_by: str | None = None
              ) -> SourcingPolicy:
    return SourcingPolicy(
        channel=channel, version=version, strategy=Strategy(data["strategy"]),
        weights=Weights(*data["weights"]), max_shipments=data["maxShipments"],
        ship_together=tuple(frozenset(g) for g in data["shipTogether"]),
        rules=tuple(LocationRule(frozenset(LocationType(t) for t in r["allowedTypes"]),
                                 r["productGroup"],
                                 HandlingClass(r["handling"]) if r["handling"] else None)
                    for r in data["rules"]),
        ship_from_store=data["shipFromStore"], split_lines=data["splitLines"],
        split_kits=data["splitKits"], pickup_transfers=data["pickupTransfers"],
        created_at=created_at, created_by=created_by)
