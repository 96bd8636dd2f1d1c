"""Random orders for the documents property (tests/usecases/test_documents_property.py): a
catalog of awkward prices and every tax class stocked so that orders split into parcels, a
`test` provider that captures parcel by parcel or once, and one order's life through
`Application` — placed, partly cancelled, shipped parcel by parcel with the money settled
after each hand-over, delivered, partly returned and refunded — with what was done kept in a
`Case` for the failure message."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal

from domain.application import Application, Ports
from domain.catalog import (
    Address,
    Capability,
    HandlingClass,
    KitComponent,
    Location,
    LocationType,
    Sku,
)
from domain.inventory.services import LevelSnapshot
from domain.kernel.geo import GeoPoint
from domain.kernel.money import Money
from domain.kernel.retry import Retry
from domain.kernel.tax import TaxClass
from domain.orders import (
    Customer,
    Delivery,
    DeliveryMethod,
    FulfillmentStatus,
    LineRequest,
    Order,
    PaymentRequest,
    PlaceOrder,
    ServiceLevel,
    TrackingStatus,
    lifecycle,
)
from domain.orders.payment import OFFLINE
from domain.payments.ports import Authorization, PaymentProvider
from domain.returns.payments import RecordingPayments
from domain.returns.policy import Resolution, ReturnMethod
from domain.returns.requests import RequestReturn, ReturnLineRequest
from domain.returns.status import ReturnStatus
from domain.sourcing.engine import SourcingEngine
from tests.conftest import FixedClock
from tests.stores.memory import MemoryStore
from tests.usecases import shop
from tests.usecases.shop import ADA, ADMIN, AGENT, INTEGRATION

ZERO = Decimal("0.00")
AWKWARD = ("0.01", "0.02", "0.05", "0.10", "0.99", "1.01", "9.99", "19.99", "33.33",
           "66.67", "99.99", "333.33", "999.99")
DESTINATIONS = {
    "IT": Address("Via Nazionale 10", "Roma", "00184", "IT", point=GeoPoint(41.90, 12.49)),
    "DE": Address("Unter den Linden 5", "Berlin", "10117", "DE", point=GeoPoint(52.52, 13.39)),
    "FR": Address("Rue de Rivoli 10", "Paris", "75001", "FR", point=GeoPoint(48.86, 2.35)),
    "CH": Address("Bahnhofstrasse 1", "Zürich", "8001", "CH", point=GeoPoint(47.37, 8.54)),
}
ABROAD = [
    Location("WH-BER", "Berlin warehouse", LocationType.WAREHOUSE,
             Address("Am Borsigturm 1", "Berlin", "13507", "DE", point=GeoPoint(52.59, 13.29)),
             frozenset({Capability.SHIP}), ("web",), time_zone="Europe/Berlin",
             cutoff_time=time(15, 0), processing_hours=4),
    Location("WH-LYS", "Lyon warehouse", LocationType.WAREHOUSE,
             Address("Rue de Gerland 1", "Lyon", "69007", "FR", point=GeoPoint(45.73, 4.83)),
             frozenset({Capability.SHIP}), ("web",), time_zone="Europe/Paris",
             cutoff_time=time(15, 0), processing_hours=4),
]
LOCATIONS = (shop.WH_MIL, shop.ST_ROMA, shop.ST_EUR, *(loc.code for loc in ABROAD))


# --- the provider ---------------------------------------------------------------------------

@dataclass
class Provider:
    """The `test` provider of this property: authorises what it is asked — in parts, or only
    once when the reference says `once` — says yes to every movement, moves money once per
    idempotency key and keeps what moved per reference."""

    name: str = "test"
    moved: dict[str, tuple[str, str, Decimal]] = field(default_factory=dict)  # by key

    async def authorization(self, reference: str, *, expected: Money) -> Authorization:
        return Authorization(expected, None, partial="once" not in reference)

    async def capture(self, reference: str, amount: Money, *, final: bool,
                      idempotency_key: str) -> str:
        return self._move("capture", reference, amount.amount, idempotency_key)

    async def void(self, reference: str, *, idempotency_key: str) -> str:
        return self._move("void", reference, ZERO, idempotency_key)

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> str:
        return self._move("refund", reference, amount.amount, idempotency_key)

    def _move(self, kind: str, reference: str, amount: Decimal, key: str) -> str:
        done = self.moved.setdefault(key, (kind, reference, amount))
        assert done == (kind, reference, amount), f"key {key} asked for {done}, now {amount}"
        return f"{kind}-{key}"

    def total(self, kind: str, reference: str) -> Decimal:
        return sum((a for k, r, a in self.moved.values() if (k, r) == (kind, reference)), ZERO)


@dataclass
class Registry:
    provider: Provider

    def get(self, name: str) -> PaymentProvider | None:
        return self.provider if name == self.provider.name else None


# --- what was done to an order, for the failure message -------------------------------------

@dataclass
class Case:
    seed: int
    index: int
    country: str  # a key of DESTINATIONS
    payment: str  # none, test, test-once (captured once), offline
    lines: list[tuple[str, int]]
    level: ServiceLevel = ServiceLevel.STANDARD
    steps: list[str] = field(default_factory=list)
    completed: bool = False  # a parcel was handed over last, after every cancellation

    def __str__(self) -> str:
        return (f"seed {self.seed}, order #{self.index} to {self.country} ({self.level}), "
                f"payment {self.payment}, lines {self.lines}; {'; '.join(self.steps)}")


# --- the world --------------------------------------------------------------------------------

def price(rng: random.Random) -> Decimal:
    if rng.random() < 0.3:
        return Decimal(rng.choice(AWKWARD))
    return Decimal(rng.randint(1, 99_999)) / 100


def catalog(rng: random.Random, n: int = 40, kits: int = 4) -> list[Sku]:
    """`n` SKUs of every tax class, and kits of two or three of them (shipped whole)."""
    items = [Sku(f"PROP-{i:03d}", f"Property item {i}", "apparel", HandlingClass.STANDARD,
                 rng.randint(50, 3000), {"EUR": price(rng)}, tax_class=rng.choice(list(TaxClass)))
             for i in range(n)]
    return items + [Sku(f"PROP-KIT-{i}", f"Property kit {i}", "gifts", HandlingClass.STANDARD,
                        0, {"EUR": price(rng)}, tax_class=rng.choice(list(TaxClass)),
                        components=tuple(KitComponent(c.sku, rng.randint(1, 2)) for c in
                                         rng.sample(items, rng.randint(2, 3))))
                    for i in range(kits)]


def stock(rng: random.Random, skus: Iterable[Sku]) -> list[LevelSnapshot]:
    """Each SKU plenty at one location, a few units at another now and then: orders split
    where their SKUs live, and a line now and then over two parcels. Kits' parts are all at
    the Milan warehouse too (a kit ships whole)."""
    parts = {c.sku for s in skus for c in s.components}
    levels = {}
    for s in skus:
        if s.components:
            continue
        where = rng.sample(LOCATIONS, 2)
        levels[s.sku, where[0]] = 100_000
        if rng.random() < 0.3:
            levels[s.sku, where[1]] = rng.randint(1, 3)
        if s.sku in parts:
            levels[s.sku, shop.WH_MIL] = 100_000
    return [LevelSnapshot(sku, loc, n, 0) for (sku, loc), n in sorted(levels.items())]


async def world(store: MemoryStore, clock: FixedClock, rng: random.Random
                ) -> tuple[Application, Provider, dict[str, Sku], list[LevelSnapshot]]:
    provider = Provider()
    app = Application(Ports(reader=store.reader, uow=store.unit_of_work, clock=clock,
                            sourcer=SourcingEngine(), retry=Retry(), promise_key=b"k" * 32,
                            payments=RecordingPayments(), providers=Registry(provider)))
    skus = catalog(rng)
    await app.catalog.upsert_locations([*shop.LOCATIONS, *ABROAD], principal=ADMIN)
    await app.catalog.upsert_skus(skus, principal=INTEGRATION)
    levels = stock(rng, skus)
    await restock(app, levels)
    return app, provider, {s.sku: s for s in skus}, levels


async def restock(app: Application, levels: list[LevelSnapshot]) -> None:
    await app.inventory.set_levels(levels, reason="CYCLE_COUNT", principal=INTEGRATION)


def tick(clock: FixedClock, rng: random.Random) -> None:
    clock.current += timedelta(minutes=rng.randint(1, 30))


# --- one order's life -------------------------------------------------------------------------

async def place(app: Application, case: Case) -> Order:
    payment = None
    if case.payment.startswith("test"):
        payment = PaymentRequest("test", f"pi-{case.index}-{case.payment}")
    elif case.payment == OFFLINE:
        payment = PaymentRequest(OFFLINE, f"cod-{case.index}")
    command = PlaceOrder(
        f"prop-{case.seed}-{case.index:05d}", "web", Customer(ADA.email or "", "Ada Lovelace"),
        tuple(LineRequest(s, n) for s, n in case.lines),
        Delivery(DeliveryMethod.SHIP, case.level, DESTINATIONS[case.country]), "EUR", payment)
    order = await app.checkout.place_order(command, principal=ADA)
    case.steps.append(f"placed {order.number} (total {order.total.amount}, parcels from "
                      f"{', '.join(f.location for f in order.fulfillments)})")
    return order


async def current(app: Application, number: str) -> Order:
    order = await app.ports.reader.order_by_number(number)
    assert order is not None
    return order


async def settle(app: Application, number: str) -> Order:
    order = await app.payments.settle(number)
    assert order is not None
    return order


async def cancel_some(app: Application, rng: random.Random, order: Order, case: Case
                      ) -> Order:
    """Cancel the unshipped units of some lines (now and then the whole order)."""
    if not lifecycle.shipped_anything(order) and rng.random() < 0.1:
        case.steps.append("order cancelled")
        case.completed = False
        return await app.service_desk.cancel(order.number, skus=None,
                                             reason="customer changed mind", principal=AGENT)
    open_lines = [ln.sku for ln in order.lines if lifecycle.line_may_be_cancelled(ln)]
    if not open_lines:
        return order
    skus = rng.sample(open_lines, rng.randint(1, len(open_lines)))
    case.steps.append(f"cancelled {skus}")
    case.completed = False
    return await app.service_desk.cancel(order.number, skus=skus, reason="out of budget",
                                         principal=AGENT)


async def deliver(app: Application, clock: FixedClock, fid: str, case: Case) -> Order:
    """The carrier's delivery scan; `offline` payments are taken now (settled)."""
    order = (await app.fulfillment.record_tracking_event(
        fid, status=TrackingStatus.DELIVERED, at=clock.now(), location="Door",
        description=None, expected_delivery=None, principal=INTEGRATION)).order
    case.steps.append(f"delivered {order.fulfillment(fid).location}")
    return await settle(app, order.number) if case.payment == OFFLINE else order


async def hand_over(app: Application, rng: random.Random, clock: FixedClock, order: Order,
                    case: Case) -> Order:
    """Ship every parcel in a random order, settling after each hand-over, sometimes
    cancelling lines first or in between, delivering some at once and the rest at the end."""
    number = order.number
    parcels = [f.id for f in order.fulfillments if f.status is FulfillmentStatus.ASSIGNED]
    rng.shuffle(parcels)
    cancel_before = rng.randrange(len(parcels)) if parcels and rng.random() < 0.15 else -1
    for k, fid in enumerate(parcels):
        if k == cancel_before:
            order = await cancel_some(app, rng, order, case)
        if order.fulfillment(fid).status is not FulfillmentStatus.ASSIGNED:
            continue  # its lines were cancelled
        tick(clock, rng)
        await shop.ship(app, fid, ADMIN)
        order = await settle(app, number)
        case.steps.append(f"shipped {order.fulfillment(fid).location}")
        case.completed = True
        if rng.random() < 0.5:
            tick(clock, rng)
            order = await deliver(app, clock, fid, case)
    tick(clock, rng)
    for f in order.fulfillments:
        if f.status is FulfillmentStatus.SHIPPED:
            await deliver(app, clock, f.id, case)
    return await settle(app, number)


async def give_back(app: Application, rng: random.Random, clock: FixedClock, number: str,
                    case: Case) -> None:
    """Return some delivered units, receive them and refund them (at times for less)."""
    eligible = await app.returns.eligibility(number, email=None, principal=ADA)
    assert eligible is not None
    lines = [e for e in eligible.lines if e.returnable > 0]
    if not lines:
        return
    chosen = rng.sample(lines, rng.randint(1, len(lines)))
    method = rng.choice([ReturnMethod.SHIP_BACK, ReturnMethod.DROP_AT_STORE])
    tick(clock, rng)
    asked = await app.returns.request(RequestReturn(number, tuple(
        ReturnLineRequest(rng.randint(1, e.returnable), "TOO_SMALL", line_id=e.line_id)
        for e in chosen), Resolution.REFUND, method), principal=ADA)
    ret = asked.ret
    if ret.status is ReturnStatus.REQUESTED:
        await app.returns.approve(ret.number, principal=AGENT)
    counts = {}
    for ln in ret.lines:
        kept = rng.randint(0, ln.quantity)
        counts[ln.id] = (kept, ln.quantity - kept)
    await app.returns.receive(ret.number, counts, principal=ADMIN)
    due = ret.refund_total.amount
    case.steps.append(f"return {ret.number} of {[(ln.sku, ln.quantity) for ln in ret.lines]} "
                      f"by {method}, due {due}")
    if due <= 0:
        return
    amount = None
    if due > Decimal("0.01") and rng.random() < 0.3:
        amount = Decimal(rng.randint(1, int(due * 100) - 1)) / 100
    await app.returns.refund(ret.number, amount=amount, principal=AGENT)
    case.steps.append(f"refunded {due if amount is None else amount}")


async def one_order(app: Application, rng: random.Random, clock: FixedClock, skus: list[str],
                    *, seed: int, index: int) -> tuple[Case, str]:
    """A random order, from placement to its last refund."""
    case = Case(seed, index, rng.choice(list(DESTINATIONS)),
                rng.choices(["none", "test", "test-once", OFFLINE], [3, 3, 2, 2])[0],
                [(s, rng.randint(1, 4)) for s in rng.sample(skus, rng.randint(1, 6))],
                rng.choice([ServiceLevel.STANDARD, ServiceLevel.STANDARD, ServiceLevel.EXPRESS]))
    clock.current += timedelta(hours=1)
    order = await place(app, case)
    order = await hand_over(app, rng, clock, order, case)
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        await give_back(app, rng, clock, order.number, case)
    return case, order.number
