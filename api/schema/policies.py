"""Sourcing policies as clients see and submit them."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from api.errors import UserError
from api.schema.common import HandlingClass, LocationType
from domain.sourcing import policy

Strategy: TypeAlias = policy.Strategy
strawberry.enum(Strategy, description="What a sourcing policy optimises.")


@strawberry.type(description="BALANCED weights, at par 1 EUR = 1 day = 1 kg CO2e.")
class SourcingWeights:
    cost: float
    speed: float
    emissions: float


@strawberry.type(description="Lines selected by product group or handling class may only come "
                             "from these location types.")
class LocationRule:
    product_group: str | None
    handling: HandlingClass | None
    allowed_location_types: list[LocationType]


@strawberry.type(description="One version of a channel's sourcing policy ('*': every channel "
                             "without its own).")
class SourcingPolicy:
    channel: str
    version: int = strawberry.field(description="0 is the built-in default.")
    strategy: Strategy
    weights: SourcingWeights
    max_shipments: int | None
    ship_together: list[list[str]] = strawberry.field(
        description="Product groups whose lines leave in one parcel.")
    rules: list[LocationRule]
    ship_from_store: bool
    split_lines: bool = strawberry.field(description="A line's units may come from several "
                                                     "locations.")
    split_kits: bool = strawberry.field(description="A kit's components may come from "
                                                    "different locations.")
    pickup_transfers: bool = strawberry.field(description="A pickup store may be sent stock "
                                                          "it lacks.")
    created_at: datetime | None
    created_by: str | None

    @classmethod
    def from_domain(cls, p: policy.SourcingPolicy) -> SourcingPolicy:
        return cls(
            channel=p.channel, version=p.version, strategy=p.strategy,
            weights=SourcingWeights(cost=p.weights.cost, speed=p.weights.speed,
                                    emissions=p.weights.emissions),
            max_shipments=p.max_shipments, ship_together=[sorted(g) for g in p.ship_together],
            rules=[LocationRule(product_group=r.product_group, handling=r.handling,
                                allowed_location_types=sorted(r.allowed_types))
                   for r in p.rules],
            ship_from_store=p.ship_from_store, split_lines=p.split_lines,
            split_kits=p.split_kits, pickup_transfers=p.pickup_transfers,
            created_at=p.created_at, created_by=p.created_by)


@strawberry.input
class SourcingWeightsInput:
    cost: float = 1.0
    speed: float = 1.0
    emissions: float = 1.0


@strawberry.input
class LocationRuleInput:
    product_group: str | None = None
    handling: HandlingClass | None = None
    allowed_location_types: list[LocationType]


@strawberry.input
class SourcingPolicyInput:
    channel: str = strawberry.field(description="A channel code, or '*' for the default.")
    strategy: Strategy
    weights: SourcingWeightsInput | None = None
    max_shipments: int | None = None
    ship_together: list[list[str]] = strawberry.field(default_factory=list)
    rules: list[LocationRuleInput] = strawberry.field(default_factory=list)
    ship_from_store: bool = True
    split_lines: bool = True
    split_kits: bool = False
    pickup_transfers: bool = True

    def to_domain(self) -> policy.SourcingPolicy:
        w = self.weights
        return policy.new_policy(
            channel=self.channel, strategy=self.strategy.value,
            weights=(w.cost, w.speed, w.emissions) if w else None,
            max_shipments=self.max_shipments, ship_together=self.ship_together,
            rules=[(r.product_group, r.handling.value if r.handling else None,
                    [t.value for t in r.allowed_location_types]) for r in self.rules],
            ship_from_store=self.ship_from_store, split_lines=self.split_lines,
            split_kits=self.split_kits, pickup_transfers=self.pickup_transfers)


@strawberry.type
class UpsertSourcingPolicyPayload:
    policy: SourcingPolicy | None
    user_errors: list[UserError]
