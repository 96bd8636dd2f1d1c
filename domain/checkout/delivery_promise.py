"""deliveryPromise: for a cart, a destination and a channel, every way it can arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from domain import access, orders
from domain.access import Principal
from domain.catalog import Address, Capability, Location
from domain.checkout import promise
from domain.checkout.promise import PROMISE_TTL, PromiseOption
from domain.kernel import errors
from domain.kernel.geo import distance_km
from domain.kernel.money import Money
from domain.kernel.ports import Clock
from domain.orders import LineRequest, ServiceLevel
from domain.sourcing import Decision, Sourcer
from domain.sourcing.ports import SnapshotReader, SourcingSnapshot
from domain.sourcing.services import candidates, demands_for, request_for
from domain.sourcing.shipping import next_cutoff

PICKUP_RADIUS_KM = 30.0
MAX_PICKUP_STORES = 3
MAX_PROMISE_LINES = orders.MAX_LINES


@dataclass(frozen=True, slots=True)
class PromiseQuery:
    channel: str
    lines: tuple[LineRequest, ...]
    destination: Address
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A line no option can deliver, and why (INSUFFICIENT_STOCK, SOURCING_CONSTRAINTS)."""

    sku: str
    quantity: int
    code: str


@dataclass(frozen=True, slots=True)
class PricedOption:
    option: PromiseOption
    cost: Money  # what the customer pays for this delivery


@dataclass(frozen=True, slots=True)
class Promise:
    options: list[PricedOption]
    unavailable: list[Unavailable]
    made_at: datetime


async def delivery_promise(reader: SnapshotReader, query: PromiseQuery, *, principal: Principal,
                           clock: Clock, sourcer: Sourcer, key: bytes) -> Promise:
    """The options for a cart; anyone may ask, nothing is reserved or stored."""
    access.require(principal, "promise.read")
    lines = orders.merged_lines(query.lines)
    address = query.destination.validated(field=["destination"])
    now = clock.now()
    snapshot = await reader.sourcing_snapshot(channel=query.channel,
                                              skus=[x.sku for x in lines], now=now)
    if snapshot.channel is None:
        raise errors.UnknownChannel(f"unknown channel {query.channel!r}", field=["channel"])
    currency = orders.currency_for(query.currency, snapshot.channel)
    prices = orders.price_lines(lines, skus=snapshot.skus, currency=currency)
    subtotal = orders.subtotal_of(prices, lines, currency=currency).amount
    found = options(snapshot, lines, address=address, now=now, sourcer=sourcer, key=key)
    priced = [PricedOption(o, Money(orders.shipping_fee(o.service_level, subtotal), currency))
              for o in found.options]
    return Promise(priced, found.unavailable, now)


@dataclass(frozen=True, slots=True)
class Options:
    options: list[PromiseOption]
    unavailable: list[Unavailable]


def options(snapshot: SourcingSnapshot, lines: list[LineRequest], *, address: Address,
            now: datetime, sourcer: Sourcer, key: bytes) -> Options:
    """One engine run per ship service level and per nearby pickup store."""
    assert snapshot.channel is not None
    demands = demands_for(snapshot, lines)
    stock = candidates(snapshot)
    made: list[PromiseOption] = []
    refusals: list[errors.DomainError] = []
    ways: list[tuple[ServiceLevel | None, str | None]] = [(level, None) for level in ServiceLevel]
    ways += [(None, store.code) for store in pickup_stores(snapshot, address)]
    for level, store in ways:
        try:
            decision = sourcer.decide(request_for(
                snapshot, demands, now=now, address=address, service_level=level,
                pickup=store, stock=stock), explained=False)
        except (errors.InsufficientStock, errors.SourcingConstraints) as refused:
            refusals.append(refused)
            continue
        if decision.window() is None or (level is ServiceLevel.SAME_DAY
                                         and decision.plan.backorders):
            continue
        made.append(promise.option(
            decision, channel=snapshot.channel.code, lines=lines,
            address=None if store else address, expires_at=_expiry(decision, snapshot, now),
            key=key))
    return Options(made, [] if made else _unavailable(lines, refusals))


def pickup_stores(snapshot: SourcingSnapshot, address: Address) -> list[Location]:
    """Pickup stores of the channel within reach of the destination, nearest first."""
    if address.point is None:
        return []
    assert snapshot.channel is not None
    near = []
    for loc in snapshot.locations.values():
        if (Capability.PICKUP not in loc.capabilities or not loc.active or loc.point is None
                or snapshot.channel.code not in loc.channels):
            continue
        km = distance_km(address.point, loc.point)
        if km <= PICKUP_RADIUS_KM:
            near.append((km, loc.code, loc))
    return [loc for *_, loc in sorted(near)[:MAX_PICKUP_STORES]]


def _expiry(decision: Decision, snapshot: SourcingSnapshot, now: datetime) -> datetime:
    cutoffs = [next_cutoff(snapshot.locations[s.location], now) for s in decision.shipments]
    return min([now + PROMISE_TTL, *cutoffs]).astimezone(UTC)


def _unavailable(lines: list[LineRequest], refusals: list[errors.DomainError]
                 ) -> list[Unavailable]:
    short: dict[str, str] = {}
    for refusal in refusals:
        for sku in getattr(refusal, "skus", ()) or [x.sku for x in lines]:
            short.setdefault(sku, refusal.code)
    return [Unavailable(x.sku, x.quantity, short[x.sku]) for x in lines if x.sku in short]
