"""The shop the use-case tests run: an Italian network, a small catalog, and the commands and
steps a test needs to get an order where it wants it — all through `Application`."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from domain.access import Principal, Role
from domain.application import Application
from domain.catalog import (
    Address,
    Capability,
    HandlingClass,
    KitComponent,
    Location,
    LocationType,
    Sku,
)
from domain.fulfillment import fulfilling
from domain.inventory import InventoryLevel
from domain.inventory.services import LevelSnapshot
from domain.kernel.geo import GeoPoint
from domain.orders import (
    Customer,
    Delivery,
    DeliveryMethod,
    LineRequest,
    Order,
    PlaceOrder,
    ServiceLevel,
    TrackingStatus,
)
from domain.returns.policy import Resolution, ReturnMethod
from domain.returns.requests import RequestReturn, ReturnLineRequest
from domain.sourcing.ports import SourcingSnapshot

NOW = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)  # Wednesday, 10:30 in Rome
DELIVERED_AT = datetime(2030, 1, 3, 10, 20, tzinfo=UTC)

TEE, TEE_L, MUG, LAMP, SOCKS, GIFT = (
    "TSHIRT-BLU-M", "TSHIRT-BLU-L", "MUG-CERAMIC", "LAMP-ARCO", "SOCKS-WOOL", "GIFT-SET")
WH_MIL, ST_ROMA, ST_EUR = "WH-MIL", "ST-ROMA", "ST-EUR"

ADMIN = Principal(Role.ADMIN, "admin@example.com", "admin@example.com")
AGENT = Principal(Role.AGENT, "agent@example.com", "agent@example.com")
INTEGRATION = Principal(Role.INTEGRATION, "erp")
ADA = Principal(Role.CUSTOMER, "ada@example.com", "ada@example.com")
BOB = Principal(Role.CUSTOMER, "bob@example.com", "bob@example.com")
GUEST = Principal(Role.ANONYMOUS)


def associate(location: str) -> Principal:
    """A store associate who works at one location."""
    return Principal(Role.STORE, f"{location.lower()}@example.com",
                     locations=frozenset({location}))


# Ada lives near Via del Corso: ST-ROMA is round the corner, ST-EUR across town, WH-MIL far.
HOME = Address("Via Nazionale 10", "Roma", "00184", "IT", point=GeoPoint(41.90, 12.49))

STORE_CAPS = frozenset({Capability.SHIP_FROM_STORE, Capability.PICKUP})
LOCATIONS = [
    Location(WH_MIL, "Milano warehouse", LocationType.WAREHOUSE,
             Address("Via Ripamonti 100", "Milano", "20141", "IT", point=GeoPoint(45.43, 9.21)),
             frozenset({Capability.SHIP}), ("web", "call_center"), time_zone="Europe/Rome",
             cutoff_time=time(15, 0), processing_hours=4),
    Location(ST_ROMA, "Roma Via del Corso", LocationType.STORE,
             Address("Via del Corso 200", "Roma", "00186", "IT", point=GeoPoint(41.90, 12.48)),
             STORE_CAPS, ("web", "store"),
             handling_classes=frozenset(HandlingClass) - {HandlingClass.OVERSIZED},
             time_zone="Europe/Rome", cutoff_time=time(17, 0), processing_hours=2),
    Location(ST_EUR, "Roma EUR", LocationType.STORE,
             Address("Viale Europa 50", "Roma", "00144", "IT", point=GeoPoint(41.83, 12.47)),
             STORE_CAPS, ("web", "store"),
             handling_classes=frozenset(HandlingClass) - {HandlingClass.OVERSIZED},
             time_zone="Europe/Rome", cutoff_time=time(17, 0), processing_hours=2),
]


def _sku(code: str, name: str, price: str, *, group: str = "apparel", grams: int = 200,
         handling: HandlingClass = HandlingClass.STANDARD,
         components: tuple[tuple[str, int], ...] = ()) -> Sku:
    return Sku(code, name, group, handling, grams, {"EUR": Decimal(price)},
               components=tuple(KitComponent(c, n) for c, n in components))


SKUS = [
    _sku(TEE, "T-shirt blue M", "19.90"),
    _sku(TEE_L, "T-shirt blue L", "19.90"),
    _sku(MUG, "Ceramic mug", "12.00", group="home", grams=300),
    _sku(SOCKS, "Wool socks", "9.90"),
    _sku(LAMP, "Arco floor lamp", "1290.00", group="lighting", grams=16000,
         handling=HandlingClass.OVERSIZED),
    _sku(GIFT, "Gift set: a tee and two mugs", "39.90", group="gifts",
         components=((TEE, 1), (MUG, 2))),
]

# (sku, location) -> (onHand, safety stock). SOCKS are stocked by the tests that race for them.
STOCK = {
    (TEE, ST_ROMA): (6, 0), (TEE, ST_EUR): (3, 0), (TEE, WH_MIL): (40, 5),
    (TEE_L, ST_EUR): (1, 0), (TEE_L, WH_MIL): (4, 0),
    (MUG, WH_MIL): (10, 0),
    (LAMP, WH_MIL): (2, 1),
}


async def seed(app: Application) -> None:
    """The network, catalog and stock, as an ERP would send them."""
    await app.catalog.upsert_locations(LOCATIONS, principal=ADMIN)
    await app.catalog.upsert_skus(SKUS, principal=INTEGRATION)
    await app.inventory.set_levels(
        [LevelSnapshot(sku, loc, on_hand, safety) for (sku, loc), (on_hand, safety)
         in STOCK.items()], reason="CYCLE_COUNT", principal=INTEGRATION)


# --- commands -----------------------------------------------------------------------------------

def order_of(key: str, *lines: tuple[str, int], email: str = "ada@example.com",
             pickup: str | None = None) -> PlaceOrder:
    """A web order shipped (or picked up) in Rome: `lines` as (sku, quantity)."""
    delivery = (Delivery(DeliveryMethod.PICKUP, pickup_location=pickup) if pickup
                else Delivery(DeliveryMethod.SHIP, ServiceLevel.STANDARD, HOME))
    return PlaceOrder(key, "web", Customer(email, "Ada Lovelace"),
                      tuple(LineRequest(s, n) for s, n in lines or ((TEE, 2),)), delivery,
                      "EUR")


def return_of(number: str, *lines: tuple[str, int], reason: str = "TOO_SMALL",
              exchange_for: str | None = None,
              method: ReturnMethod = ReturnMethod.SHIP_BACK) -> RequestReturn:
    """Units of an order coming back, as (sku, quantity): refunded, or exchanged for
    `exchange_for`."""
    return RequestReturn(number, tuple(ReturnLineRequest(n, reason, sku=sku,
                                                         exchange_sku=exchange_for)
                                       for sku, n in lines),
                         Resolution.EXCHANGE if exchange_for else Resolution.REFUND, method)


# --- looking at the store -----------------------------------------------------------------------

def held(levels: dict[tuple[str, str], InventoryLevel]) -> dict[tuple[str, str], tuple[int, int]]:
    """(onHand, reserved) per (sku, location)."""
    return {k: (lv.on_hand, lv.reserved) for k, lv in levels.items()}


def work_at(order: Order, location: str) -> str:
    """The id of the order's open fulfillment at `location`."""
    [found] = [f.id for f in order.fulfillments if f.location == location
               and f.status.value in ("ASSIGNED", "ACCEPTED")]
    return found


# --- getting an order where a test wants it -----------------------------------------------------

async def ship(app: Application, fulfillment_id: str, by: Principal) -> Order:
    """Accept, pick, pack and hand the parcel to the carrier."""
    for step in (fulfilling.Accept(), fulfilling.Pick(), fulfilling.Pack(),
                 fulfilling.Ship("BRT", f"BRT-{fulfillment_id[:8]}")):
        order, _ = await app.fulfillment.work_on(fulfillment_id, step, principal=by)
    return order


async def deliver(app: Application, number: str, *, at: datetime = DELIVERED_AT) -> Order:
    """Ship every open fulfillment of the order and scan it delivered (the clock moves on to
    `at` first: a scan is never dated after the server's clock)."""
    order = await app.ports.reader.order_by_number(number)
    assert order is not None
    for f in list(order.fulfillments):
        if f.status.value != "ASSIGNED":
            continue
        await ship(app, f.id, ADMIN)
        clock = app.ports.clock
        clock.current = max(clock.now(), at)  # type: ignore[attr-defined]
        order = (await app.fulfillment.record_tracking_event(
            f.id, status=TrackingStatus.DELIVERED, at=at, location="Roma", description=None,
            expected_delivery=None, principal=INTEGRATION)).order
    return order


# --- a reader that loses races on purpose -------------------------------------------------------

Snapshot = Callable[[SourcingSnapshot], Awaitable[SourcingSnapshot]]


class RacingReader:
    """The store's reader, with `after_snapshot` run on each sourcing snapshot before the use
    case sees it: it may commit a competing change (the snapshot is then stale) or hand back
    a doctored snapshot. `snapshots` counts the sourcing snapshots read."""

    def __init__(self, inner: Any, after_snapshot: Snapshot) -> None:
        self._inner = inner
        self._after = after_snapshot
        self.snapshots = 0

    async def sourcing_snapshot(self, **kw: Any) -> SourcingSnapshot:
        snapshot = await self._inner.sourcing_snapshot(**kw)
        if snapshot.idempotency is not None:
            return snapshot
        self.snapshots += 1
        return await self._after(snapshot)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def racing(app: Application, reader: RacingReader) -> Application:
    """The same application, reading through `reader`."""
    return Application(dataclasses.replace(app.ports, reader=reader))


def state(store: Any) -> tuple[object, ...]:
    """Everything a write could leave behind: levels, ledger, outbox, orders, receipts."""
    return (held(store.levels), store.ledger, [(e.stream, e.sequence) for e in store.outbox],
            store.orders, store.incoming)


def oversold(store: Any) -> list[InventoryLevel]:
    """Levels promising more than they may sell: reserved beyond onHand − safety stock."""
    return [lv for lv in store.levels.values()
            if lv.reserved < 0 or lv.reserved > lv.on_hand - lv.safety_stock]
