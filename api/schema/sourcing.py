"""Sourcing: policies, the explained decision behind an order, simulations, downtime."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeAlias, overload

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.schema.catalog import Location
from api.schema.checkout import OrderLineInput
from api.schema.common import (
    AddressInput,
    DeliveryMethod,
    Money,
    ServiceLevel,
)
from api.schema.policies import (
    SourcingPolicy,
    SourcingPolicyInput,
    Strategy,
    UpsertSourcingPolicyPayload,
)
from domain import orders, sourcing
from domain.kernel.money import Money as DomainMoney
from domain.sourcing import services as sourcing_service
from domain.sourcing.ports import RecordedDecision
from domain.sourcing.shipping import Downtime

NETWORK_CURRENCY = "EUR"  # location cost models are kept in euros

RejectionReason: TypeAlias = sourcing.Reason
strawberry.enum(RejectionReason,
                description="Why a location was not used (for a line or for the whole order).")


async def _location(info: strawberry.Info[Context, None], code: str | None) -> Location | None:
    if code is None:
        return None
    found = await info.context.loaders.location.load(code)
    return Location.from_domain(found) if found else None


@overload
def _money(amount: Decimal) -> Money: ...
@overload
def _money(amount: Decimal | None) -> Money | None: ...
def _money(amount: Decimal | None) -> Money | None:
    return None if amount is None else Money.from_domain(DomainMoney(amount, NETWORK_CURRENCY))


# --- decisions ---------------------------------------------------------------------------------
@strawberry.type(description="Units of one SKU in a shipment (a kit line names the kit).")
class PlannedLine:
    sku: str
    quantity: int


@strawberry.type(description="One shipment of the chosen plan.")
class SourcedShipment:
    location_code: strawberry.Private[str]
    transfer_code: strawberry.Private[str | None]
    lines: list[PlannedLine]
    cost: Money = strawberry.field(description="Fulfilment cost to the retailer.")
    co2_grams: int
    earliest_delivery: datetime
    latest_delivery: datetime
    distance_km: float | None

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        found = await _location(info, self.location_code)
        assert found is not None
        return found

    @strawberry.field(description="The pickup store this shipment goes to first, if any.")
    async def transfer_to(self, info: strawberry.Info[Context, None]) -> Location | None:
        return await _location(info, self.transfer_code)


@strawberry.type(description="Why one line could not come from this location.")
class CandidateNote:
    sku: str
    reason: RejectionReason


@strawberry.type(description="A location the engine considered, and its verdict.")
class SourcingCandidate:
    location_code: strawberry.Private[str]
    chosen: bool
    score: float | None = strawberry.field(
        description="The strategy's measure of this location shipping the whole order alone, "
                    "lower is better: EUR (LOWEST_COST), days (FASTEST), grams CO2e "
                    "(LOWEST_EMISSIONS), EUR-equivalent points (BALANCED).")
    rejected_because: list[RejectionReason] = strawberry.field(
        description="Empty when chosen.")
    notes: list[CandidateNote]
    units_available: int
    cost: Money | None
    days: float | None = strawberry.field(description="Days until its parcel would arrive.")
    co2_grams: int | None
    distance_km: float | None

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        found = await _location(info, self.location_code)
        assert found is not None
        return found


@strawberry.type(description="Units waiting for stock: a receipt, or none announced yet.")
class BackorderedUnits:
    sku: str
    quantity: int
    expected_at: datetime | None
    location_code: strawberry.Private[str | None]

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location | None:
        return await _location(info, self.location_code)


@strawberry.type(description="Where an order is fulfilled, and why: the chosen plan and every "
                             "location considered.")
class SourcingDecision:
    order_number: str | None
    kind: str = strawberry.field(description="PLACEMENT, RESOURCING or SIMULATION.")
    decided_at: datetime
    policy_channel: str
    policy_version: int
    strategy: Strategy
    method: DeliveryMethod
    service_level: ServiceLevel | None
    pickup_location_code: strawberry.Private[str | None]
    chosen: list[SourcedShipment]
    backorders: list[BackorderedUnits]
    candidates: list[SourcingCandidate]
    cost: Money
    co2_grams: int
    earliest_delivery: datetime | None
    latest_delivery: datetime | None
    proven_optimal: bool = strawberry.field(
        description="False when the search stopped at its work budget (very large networks): "
                    "the plan is then the best found, not proven the best.")

    @strawberry.field
    async def pickup_location(self, info: strawberry.Info[Context, None]) -> Location | None:
        return await _location(info, self.pickup_location_code)

    @classmethod
    def from_domain(cls, d: sourcing.Decision, *, kind: str,
                    order_number: str | None = None) -> SourcingDecision:
        return cls(
            order_number=order_number, kind=kind, decided_at=d.decided_at,
            policy_channel=d.policy_channel, policy_version=d.policy_version,
            strategy=d.strategy, method=d.method, service_level=d.service_level,
            pickup_location_code=d.pickup,
            chosen=[SourcedShipment(
                location_code=s.location, transfer_code=s.transfer_to,
                lines=[PlannedLine(sku=sku, quantity=n) for _, sku, n in s.lines],
                cost=_money(s.cost), co2_grams=s.co2_grams, earliest_delivery=s.earliest,
                latest_delivery=s.latest, distance_km=s.distance_km) for s in d.shipments],
            backorders=[BackorderedUnits(
                sku=b.sku or "", quantity=b.units, expected_at=b.expected_at,
                location_code=b.location)
                for b in d.plan.backorders],
            candidates=[SourcingCandidate(
                location_code=v.location, chosen=v.chosen, score=v.score,
                rejected_because=list(v.reasons),
                notes=[CandidateNote(sku=n.sku, reason=n.reason) for n in v.notes],
                units_available=v.units_available, cost=_money(v.cost), days=v.days,
                co2_grams=v.co2_grams, distance_km=v.distance_km) for v in d.candidates],
            cost=_money(d.cost), co2_grams=d.co2_grams, earliest_delivery=d.earliest,
            latest_delivery=d.latest, proven_optimal=d.proven_optimal)

    @classmethod
    def from_record(cls, r: RecordedDecision) -> SourcingDecision:
        return cls.from_domain(r.decision, kind=r.kind, order_number=r.order_number)


@strawberry.input
class SimulateSourcingInput:
    channel: str
    lines: list[OrderLineInput]
    method: DeliveryMethod = orders.DeliveryMethod.SHIP
    service_level: ServiceLevel | None = None
    address: AddressInput | None = None
    pickup_location: str | None = None
    policy: SourcingPolicyInput | None = strawberry.field(
        default=None, description="Try an unsaved policy instead of the channel's.")


# --- downtime ----------------------------------------------------------------------------------
@strawberry.type(description="A window when a location fulfils nothing.")
class DowntimeWindow:
    id: strawberry.ID
    location: str
    starts_at: datetime
    ends_at: datetime
    reason: str

    @classmethod
    def from_domain(cls, w: Downtime) -> DowntimeWindow:
        return cls(id=strawberry.ID(w.id), location=w.location, starts_at=w.starts_at,
                   ends_at=w.ends_at, reason=w.reason)


@strawberry.input(description="A downtime window: both ends with a time zone, within 366 days "
                              "before now and 731 days after (INVALID_INPUT on the field "
                              "otherwise).")
class ScheduleDowntimeInput:
    location: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@strawberry.type
class ScheduleDowntimePayload:
    downtime: DowntimeWindow | None
    resourced: int = strawberry.field(description="Unaccepted fulfillments moved elsewhere.")
    user_errors: list[UserError]


def _simulation(x: SimulateSourcingInput) -> sourcing_service.Simulation:
    return sourcing_service.Simulation(
        channel=x.channel, lines=tuple(orders.LineRequest(ln.sku, ln.quantity) for ln in x.lines),
        method=x.method, service_level=x.service_level,
        address=x.address.to_domain() if x.address else None,
        pickup_location=x.pickup_location, policy=x.policy.to_domain() if x.policy else None)


@strawberry.type
class SourcingQuery:
    @strawberry.field(description="Why an order is fulfilled where it is: its latest sourcing "
                                  "decision (agents, admins). Null for an unknown order.")
    async def sourcing_decision(self, info: strawberry.Info[Context, None],
                                order_number: str) -> SourcingDecision | None:
        ctx = info.context
        found = await ctx.app.sourcing.decisions(order_number, principal=ctx.principal)
        return SourcingDecision.from_record(found[0]) if found else None

    @strawberry.field(description="Every sourcing decision of an order, latest first: the "
                                  "placement and each re-sourcing (agents, admins).")
    async def sourcing_decisions(self, info: strawberry.Info[Context, None],
                                 order_number: str) -> list[SourcingDecision]:
        ctx = info.context
        found = await ctx.app.sourcing.decisions(order_number, principal=ctx.principal)
        return [SourcingDecision.from_record(r) for r in found]

    @strawberry.field(description="Run the engine on a hypothetical order — optionally under an "
                                  "unsaved policy — without reserving anything (agents, admins).")
    async def simulate_sourcing(self, info: strawberry.Info[Context, None],
                                input: SimulateSourcingInput) -> SourcingDecision:
        ctx = info.context
        decision = await ctx.app.sourcing.simulate(_simulation(input), principal=ctx.principal)
        return SourcingDecision.from_domain(decision, kind="SIMULATION")

    @strawberry.field(description="Sourcing policies in force, by channel; with `history` every "
                                  "version, newest first (admins).")
    async def sourcing_policies(self, info: strawberry.Info[Context, None],
                                channel: str | None = None,
                                history: bool = False) -> list[SourcingPolicy]:
        ctx = info.context
        found = await ctx.app.sourcing.policies(principal=ctx.principal, channel=channel,
                                                history=history)
        return [SourcingPolicy.from_domain(p) for p in found]

    @strawberry.field(description="A location's downtime windows that are not over yet.")
    async def location_downtime(self, info: strawberry.Info[Context, None],
                                location: str) -> list[DowntimeWindow]:
        ctx = info.context
        found = await ctx.app.sourcing.downtime_of(location, principal=ctx.principal)
        return [DowntimeWindow.from_domain(w) for w in found]


@strawberry.type
class SourcingMutation:
    @strawberry.mutation(description="Save a new version of a channel's sourcing policy; orders "
                                     "placed from now on record it (admins).")
    async def upsert_sourcing_policy(self, info: strawberry.Info[Context, None],
                                     input: SourcingPolicyInput) -> UpsertSourcingPolicyPayload:
        ctx = info.context

        async def work():
            return await ctx.app.sourcing.upsert_policy(input.to_domain(),
                                                        principal=ctx.principal)

        saved, errs = await attempt(work)
        return UpsertSourcingPolicyPayload(
            policy=SourcingPolicy.from_domain(saved) if saved else None, user_errors=errs)

    @strawberry.mutation(description="Take a location out of sourcing for a window; work it has "
                                     "not accepted yet is re-sourced when the window is now.")
    async def schedule_location_downtime(self, info: strawberry.Info[Context, None],
                                         input: ScheduleDowntimeInput
                                         ) -> ScheduleDowntimePayload:
        ctx = info.context
        result, errs = await attempt(lambda: ctx.app.sourcing.take_down(
            location=input.location, starts_at=input.starts_at, ends_at=input.ends_at,
            reason=input.reason, principal=ctx.principal))
        window, moved = result if result else (None, 0)
        return ScheduleDowntimePayload(
            downtime=DowntimeWindow.from_domain(window) if window else None, resourced=moved,
            user_errors=errs)
