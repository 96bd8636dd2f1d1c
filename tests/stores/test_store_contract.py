"""The contract of the persistence ports, held by every store: the in-memory fake
(tests/stores/memory.py), SQLite and PostgreSQL.

Every test runs once per store (`[memory]`, `[sqlite]`, `[postgres]`) and reads results through
the ports only — a unit of work, the reader, the outbox reader — so the three runs are the same
test. The one exception is the inventory ledger, which no port reads: `Store.ledger` reads it
from the table (SQL) or the store (memory). When the fake and SQL disagree, SQL is the
reference.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from domain.catalog import DEFAULT_CHANNELS, Capability, LocationType, hours
from domain.fulfillment.ports import OfferedWork
from domain.inventory import Incoming, InventoryLevel, LedgerEntry
from domain.kernel import events
from domain.kernel.money import Money
from domain.kernel.ports import IdempotencyRecord
from domain.orders import (
    Customer,
    Delivery,
    DeliveryMethod,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderTag,
    ServiceLevel,
    TimelineEntry,
    TrackingScan,
    TrackingStatus,
)
from domain.ports import UnitOfWork
from domain.returns import Refund, Return, ReturnLine
from domain.returns.policy import Resolution, ReturnMethod
from domain.returns.status import ReturnStatus
from domain.sourcing.policy import ANY_CHANNEL, BUILT_IN, SourcingPolicy, Strategy
from domain.sourcing.shipping import Downtime
from persistence.db import Database
from persistence.mapping import promise_reference
from persistence.outbox import SqlOutbox
from persistence.reads import SqlReader
from persistence.tables import LedgerRow
from persistence.uow import SqlUnitOfWork
from tests.conftest import FixedClock, _empty_pg
from tests.domain.builders import MILAN, ROME, ROME_ADDRESS, at, decide, location, sku
from tests.stores.memory import ConstraintViolation, MemoryStore

pytestmark = pytest.mark.anyio

NOW = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)  # FixedClock's: Wednesday 10:30 in Rome
EUR = "EUR"
TEE, MUG, GIFT = "TEE", "MUG", "GIFT"  # GIFT: a kit of 1 TEE and 2 MUG
SKUS = [sku(TEE), sku(MUG, group="home", grams=300), sku(GIFT, components=((MUG, 2), (TEE, 1)))]
WH_A = location("WH-A", ROME, capacity=2)
WH_B = location("WH-B", MILAN, channels=("store", "web"))
ST_C = location("ST-C", ROME, type=LocationType.STORE, channels=("store",))
LOCATIONS = [WH_A, WH_B, ST_C]
A_TEE = (TEE, "WH-A")


@dataclass
class Store:
    """One store behind the ports, as a test drives it."""

    name: str
    clock: FixedClock
    uow: Callable[[], UnitOfWork]
    reader: Any  # MemoryReader | SqlReader
    outbox: Any  # MemoryOutbox | SqlOutbox
    ledger: Callable[[], Awaitable[list[LedgerEntry]]]
    refused: tuple[type[BaseException], ...]  # what a broken constraint raises


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """The store's name and, for SQL, an empty migrated database (as conftest's db_url)."""
    if request.param == "memory":
        return "memory", None
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = request.getfixturevalue("tmp_path") / "promessa.db"
        path.write_bytes(template.read_bytes())
        return "sqlite", f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    asyncio.run(_empty_pg(url))
    return "postgres", url


@pytest.fixture
async def store(backend: tuple[str, str | None]) -> AsyncIterator[Store]:
    name, url = backend
    clock = FixedClock(NOW)
    if url is None:
        memory = MemoryStore(clock)

        async def memory_ledger() -> list[LedgerEntry]:
            return memory.ledger

        yield Store(name, clock, memory.unit_of_work, memory.reader, memory.outbox_reader,
                    memory_ledger, (ConstraintViolation,))
        return
    db = Database(url)

    async def sql_ledger() -> list[LedgerEntry]:
        async with db.reader.connect() as conn:
            rows = (await conn.execute(sa.select(LedgerRow.__table__).order_by(LedgerRow.id))
                    ).all()
        return [LedgerEntry(r.sku, r.location, r.on_hand_delta, r.reserved_delta, r.reason,
                            r.reference, r.actor, r.at) for r in rows]

    try:
        yield Store(name, clock, lambda: SqlUnitOfWork(db, clock), SqlReader(db), SqlOutbox(db),
                    sql_ledger, (IntegrityError,))
    finally:
        await db.dispose()


# --- helpers: everything through the ports -----------------------------------------------------

async def seed(store: Store, *, levels: dict[tuple[str, str], tuple[int, int, int]] | None = None,
               incoming: list[Incoming] | None = None) -> None:
    """The catalog and network, and levels as (sku, location) -> (onHand, reserved, safety)."""
    async with store.uow() as tx:
        await tx.catalog.save_skus(SKUS)
        await tx.catalog.save_locations(LOCATIONS)
        if levels:
            found = await tx.inventory.levels_for_update(list(levels))
            for key, (on_hand, _, safety) in levels.items():
                found[key].on_hand, found[key].safety_stock = on_hand, safety
            await tx.inventory.save_levels(list(found.values()))
            reserved = [(*key, r) for key, (_, r, _) in levels.items() if r]
            if reserved:
                assert await tx.inventory.reserve(reserved) is not None
        for receipt in incoming or []:
            await tx.inventory.add_incoming(receipt)
        await tx.commit()


async def level(store: Store, key: tuple[str, str]) -> tuple[int, int, int] | None:
    """(onHand, reserved, safety stock) as committed, or None without a level."""
    found = await store.reader.levels([key])
    return (found[0].on_hand, found[0].reserved, found[0].safety_stock) if found else None


async def in_tx(store: Store, work: Callable[[Any], Awaitable[Any]], *,
                commit: bool = True) -> Any:
    async with store.uow() as tx:
        result = await work(tx)
        if commit:
            await tx.commit()
    return result


def receipt(id_: str, code: str = TEE, where: str = "WH-A", *, quantity: int = 10,
            allocated: int = 0, day: int = 10) -> Incoming:
    return Incoming(id_, code, where, quantity, allocated, datetime(2030, 2, day, 9, tzinfo=UTC))


def money(amount: str) -> Money:
    return Money(Decimal(amount), EUR)


def an_order(number: str, *, placed_at: datetime = NOW - timedelta(hours=1),
             lines: dict[str, int] | None = None,
             work: list[tuple[str, dict[str, int]]] | None = None,
             backordered: dict[str, tuple[int, str]] | None = None,
             promise: str | None = None) -> Order:
    """An order as placed: lines sku -> quantity, work [(location, sku -> units)], backordered
    sku -> (units, receipt id)."""
    lines = {TEE: 2} if lines is None else lines
    work = [("WH-A", dict(lines))] if work is None else work
    backordered = backordered or {}
    order_lines = []
    for code, quantity in lines.items():
        units, incoming_id = backordered.get(code, (0, None))
        status = (LineStatus.ALLOCATED if not units else LineStatus.BACKORDERED
                  if units == quantity else LineStatus.PARTIALLY_ALLOCATED)
        order_lines.append(OrderLine(str(uuid.uuid4()), code, quantity, money("10.00"), status,
                                     units, incoming_id))
    by_sku = {ln.sku: ln.id for ln in order_lines}
    fulfillments = [Fulfillment(str(uuid.uuid4()), where, FulfillmentStatus.ASSIGNED,
                                [FulfillmentLine(by_sku[c], c, n, n) for c, n in units.items()],
                                service_level=ServiceLevel.STANDARD)
                    for where, units in work]
    total = money("20.00")
    return Order(
        id=str(uuid.uuid4()), number=number, channel="web",
        customer=Customer("ada@example.com", "Ada"), currency=EUR,
        delivery=Delivery(DeliveryMethod.SHIP, ServiceLevel.STANDARD, ROME_ADDRESS,
                          promise_option_id=promise),
        status=OrderStatus.ALLOCATED, lines=order_lines, fulfillments=fulfillments,
        subtotal=total, shipping=money("0.00"), tax=money("0.00"), total=total,
        placed_at=placed_at, placed_by="guest", tags=frozenset({OrderTag.GIFT}),
        timeline=[TimelineEntry(placed_at, "ORDER_PLACED", f"Order {number} placed", "guest",
                                public="Thank you for your order")])


async def add_orders(store: Store, *orders: Order) -> None:
    async def add(tx: Any) -> None:
        for order in orders:
            await tx.orders.add(order)
    await in_tx(store, add)


def a_return(order: Order, number: str, *, requested_at: datetime = NOW) -> Return:
    line = order.lines[0]
    return Return(
        id=str(uuid.uuid4()), number=number, order_id=order.id, order_number=order.number,
        customer_email=order.customer.email, status=ReturnStatus.REQUESTED,
        resolution=Resolution.REFUND, method=ReturnMethod.SHIP_BACK,
        lines=[ReturnLine(str(uuid.uuid4()), line.id, line.sku, 1, "DAMAGED", money("10.00"))],
        receiving_location="WH-A", fee=money("2.50"), shipping_refund=money("0.00"),
        refund_total=money("7.50"), requested_at=requested_at, requested_by="customer:ada")


# --- the reservation guard ---------------------------------------------------------------------

async def test_reserve_takes_every_sellable_unit(store):
    await seed(store, levels={A_TEE: (10, 3, 2)})
    got = await in_tx(store, lambda tx: tx.inventory.reserve([(TEE, "WH-A", 5)]))
    assert got == [InventoryLevel(TEE, "WH-A", 10, 8, 2)]
    assert await level(store, A_TEE) == (10, 8, 2)


async def test_reserve_refuses_the_unit_behind_safety_stock(store):
    await seed(store, levels={A_TEE: (10, 3, 2)})
    assert await in_tx(store, lambda tx: tx.inventory.reserve([(TEE, "WH-A", 6)])) is None
    assert await level(store, A_TEE) == (10, 3, 2)


async def test_reserve_refuses_a_level_that_does_not_exist(store):
    await seed(store)
    assert await in_tx(store, lambda tx: tx.inventory.reserve([(TEE, "WH-A", 1)])) is None
    assert await level(store, A_TEE) is None


async def test_reserve_is_all_or_nothing_a_refused_second_line_leaves_the_first_free(store):
    await seed(store, levels={(MUG, "WH-B"): (5, 0, 0), A_TEE: (1, 0, 0)})
    # lines are taken in (sku, location) order: MUG first, then TEE, which fails
    assert await in_tx(store, lambda tx: tx.inventory.reserve(
        [(TEE, "WH-A", 2), (MUG, "WH-B", 2)]), commit=False) is None
    assert await level(store, (MUG, "WH-B")) == (5, 0, 0)
    assert await level(store, A_TEE) == (1, 0, 0)


@pytest.mark.parametrize("operation", ["reserve", "move"])
async def test_a_refused_change_leaves_its_own_transaction_untouched(store, operation):
    """None means nothing was reserved (moved), even inside the transaction: SQL updates line
    by line and undoes the lines before the refused one; the fake checks every line before
    writing any. (Found by this suite: SQL used to leave the earlier lines changed.)"""
    await seed(store, levels={(MUG, "WH-B"): (5, 0, 0), A_TEE: (1, 0, 0)})

    async def work(tx: Any) -> Any:
        if operation == "reserve":
            refused = await tx.inventory.reserve([(TEE, "WH-A", 2), (MUG, "WH-B", 2)])
        else:
            refused = await tx.inventory.move([(TEE, "WH-A", 0, 2), (MUG, "WH-B", 0, 2)])
        assert refused is None
        return await tx.inventory.levels_for_update([(MUG, "WH-B")])

    after = await in_tx(store, work, commit=False)
    assert after[(MUG, "WH-B")].reserved == 0


async def test_reserve_returns_each_line_in_sku_location_order(store):
    await seed(store, levels={A_TEE: (5, 0, 0), (MUG, "WH-B"): (5, 0, 0), (TEE, "WH-B"): (5, 0, 0)})
    got = await in_tx(store, lambda tx: tx.inventory.reserve(
        [(TEE, "WH-B", 1), (TEE, "WH-A", 2), (MUG, "WH-B", 3)]))
    assert [(lv.sku, lv.location, lv.reserved) for lv in got] == [
        (MUG, "WH-B", 3), (TEE, "WH-A", 2), (TEE, "WH-B", 1)]


async def test_twenty_buyers_racing_for_five_units_exactly_five_win(store):
    await seed(store, levels={A_TEE: (7, 0, 2)})
    done = asyncio.Event()
    seen: list[InventoryLevel] = []

    async def buy() -> InventoryLevel | None:
        async with store.uow() as tx:
            got = await tx.inventory.reserve([(TEE, "WH-A", 1)])
            if got is None:
                return None
            await tx.commit()
            return got[0]

    async def watch() -> None:
        while not done.is_set():
            seen.extend(await store.reader.levels([A_TEE]))
            await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    won = [lv for lv in await asyncio.gather(*(buy() for _ in range(20))) if lv is not None]
    done.set()
    await watcher
    assert sorted(lv.reserved for lv in won) == [1, 2, 3, 4, 5]
    assert all(lv.reserved <= lv.on_hand - lv.safety_stock for lv in won + seen)
    assert await level(store, A_TEE) == (7, 5, 2)


async def test_racing_two_line_reservations_take_both_lines_or_neither(store):
    await seed(store, levels={(MUG, "WH-B"): (5, 0, 0), A_TEE: (3, 0, 0)})

    async def buy() -> bool:
        async with store.uow() as tx:
            if await tx.inventory.reserve([(MUG, "WH-B", 1), (TEE, "WH-A", 1)]) is None:
                return False
            await tx.commit()
            return True

    assert sum(await asyncio.gather(*(buy() for _ in range(10)))) == 3
    assert await level(store, (MUG, "WH-B")) == (5, 3, 0)
    assert await level(store, A_TEE) == (3, 3, 0)


# --- moving and releasing stock ----------------------------------------------------------------

async def test_move_applies_both_deltas_and_returns_the_levels_after(store):
    await seed(store, levels={A_TEE: (10, 4, 1)})
    got = await in_tx(store, lambda tx: tx.inventory.move([(TEE, "WH-A", -3, -3)]))
    assert got == [InventoryLevel(TEE, "WH-A", 7, 1, 1)]
    assert await level(store, A_TEE) == (7, 1, 1)


async def test_move_is_refused_whole_when_one_level_would_go_below_what_is_reserved(store):
    await seed(store, levels={(MUG, "WH-B"): (5, 0, 0), A_TEE: (4, 3, 0)})
    got = await in_tx(store, lambda tx: tx.inventory.move(
        [(MUG, "WH-B", -2, 0), (TEE, "WH-A", -2, 0)]), commit=False)
    assert got is None
    assert await level(store, (MUG, "WH-B")) == (5, 0, 0)
    assert await level(store, A_TEE) == (4, 3, 0)


@pytest.mark.parametrize("change", [(-6, 0), (0, -4), (0, 4), (-1, 0)],
                         ids=["onhand-negative", "reserved-negative", "reserved-past-safety",
                              "onhand-into-safety"])
async def test_move_never_leaves_a_level_invalid(store, change):
    await seed(store, levels={A_TEE: (5, 3, 2)})
    got = await in_tx(store, lambda tx: tx.inventory.move([(TEE, "WH-A", *change)]))
    assert got is None
    assert await level(store, A_TEE) == (5, 3, 2)


async def test_move_creates_the_level_that_stock_arrives_at(store):
    await seed(store)
    got = await in_tx(store, lambda tx: tx.inventory.move([(TEE, "WH-B", 4, 0)]))
    assert got == [InventoryLevel(TEE, "WH-B", 4, 0, 0)]
    assert await level(store, (TEE, "WH-B")) == (4, 0, 0)


async def test_move_refuses_reserving_at_a_level_that_does_not_exist(store):
    await seed(store)
    assert await in_tx(store, lambda tx: tx.inventory.move([(TEE, "WH-B", 0, 1)])) is None
    assert await level(store, (TEE, "WH-B")) is None


async def test_release_gives_back_reserved_units(store):
    await seed(store, levels={A_TEE: (5, 3, 0)})
    got = await in_tx(store, lambda tx: tx.inventory.release([(TEE, "WH-A", 2)]))
    assert got == [InventoryLevel(TEE, "WH-A", 5, 1, 0)]


async def test_release_of_more_than_is_reserved_is_refused_whole(store):
    await seed(store, levels={(MUG, "WH-B"): (5, 2, 0), A_TEE: (5, 1, 0)})
    got = await in_tx(store, lambda tx: tx.inventory.release(
        [(MUG, "WH-B", 2), (TEE, "WH-A", 2)]), commit=False)
    assert got is None
    assert await level(store, (MUG, "WH-B")) == (5, 2, 0)
    assert await level(store, A_TEE) == (5, 1, 0)


# --- levels and the ledger ---------------------------------------------------------------------

async def test_levels_for_update_gives_zero_levels_for_keys_without_a_row(store):
    await seed(store, levels={A_TEE: (5, 1, 1)})
    got = await in_tx(store, lambda tx: tx.inventory.levels_for_update(
        [A_TEE, (MUG, "WH-B"), A_TEE]))
    assert got == {A_TEE: InventoryLevel(TEE, "WH-A", 5, 1, 1),
                   (MUG, "WH-B"): InventoryLevel(MUG, "WH-B", 0, 0, 0)}
    assert await level(store, (MUG, "WH-B")) == (0, 0, 0)


async def test_a_level_needs_a_known_sku_and_location(store):
    await seed(store)
    with pytest.raises(store.refused):
        await in_tx(store, lambda tx: tx.inventory.levels_for_update([("NOPE", "WH-A")]))
    with pytest.raises(store.refused):
        await in_tx(store, lambda tx: tx.inventory.move([(TEE, "NOWHERE", 1, 0)]))


async def test_save_levels_sets_on_hand_and_safety_stock_but_never_reserved(store):
    await seed(store, levels={A_TEE: (5, 2, 0)})

    async def count(tx: Any) -> None:
        found = await tx.inventory.levels_for_update([A_TEE])
        found[A_TEE].on_hand, found[A_TEE].safety_stock, found[A_TEE].reserved = 9, 3, 0
        await tx.inventory.save_levels([found[A_TEE], InventoryLevel(MUG, "WH-B", 4)])

    await in_tx(store, count)
    assert await level(store, A_TEE) == (9, 2, 3)
    assert await level(store, (MUG, "WH-B")) is None  # only levels that exist are saved


async def test_a_count_below_what_is_reserved_is_refused(store):
    await seed(store, levels={A_TEE: (5, 4, 0)})

    async def count(tx: Any) -> None:
        await tx.inventory.save_levels([InventoryLevel(TEE, "WH-A", 5, 4, 2)])

    with pytest.raises(store.refused):
        await in_tx(store, count)
    assert await level(store, A_TEE) == (5, 4, 0)


async def test_ledger_rows_are_appended_in_order_with_the_commit(store):
    await seed(store)
    first = [LedgerEntry(TEE, "WH-A", 5, 0, "COUNT", None, "admin", NOW),
             LedgerEntry(TEE, "WH-A", 0, 2, "ORDER_RESERVED", "PR-1", "guest", NOW)]
    await in_tx(store, lambda tx: tx.inventory.append_ledger(first))
    await in_tx(store, lambda tx: tx.inventory.append_ledger(
        [LedgerEntry(MUG, "WH-B", 1, 0, "LOST", None, "x", NOW)]), commit=False)
    last = [LedgerEntry(MUG, "WH-B", 3, 0, "RECEIVED", "R-1", "integration", NOW)]
    await in_tx(store, lambda tx: tx.inventory.append_ledger(last))
    assert await store.ledger() == first + last


# --- expected receipts -------------------------------------------------------------------------

async def test_a_receipt_is_promised_only_while_units_are_unpromised(store):
    await seed(store, incoming=[receipt("R1", quantity=10, allocated=1)])

    async def allocate(tx: Any) -> list[bool]:
        inv = tx.inventory
        return [await inv.allocate_incoming("R1", 5), await inv.allocate_incoming("R1", 5),
                await inv.allocate_incoming("R1", 4), await inv.allocate_incoming("R1", 1)]

    assert await in_tx(store, allocate) == [True, False, True, False]
    got = await in_tx(store, lambda tx: tx.inventory.incoming("R1"))
    assert got == receipt("R1", quantity=10, allocated=10)


async def test_a_receipt_is_added_open_whatever_it_says(store):
    await seed(store)
    await in_tx(store, lambda tx: tx.inventory.add_incoming(
        replace(receipt("R1"), received_at=NOW, received_quantity=3)))
    assert await in_tx(store, lambda tx: tx.inventory.incoming("R1")) == receipt("R1")


async def test_a_receipt_is_received_once(store):
    await seed(store, incoming=[receipt("R1", allocated=4)])
    store.clock.current = NOW + timedelta(days=3)

    async def receive(tx: Any) -> list[bool]:
        inv = tx.inventory
        return [await inv.receive_incoming("R1", 9), await inv.receive_incoming("R1", 10)]

    assert await in_tx(store, receive) == [True, False]
    got = await in_tx(store, lambda tx: tx.inventory.incoming("R1"))
    assert (got.received_at, got.received_quantity, got.allocated) == (
        NOW + timedelta(days=3), 9, 4)
    assert await in_tx(store, lambda tx: tx.inventory.allocate_incoming("R1", 1)) is False


async def test_releasing_promised_units_of_a_receipt(store):
    await seed(store, incoming=[receipt("R1", allocated=6), receipt("R2", allocated=2)])

    async def release(tx: Any) -> list[bool]:
        inv = tx.inventory
        return [await inv.release_incoming("R1", 4), await inv.release_incoming("R1", 3),
                await inv.release_incoming("NOPE", 1)]

    assert await in_tx(store, release) == [True, False, False]
    assert (await in_tx(store, lambda tx: tx.inventory.incoming("R1"))).allocated == 2
    # a received receipt promises nothing any more: releasing from it holds, and changes nothing
    await in_tx(store, lambda tx: tx.inventory.receive_incoming("R2", 10))
    assert await in_tx(store, lambda tx: tx.inventory.release_incoming("R2", 5)) is True
    assert (await in_tx(store, lambda tx: tx.inventory.incoming("R2"))).allocated == 2


async def test_an_unknown_receipt_is_none_and_refuses_everything(store):
    await seed(store)

    async def probe(tx: Any) -> list[Any]:
        inv = tx.inventory
        return [await inv.incoming("NOPE"), await inv.allocate_incoming("NOPE", 1),
                await inv.receive_incoming("NOPE", 1)]

    assert await in_tx(store, probe) == [None, False, False]


# --- the catalog -------------------------------------------------------------------------------

async def test_the_channels_of_the_spec_are_there_from_the_start(store):
    expected = sorted(DEFAULT_CHANNELS, key=lambda c: c.code)
    assert await in_tx(store, lambda tx: tx.catalog.channels()) == expected


async def test_skus_are_saved_with_prices_and_kit_parts_and_read_back(store):
    await seed(store)
    expected = {s.sku: s for s in SKUS}
    assert await store.reader.skus([TEE, MUG, GIFT, "NOPE"]) == expected
    assert await in_tx(store, lambda tx: tx.catalog.skus([GIFT])) == {GIFT: expected[GIFT]}
    assert (await store.reader.skus([GIFT]))[GIFT].is_kit


async def test_saving_a_sku_again_replaces_its_prices_and_parts(store):
    await seed(store)
    cup = sku("CUP", group="home")
    changed = replace(sku(GIFT, components=((MUG, 1), (TEE, 2), ("CUP", 3))),
                      prices={"EUR": Decimal("25.50"), "USD": Decimal("30.00")},
                      backorderable=True)
    await in_tx(store, lambda tx: tx.catalog.save_skus([cup, changed]))
    got = (await store.reader.skus([GIFT]))[GIFT]
    assert got.prices == {"EUR": Decimal("25.50"), "USD": Decimal("30.00")}
    assert [(c.sku, c.quantity) for c in got.components] == [("CUP", 3), (MUG, 1), (TEE, 2)]
    assert got.backorderable


async def test_a_kit_part_must_be_a_known_sku(store):
    await seed(store)
    with pytest.raises(store.refused):
        await in_tx(store, lambda tx: tx.catalog.save_skus(
            [sku("BOX", components=(("NOPE", 1),))]))
    assert await store.reader.skus(["BOX"]) == {}


async def test_locations_are_saved_with_their_channels_and_read_back(store):
    await seed(store)
    everything = await store.reader.locations()
    assert list(everything) == ["ST-C", "WH-A", "WH-B"]
    assert everything == {loc.code: loc for loc in LOCATIONS}
    assert await store.reader.locations(["WH-B", "NOPE"]) == {"WH-B": WH_B}
    assert await in_tx(store, lambda tx: tx.catalog.locations(["WH-A"])) == {"WH-A": WH_A}


async def test_saving_a_location_again_replaces_its_channels_and_terms(store):
    await seed(store)
    moved = replace(WH_B, channels=("store", "marketplace:amazon", "call_center"),
                    cutoff_time=time(12, 30), daily_capacity=7, active=False,
                    capabilities=frozenset({Capability.SHIP, Capability.PICKUP}))
    await in_tx(store, lambda tx: tx.catalog.save_locations([moved]))
    got = (await store.reader.locations(["WH-B"]))["WH-B"]
    assert got == replace(moved, channels=("call_center", "marketplace:amazon", "store"))


async def test_opening_hours_are_saved_read_back_replaced_and_removed(store):
    await seed(store)
    week = [(day, "09:30", "13:00") for day in hours.WEEKDAYS[:6]] + [
        (day, "15:00", "24:00") for day in hours.WEEKDAYS[:5]]
    with_hours = replace(ST_C, opening_hours=hours.new_opening_hours(
        weekly=week, exceptions=[(date(2030, 12, 25), []),
                                 (date(2030, 12, 24), [("09:30", "13:00")])], at=[]))
    await in_tx(store, lambda tx: tx.catalog.save_locations([with_hours]))
    got = (await store.reader.locations(["ST-C"]))["ST-C"]
    assert got == with_hours
    assert got.opening_hours is not None and got.opening_hours.on(date(2030, 12, 25)) == ()
    assert await in_tx(store, lambda tx: tx.catalog.locations(["ST-C"])) == {"ST-C": with_hours}
    # a snapshot for a promise sees them too
    snapshot = await store.reader.sourcing_snapshot(channel="store", skus=[TEE], now=NOW)
    assert snapshot.locations["ST-C"].opening_hours == with_hours.opening_hours

    never = replace(ST_C, opening_hours=hours.new_opening_hours(weekly=[], exceptions=[], at=[]))
    await in_tx(store, lambda tx: tx.catalog.save_locations([never]))
    assert (await store.reader.locations(["ST-C"]))["ST-C"] == never
    await in_tx(store, lambda tx: tx.catalog.save_locations([ST_C]))
    assert (await store.reader.locations(["ST-C"]))["ST-C"].opening_hours is None


# --- orders ------------------------------------------------------------------------------------

async def test_an_added_order_is_read_back_by_id_number_and_fulfillment(store):
    await seed(store)
    order = an_order("PR-900001", work=[("WH-B", {TEE: 1}), ("WH-A", {TEE: 1})])
    await add_orders(store, order)
    # fulfillments come back by (created, location, id)
    expected = replace(order, fulfillments=sorted(order.fulfillments, key=lambda f: f.location))
    assert await store.reader.order_by_id(order.id) == expected
    assert await store.reader.order_by_number("PR-900001") == expected
    assert await store.reader.order_by_fulfillment(order.fulfillments[0].id) == expected
    assert await store.reader.orders_by_ids([order.id, "nope"]) == {order.id: expected}
    assert await in_tx(store, lambda tx: tx.orders.get(number="PR-900001")) == expected
    assert await in_tx(store, lambda tx: tx.orders.get(
        fulfillment_id=order.fulfillments[1].id)) == expected
    assert await store.reader.order_by_number("PR-404") is None
    assert await in_tx(store, lambda tx: tx.orders.get(fulfillment_id="nope")) is None


async def test_an_order_keeps_a_digest_of_its_promise_and_drops_its_pending_events(store):
    await seed(store)
    order = an_order("PR-900001", promise="a-long-sealed-plan")
    order.events.append(events.order_placed(number=order.number, status="ALLOCATED", at=NOW))
    await add_orders(store, order)
    got = await store.reader.order_by_id(order.id)
    assert got.delivery.promise_option_id == promise_reference("a-long-sealed-plan")
    assert got.events == []


async def test_a_saved_order_keeps_its_changes(store):
    await seed(store)
    await add_orders(store, an_order("PR-900001", lines={TEE: 2, MUG: 1},
                                     work=[("WH-A", {TEE: 2, MUG: 1})]))
    store.clock.current = NOW + timedelta(minutes=5)

    async def change(tx: Any) -> Order:
        order = await tx.orders.get(number="PR-900001")
        order.status, order.hold_reason = OrderStatus.IN_FULFILLMENT, "fraud check"
        order.tags = frozenset({OrderTag.VIP})
        order.lines[1].backordered, order.lines[1].status = 1, LineStatus.BACKORDERED
        work = order.fulfillments[0]
        work.status, work.carrier, work.tracking_number = FulfillmentStatus.SHIPPED, "BRT", "T1"
        work.shipped_at = NOW
        work.lines = [fl for fl in work.lines if fl.sku == TEE]
        work.tracking.append(TrackingScan(TrackingStatus.PICKED_UP, NOW, NOW, "Roma"))
        order.fulfillments.append(Fulfillment(str(uuid.uuid4()), "WH-B",
                                              FulfillmentStatus.ASSIGNED,
                                              [FulfillmentLine(order.lines[1].id, MUG, 1, 1)]))
        order.timeline.append(TimelineEntry(NOW, "SHIPPED", "shipped", "store:a", "PACKED",
                                            "SHIPPED"))
        await tx.orders.save(order)
        return order

    saved = await in_tx(store, change)
    assert await store.reader.order_by_number("PR-900001") == saved
    assert await store.reader.order_by_fulfillment(saved.fulfillments[1].id) == saved


async def test_saving_twice_in_one_transaction_keeps_both_changes(store):
    await seed(store)
    await add_orders(store, an_order("PR-900001"))

    async def change(tx: Any) -> None:
        order = await tx.orders.get(number="PR-900001")
        order.status = OrderStatus.ON_HOLD
        await tx.orders.save(order)
        order.timeline.append(TimelineEntry(NOW, "NOTE", "note", "agent:x"))
        await tx.orders.save(order)

    await in_tx(store, change)
    got = await store.reader.order_by_number("PR-900001")
    assert (got.status, [t.type for t in got.timeline]) == (
        OrderStatus.ON_HOLD, ["ORDER_PLACED", "NOTE"])


async def test_an_order_is_saved_by_the_transaction_that_got_it(store):
    await seed(store)
    order = an_order("PR-900001")

    async def add_then_save(tx: Any) -> None:
        await tx.orders.add(order)
        await tx.orders.save(order)

    with pytest.raises(KeyError):
        await in_tx(store, add_then_save)


async def test_orders_handed_out_are_copies(store):
    await seed(store)
    order = an_order("PR-900001")
    await add_orders(store, order)
    order.status = OrderStatus.CANCELLED  # the caller's own object
    read = await store.reader.order_by_number("PR-900001")
    read.lines[0].quantity = 99
    read.fulfillments[0].lines.clear()

    async def change_without_saving(tx: Any) -> None:
        got = await tx.orders.get(number="PR-900001")
        got.status = OrderStatus.CANCELLED
        got.timeline.clear()

    await in_tx(store, change_without_saving)
    again = await store.reader.order_by_number("PR-900001")
    assert (again.status, again.lines[0].quantity, len(again.fulfillments[0].lines),
            len(again.timeline)) == (OrderStatus.ALLOCATED, 2, 1, 1)


async def test_get_many_returns_the_orders_by_id(store):
    await seed(store)
    orders = [an_order(f"PR-90000{i}") for i in range(3)]
    await add_orders(store, *orders)
    got = await in_tx(store, lambda tx: tx.orders.get_many([orders[2].id, orders[0].id, "x"]))
    assert [o.id for o in got] == sorted([orders[2].id, orders[0].id])
    assert await in_tx(store, lambda tx: tx.orders.get_many([])) == []


async def test_order_numbers_increase(store):
    async def two(tx: Any) -> list[str]:
        return [await tx.orders.next_number(), await tx.orders.next_number()]

    first = await in_tx(store, two)
    second = await in_tx(store, two)
    numbers = [int(n.removeprefix("PR-")) for n in first + second]
    assert all(len(n) == 9 and n.startswith("PR-") for n in first + second)
    assert numbers == sorted(set(numbers))


async def test_backorders_waiting_for_a_receipt_are_served_first_come_first_served(store):
    await seed(store, incoming=[receipt("R1"), receipt("R2", MUG, "WH-B")])
    late = an_order("PR-900003", placed_at=NOW, work=[], backordered={TEE: (2, "R1")})
    early = an_order("PR-900001", placed_at=NOW - timedelta(hours=2), work=[],
                     backordered={TEE: (2, "R1")})
    middle = an_order("PR-900002", placed_at=NOW - timedelta(hours=1), work=[],
                      backordered={TEE: (2, "R1")})
    other = an_order("PR-900000", placed_at=NOW - timedelta(hours=3), lines={MUG: 1}, work=[],
                     backordered={MUG: (1, "R2")})
    served = an_order("PR-899999", placed_at=NOW - timedelta(hours=4))
    served.lines[0].incoming_id = "R1"  # its backorder was allocated: nothing waits
    await add_orders(store, late, other, early, middle, served)

    async def waiting(tx: Any) -> list[list[tuple[str, str]]]:
        return [await tx.orders.waiting_backorders(TEE, "WH-A", units=n) for n in (3, 4, 5, 1)]

    three, four, five, one = await in_tx(store, waiting)
    ids = [(o.id, o.lines[0].id) for o in (early, middle, late)]
    assert (three, four, five, one) == (ids[:2], ids[:2], ids, ids[:1])
    assert await in_tx(store, lambda tx: tx.orders.waiting_backorders(
        TEE, "WH-B", units=5)) == []


async def test_fulfillments_at_a_location_in_these_statuses_oldest_first(store):
    await seed(store)
    newer = an_order("PR-900002", placed_at=NOW - timedelta(minutes=10))
    older = an_order("PR-900001", placed_at=NOW - timedelta(minutes=20),
                     work=[("WH-A", {TEE: 1}), ("WH-B", {TEE: 1})])
    rejected = an_order("PR-900003", placed_at=NOW - timedelta(minutes=30))
    rejected.fulfillments[0].status = FulfillmentStatus.REJECTED
    await add_orders(store, newer, older, rejected)
    open_ = (FulfillmentStatus.ASSIGNED, FulfillmentStatus.ACCEPTED)
    assert await store.reader.fulfillments_at("WH-A", open_) == [
        older.fulfillments[0].id, newer.fulfillments[0].id]
    assert await store.reader.fulfillments_at("WH-A", (FulfillmentStatus.REJECTED,)) == [
        rejected.fulfillments[0].id]
    assert await store.reader.fulfillments_at("ST-C", open_) == []


async def test_unacknowledged_work_is_assigned_work_older_than_its_locations_time(store):
    await seed(store)
    a_late, b_late = NOW - timedelta(minutes=30), NOW - timedelta(minutes=10)
    old = an_order("PR-900001", placed_at=NOW - timedelta(minutes=60))
    young = an_order("PR-900002", placed_at=NOW - timedelta(minutes=20))  # young for WH-A
    at_b = an_order("PR-900003", placed_at=NOW - timedelta(minutes=20), work=[("WH-B", {TEE: 2})])
    accepted = an_order("PR-900004", placed_at=NOW - timedelta(minutes=70))
    accepted.fulfillments[0].status = FulfillmentStatus.ACCEPTED
    held = an_order("PR-900005", placed_at=NOW - timedelta(minutes=80))
    held.hold_reason = "fraud check"
    released_now = an_order("PR-900006", placed_at=NOW - timedelta(minutes=90))
    released_before = an_order("PR-900007", placed_at=NOW - timedelta(minutes=95))
    for order, minutes in ((released_now, 30), (released_before, 31)):
        order.timeline.append(TimelineEntry(NOW - timedelta(minutes=minutes), "ORDER_RELEASED",
                                            "Hold released", "agent:x"))
    elsewhere = an_order("PR-900008", placed_at=NOW - timedelta(hours=9),
                         work=[("ST-C", {TEE: 2})])
    await add_orders(store, old, young, at_b, accepted, held, released_now, released_before,
                     elsewhere)

    got = await store.reader.unacknowledged_work({"WH-A": a_late, "WH-B": b_late}, limit=10)

    assert got == [OfferedWork(o.fulfillments[0].id, o.id, o.fulfillments[0].location,
                               o.placed_at) for o in (released_before, old, at_b)]
    assert await store.reader.unacknowledged_work({"WH-A": a_late, "WH-B": b_late},
                                                  limit=1) == got[:1]
    assert await store.reader.unacknowledged_work({}, limit=10) == []

    async def resource_old(tx: Any) -> None:  # work made by a save is as old as that save
        order = await tx.orders.get(number="PR-900001")
        order.fulfillments[0].status = FulfillmentStatus.REJECTED
        order.fulfillments.append(Fulfillment(str(uuid.uuid4()), "WH-B",
                                              FulfillmentStatus.ASSIGNED,
                                              [FulfillmentLine(order.lines[0].id, TEE, 2, 2)]))
        await tx.orders.save(order)

    await in_tx(store, resource_old)
    assert await store.reader.unacknowledged_work({"WH-A": a_late, "WH-B": b_late},
                                                  limit=10) == got[:1] + got[2:]
    store.clock.current = NOW + timedelta(minutes=1)
    assert [w.fulfillment_id for w in await store.reader.unacknowledged_work(
        {"WH-A": a_late, "WH-B": NOW + timedelta(seconds=1)}, limit=10)] == [
        released_before.fulfillments[0].id, at_b.fulfillments[0].id,
        (await store.reader.order_by_number("PR-900001")).fulfillments[1].id]


# --- idempotency -------------------------------------------------------------------------------

async def test_claiming_a_taken_key_answers_with_the_record_that_holds_it(store):
    mine = IdempotencyRecord("key-0001", "print-a", "order-a")

    async def claim_twice(tx: Any) -> list[Any]:
        return [await tx.idempotency.claim(mine),
                await tx.idempotency.claim(IdempotencyRecord("key-0001", "b", "order-b"))]

    assert await in_tx(store, claim_twice) == [None, mine]
    assert await in_tx(store, lambda tx: tx.idempotency.claim(
        IdempotencyRecord("key-0001", "c", "order-c"))) == mine
    assert await in_tx(store, lambda tx: tx.idempotency.claim(
        IdempotencyRecord("key-0002", "c", "order-c"))) is None


async def test_a_key_claimed_without_commit_stays_free(store):
    await in_tx(store, lambda tx: tx.idempotency.claim(
        IdempotencyRecord("key-0001", "a", "order-a")), commit=False)
    assert await in_tx(store, lambda tx: tx.idempotency.claim(
        IdempotencyRecord("key-0001", "b", "order-b"))) is None


# --- sourcing ----------------------------------------------------------------------------------

async def test_policies_are_numbered_per_channel_and_the_newest_is_current(store):
    fastest = SourcingPolicy(channel="web", strategy=Strategy.FASTEST, max_shipments=2)
    greenest = SourcingPolicy(channel="web", strategy=Strategy.LOWEST_EMISSIONS,
                              created_by="admin:x", created_at=NOW - timedelta(days=1))
    anywhere = SourcingPolicy(channel=ANY_CHANNEL, split_lines=False)

    async def save(tx: Any) -> list[SourcingPolicy]:
        return [await tx.sourcing.save_policy(p) for p in (fastest, greenest, anywhere)]

    saved = await in_tx(store, save)
    assert saved == [replace(fastest, version=1), replace(greenest, version=2),
                     replace(anywhere, version=1)]
    kept = [replace(fastest, version=1, created_at=NOW, created_by="system"),
            replace(greenest, version=2), replace(anywhere, version=1, created_at=NOW,
                                                  created_by="system")]
    reader = store.reader
    assert await reader.sourcing_policies(channel="web", history=True) == [kept[1], kept[0]]
    assert await reader.sourcing_policies(channel="web", history=False) == [kept[1]]
    assert await reader.sourcing_policies(channel=None, history=False) == [kept[2], kept[1]]
    assert await reader.sourcing_policies(channel=None, history=True) == [
        kept[2], kept[1], kept[0]]
    assert await reader.sourcing_policies(channel="store", history=False) == []


async def test_the_snapshot_sees_the_channels_policy_else_the_one_for_any_channel(store):
    await seed(store)

    async def policy(channel: str) -> SourcingPolicy:
        return (await store.reader.sourcing_snapshot(channel=channel, skus=[TEE])).policy

    assert await policy("web") == BUILT_IN
    await in_tx(store, lambda tx: tx.sourcing.save_policy(SourcingPolicy(channel=ANY_CHANNEL)))
    await in_tx(store, lambda tx: tx.sourcing.save_policy(
        SourcingPolicy(channel="web", strategy=Strategy.FASTEST)))
    await in_tx(store, lambda tx: tx.sourcing.save_policy(
        SourcingPolicy(channel="web", strategy=Strategy.BALANCED)))
    assert ((await policy("web")).version, (await policy("web")).strategy) == (
        2, Strategy.BALANCED)
    assert ((await policy("store")).channel, (await policy("store")).version) == (
        ANY_CHANNEL, 1)


async def test_capacity_is_claimed_up_to_the_days_capacity(store):
    await seed(store)

    async def claims(tx: Any) -> list[bool]:
        claim = tx.sourcing.claim_capacity
        return [await claim("WH-A", "2030-01-02", 2), await claim("WH-A", "2030-01-02", 2),
                await claim("WH-A", "2030-01-02", 2), await claim("WH-A", "2030-01-03", 2),
                await claim("WH-B", "2030-01-02", 0), await claim("WH-A", "2030-01-02", 3)]

    assert await in_tx(store, claims) == [True, True, False, True, False, True]


async def test_capacity_claimed_without_commit_is_not_counted(store):
    await seed(store)
    await in_tx(store, lambda tx: tx.sourcing.claim_capacity("WH-A", "2030-01-02", 1),
                commit=False)
    assert await in_tx(store, lambda tx: tx.sourcing.claim_capacity(
        "WH-A", "2030-01-02", 1)) is True


async def test_downtime_is_visible_until_it_is_over(store):
    await seed(store)
    later = Downtime("d2", "WH-A", NOW + timedelta(days=2), NOW + timedelta(days=3), "holiday")
    now_ = Downtime("d1", "WH-A", NOW - timedelta(hours=1), NOW + timedelta(hours=1), "count")

    async def add(tx: Any) -> None:
        await tx.sourcing.add_downtime(later, actor="admin:x")
        await tx.sourcing.add_downtime(now_, actor="admin:x")

    await in_tx(store, add)
    reader = store.reader
    assert await reader.downtime("WH-A", now=NOW) == [now_, later]
    assert await reader.downtime("WH-A", now=NOW + timedelta(hours=1)) == [later]
    assert await reader.downtime("WH-A", now=NOW + timedelta(days=3)) == []
    assert await reader.downtime("WH-B", now=NOW) == []


async def test_decisions_are_recorded_and_read_back_newest_first(store):
    await seed(store)
    order = an_order("PR-900001")
    await add_orders(store, order)
    placed = decide([(sku(TEE), 1)], [at(WH_A, TEE=5), at(WH_B, TEE=5)])
    moved = decide([(sku(TEE), 1)], [at(WH_B, TEE=5)])

    async def record(tx: Any) -> list[str]:
        return [await tx.sourcing.save_decision(order_id=order.id, kind="PLACEMENT",
                                                decision=placed),
                await tx.sourcing.save_decision(order_id=order.id, kind="RESOURCING",
                                                decision=moved)]

    ids = await in_tx(store, record)
    got = await store.reader.sourcing_decisions("PR-900001")
    assert [(d.id, d.order_number, d.kind) for d in got] == [
        (ids[1], "PR-900001", "RESOURCING"), (ids[0], "PR-900001", "PLACEMENT")]
    assert [d.decision for d in got] == [moved, placed]
    assert await store.reader.sourcing_decisions("PR-404") == []


async def test_a_decision_needs_its_order(store):
    placed = decide([(sku(TEE), 1)], [at(WH_A, TEE=5)])
    with pytest.raises(store.refused):
        await in_tx(store, lambda tx: tx.sourcing.save_decision(
            order_id="nope", kind="PLACEMENT", decision=placed))


# --- the snapshot ------------------------------------------------------------------------------

async def test_the_snapshot_holds_what_placing_an_order_reads(store):
    await seed(store, levels={A_TEE: (10, 2, 1), (MUG, "WH-B"): (3, 0, 0),
                              (TEE, "ST-C"): (5, 0, 0), (GIFT, "WH-A"): (0, 0, 0)},
               incoming=[receipt("R1", day=10), receipt("R2", where="WH-B", day=5),
                         receipt("R3", MUG, "WH-B", quantity=4, allocated=4),
                         receipt("R4", MUG, "WH-B"), receipt("R5", TEE, "ST-C", day=1)])
    web = SourcingPolicy(channel="web", strategy=Strategy.FASTEST)
    over = Downtime("d1", "WH-A", NOW - timedelta(days=2), NOW - timedelta(days=1), "past")
    down = Downtime("d2", "WH-B", NOW - timedelta(hours=1), NOW + timedelta(hours=5), "count")
    elsewhere = Downtime("d3", "ST-C", NOW, NOW + timedelta(hours=5), "not this channel")

    async def state(tx: Any) -> None:
        await tx.inventory.receive_incoming("R4", 10)
        await tx.sourcing.save_policy(web)
        for window in (over, down, elsewhere):
            await tx.sourcing.add_downtime(window, actor="admin:x")
        for code, day in (("WH-A", "2030-01-02"), ("WH-A", "2030-01-02"), ("WH-A", "2030-01-01"),
                          ("WH-B", "2030-01-02")):
            assert await tx.sourcing.claim_capacity(code, day, 5)

    await in_tx(store, state)
    snap = await store.reader.sourcing_snapshot(channel="web", skus=[GIFT], now=NOW)
    assert snap.channel == next(c for c in DEFAULT_CHANNELS if c.code == "web")
    assert snap.skus == {s.sku: s for s in SKUS}  # the kit and its parts
    assert snap.locations == {"WH-A": WH_A, "WH-B": WH_B}
    assert snap.levels == {A_TEE: InventoryLevel(TEE, "WH-A", 10, 2, 1),
                           (MUG, "WH-B"): InventoryLevel(MUG, "WH-B", 3, 0, 0)}
    # open receipts with units to promise, of stocked SKUs, soonest first (any location)
    assert snap.incoming == {TEE: [receipt("R5", TEE, "ST-C", day=1),
                                   receipt("R2", where="WH-B", day=5), receipt("R1", day=10)]}
    assert snap.policy == replace(web, version=1, created_at=NOW, created_by="system")
    assert snap.downtime == {"WH-B": [down]}
    assert snap.load == {"WH-A": 2}  # today in Rome, where capacity is counted
    assert snap.idempotency is None
    # without `now`: every window, and no load
    timeless = await store.reader.sourcing_snapshot(channel="web", skus=[TEE])
    assert timeless.downtime == {"WH-A": [over], "WH-B": [down]}
    assert (timeless.load, list(timeless.skus)) == ({}, [TEE])


async def test_the_snapshot_of_an_unknown_channel_has_no_channel_and_no_locations(store):
    await seed(store, levels={A_TEE: (1, 0, 0)})
    snap = await store.reader.sourcing_snapshot(channel="marketplace:nope", skus=[TEE],
                                                now=NOW)
    assert (snap.channel, snap.locations, snap.levels) == (None, {}, {})
    assert list(snap.skus) == [TEE]


async def test_the_snapshot_reads_an_idempotency_key_first_and_then_nothing_else(store):
    await seed(store, levels={A_TEE: (1, 0, 0)})
    record = IdempotencyRecord("key-0001", "print", "order-1")
    await in_tx(store, lambda tx: tx.idempotency.claim(record))
    snap = await store.reader.sourcing_snapshot(channel="web", skus=[TEE], now=NOW,
                                                idempotency_key="key-0001")
    assert snap.idempotency == record
    assert (snap.channel, snap.skus, snap.locations, snap.levels, snap.incoming) == (
        None, {}, {}, {}, {})
    fresh = await store.reader.sourcing_snapshot(channel="web", skus=[TEE], now=NOW,
                                                 idempotency_key="key-0002")
    assert fresh.idempotency is None and fresh.levels


# --- returns -----------------------------------------------------------------------------------

async def test_returns_are_added_and_read_with_their_order(store):
    await seed(store)
    order = an_order("PR-900001")
    await add_orders(store, order)
    second = a_return(order, "RMA-2", requested_at=NOW)
    first = a_return(order, "RMA-1", requested_at=NOW - timedelta(hours=1))
    # what the order says wins over what the return was told
    told = replace(second, order_number="PR-WRONG", customer_email="x@example.com")

    async def add(tx: Any) -> list[Return]:
        await tx.returns.add(told)
        await tx.returns.add(first)
        return await tx.returns.for_order(order.id)

    assert await in_tx(store, add) == [first, second]
    assert await store.reader.returns_by_order([order.id, "nope"]) == {
        order.id: [first, second]}
    assert await in_tx(store, lambda tx: tx.returns.order_number_of("RMA-2")) == "PR-900001"
    assert await in_tx(store, lambda tx: tx.returns.order_number_of("RMA-404")) is None
    assert await in_tx(store, lambda tx: tx.returns.for_order("nope")) == []


async def test_a_saved_return_keeps_its_status_conditions_and_refunds(store):
    await seed(store)
    order = an_order("PR-900001")
    await add_orders(store, order)
    ret = a_return(order, "RMA-1")
    await in_tx(store, lambda tx: tx.returns.add(ret))
    pending = Refund("refund-1", money("7.50"), None, None, NOW, "agent:x")
    dropped = Refund("refund-2", money("1.00"), None, None, NOW + timedelta(minutes=1), "x")

    async def receive(tx: Any) -> Return:
        [got] = await tx.returns.for_order(order.id)
        got.status, got.received_at = ReturnStatus.RECEIVED, NOW
        got.lines[0].restocked = 1
        got.refunds += [pending, dropped]
        await tx.returns.save(got)
        return got

    received = await in_tx(store, receive)
    assert (await store.reader.returns_by_order([order.id]))[order.id] == [received]

    async def refund(tx: Any) -> Return:
        [got] = await tx.returns.for_order(order.id)
        got.status = ReturnStatus.REFUNDED
        got.refunds = [replace(pending, reference="pay-1", provider="fake",
                               at=NOW + timedelta(minutes=2))]
        await tx.returns.save(got)
        return got

    refunded = await in_tx(store, refund)
    assert (await store.reader.returns_by_order([order.id]))[order.id] == [refunded]
    assert refunded.refunds[0].reference == "pay-1"


async def test_a_return_is_saved_by_the_transaction_that_read_it(store):
    await seed(store)
    order = an_order("PR-900001")
    await add_orders(store, order)
    ret = a_return(order, "RMA-1")
    await in_tx(store, lambda tx: tx.returns.add(ret))
    with pytest.raises(KeyError):
        await in_tx(store, lambda tx: tx.returns.save(ret))


async def test_completable_orders_are_delivered_long_enough_ago_with_no_open_return(store):
    await seed(store)

    def delivered(number: str, *arrived: datetime | None, channel: str = "web",
                  placed_at: datetime = NOW - timedelta(days=60)) -> Order:
        order = an_order(number, placed_at=placed_at,
                         work=[("WH-A", {TEE: 1}) for _ in arrived])
        order.channel, order.status = channel, OrderStatus.DELIVERED
        for f, at_ in zip(order.fulfillments, arrived, strict=True):
            f.status, f.delivered_at = FulfillmentStatus.DELIVERED, at_
        return order

    web, shop = NOW - timedelta(days=30), NOW - timedelta(days=10)
    first = delivered("PR-900001", NOW - timedelta(days=40))
    recent_too = delivered("PR-900002", NOW - timedelta(days=45), NOW - timedelta(days=5))
    no_time = delivered("PR-900003", None, placed_at=NOW - timedelta(days=50))
    shipped = delivered("PR-900004", NOW - timedelta(days=40))
    shipped.status = OrderStatus.SHIPPED
    returning = delivered("PR-900005", NOW - timedelta(days=41))
    rejected = delivered("PR-900006", NOW - timedelta(days=42))
    in_store = delivered("PR-900007", NOW - timedelta(days=12), channel="store")
    other = delivered("PR-900008", NOW - timedelta(days=90), channel="call_center")
    undelivered = delivered("PR-900009", NOW - timedelta(days=80))
    undelivered.fulfillments[0].status = FulfillmentStatus.CANCELLED
    await add_orders(store, first, recent_too, no_time, shipped, returning, rejected, in_store,
                     other, undelivered)
    rejected_return = replace(a_return(rejected, "RMA-6"), status=ReturnStatus.REJECTED)

    async def add_returns(tx: Any) -> None:
        await tx.returns.add(a_return(returning, "RMA-5"))  # REQUESTED
        await tx.returns.add(rejected_return)

    await in_tx(store, add_returns)
    before = {"web": web, "store": shop}
    open_ = frozenset({ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT,
                       ReturnStatus.RECEIVED})

    got = await store.reader.completable_orders(before, open_returns=open_, limit=10)

    assert got == [no_time.id, rejected.id, first.id, in_store.id]
    assert await store.reader.completable_orders(before, open_returns=open_, limit=2) == got[:2]
    assert await store.reader.completable_orders(
        before, open_returns=open_ - {ReturnStatus.REQUESTED}, limit=10) == [
        no_time.id, rejected.id, returning.id, first.id, in_store.id]
    assert await store.reader.completable_orders({}, open_returns=open_, limit=10) == []


# --- the unit of work --------------------------------------------------------------------------

async def test_leaving_without_commit_keeps_nothing_not_even_events(store):
    async def everything(tx: Any) -> None:
        await tx.catalog.save_skus(SKUS)
        await tx.catalog.save_locations(LOCATIONS)
        await tx.inventory.move([(TEE, "WH-A", 5, 0)])
        await tx.orders.add(an_order("PR-900001"))
        tx.emit(events.Event("SOMETHING", NOW, ("s", "all")))

    await in_tx(store, everything, commit=False)
    assert await store.reader.skus([TEE]) == {}
    assert await store.reader.locations() == {}
    assert await store.reader.levels([A_TEE]) == []
    assert await store.reader.order_by_number("PR-900001") is None
    assert await store.outbox.heads(["s", "all"]) == {}


async def test_an_exception_inside_rolls_back_and_propagates(store):
    await seed(store, levels={A_TEE: (5, 0, 0)})
    with pytest.raises(ZeroDivisionError):
        async with store.uow() as tx:
            await tx.inventory.reserve([(TEE, "WH-A", 5)])
            tx.emit(events.Event("SOMETHING", NOW, ("s",)))
            1 / 0  # noqa: B018
    assert await level(store, A_TEE) == (5, 0, 0)
    assert await store.outbox.heads(["s"]) == {}
    # and the store takes the next transaction
    assert await in_tx(store, lambda tx: tx.inventory.reserve([(TEE, "WH-A", 5)]))


async def test_reads_see_only_what_is_committed(store):
    await seed(store)
    async with store.uow() as tx:
        await tx.catalog.save_skus([sku("NEW")])
        assert await store.reader.skus(["NEW"]) == {}
        await tx.commit()
    assert list(await store.reader.skus(["NEW"])) == ["NEW"]


async def test_committed_events_are_numbered_per_stream_without_gaps(store):
    async def emit(tx: Any, batch: list[tuple[str, tuple[str, ...]]]) -> None:
        tx.emit(*(events.Event(t, NOW, streams, {"t": t, "at": NOW}) for t, streams in batch))

    await in_tx(store, lambda tx: emit(tx, [("A", ("s1", "all")), ("B", ("s1", "all"))]))
    await in_tx(store, lambda tx: emit(tx, [("X", ("s1", "all"))]), commit=False)
    await in_tx(store, lambda tx: emit(tx, [("C", ("s2", "all"))]))
    read = store.outbox.read
    assert [(e.sequence, e.type) for e in await read("all", after=0, limit=10)] == [
        (1, "A"), (2, "B"), (3, "C")]
    got = await read("s1", after=0, limit=10)
    assert [(e.stream, e.sequence, e.type) for e in got] == [("s1", 1, "A"), ("s1", 2, "B")]
    assert got[0].payload == {"t": "A", "at": str(NOW)}  # kept as JSON
    assert got[0].at == NOW
    assert [e.sequence for e in await read("all", after=1, upto=2, limit=10)] == [2]
    assert await store.outbox.heads(["s1", "s2", "all", "none"]) == {"all": 3, "s1": 2, "s2": 1}


async def test_concurrent_commits_number_a_stream_without_gaps(store):
    async def one(i: int) -> None:
        async with store.uow() as tx:
            await asyncio.sleep(0)
            tx.emit(events.Event(f"E{i}", NOW, ("race", f"own-{i}")))
            await tx.commit()

    await asyncio.gather(*(one(i) for i in range(10)))
    got = await store.outbox.read("race", after=0, limit=100)
    assert [e.sequence for e in got] == list(range(1, 11))
    assert sorted(e.type for e in got) == sorted(f"E{i}" for i in range(10))
