"""The in-memory store: fakes of the ports persistence implements, for fast use-case tests.

`MemoryStore` holds the committed state; `MemoryUnitOfWork` is one write transaction over it
(every repository of `domain.ports.UnitOfWork`), `MemoryReader` the reads of
`domain.ports.Reader` (and the extra ones of `persistence.reads.SqlReader` tests need),
`MemoryOutbox` the read side of the outbox (as `persistence.outbox.SqlOutbox`).

    store = MemoryStore(clock)
    async with store.unit_of_work() as tx:
        await tx.inventory.reserve([("SKU", "WH", 1)])
        await tx.commit()
    await store.reader.levels([("SKU", "WH")])

The semantics are the SQL store's (`tests/stores/test_store_contract.py` runs the same tests
against this fake, SQLite and PostgreSQL):

- **One write transaction at a time**, like SQLite's BEGIN IMMEDIATE: `__aenter__` takes the
  store's asyncio lock, `__aexit__` releases it. The transaction works on a private copy of
  the tables; `commit` makes the copy the committed state and writes its events to the outbox,
  numbered gap-free per stream. Leaving without `commit` (or by an exception) keeps nothing.
  A second write transaction opened by the task already holding one raises instead of
  deadlocking.
- **The reservation guard**: `reserve` checks every line against its level and writes them
  all, with no await in between — on hand − reserved − safety stock ≥ units, all or nothing.
  `move` and `release` likewise keep every level at 0 ≤ reserved and on hand − reserved −
  safety stock ≥ 0, all or nothing.
- **Readers see committed state only**, and every object handed out — by a reader or a
  repository — is a copy: changing it changes nothing until it is saved.
- **What SQL's constraints refuse** (a foreign key to a SKU, location or order that does not
  exist, a level that would break its CHECK, a duplicate key) raises `ConstraintViolation`
  where SQLAlchemy raises IntegrityError.
- **Round trips as SQL does them**: money is kept in cents (amounts truncated to 2 decimals,
  line prices and totals in the order's currency), a location's channels come back sorted and
  its cutoff to the minute, a kit's parts sorted, an order's promise option id as the digest
  SQL keeps, fulfillments ordered by (created, location, id), carrier scans by time, returns
  by (requested, number) with their order's number and customer email, refunds by time;
  an order comes back without pending `events`; outbox payloads go through JSON.
- **Saving needs loading**, as in SQL: `orders.save` takes an order got (`get`/`get_many`) in
  the same transaction, `returns.save` a return read (`for_order`) or added in it.

Known simplifications: `orders.save` writes the whole aggregate back (SQL writes the editable
columns, new fulfillments and lines, and appends timeline entries and scans — the same result
for every change the domain makes); datetimes keep the time zone they were given (SQL hands
back UTC); order numbers roll back with their transaction (as on SQLite; PostgreSQL's sequence
does not). Reads the use cases never make (pages, metrics, customer accounts) are not here.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple, Self

import domain.ports
from domain.catalog import DEFAULT_CHANNELS, Channel, KitComponent, Location, Sku
from domain.documents.issuing import Draft, Issued
from domain.fulfillment.ports import OfferedWork
from domain.inventory import Incoming, InventoryLevel, LedgerEntry
from domain.inventory.ports import Change, LevelKey, Want
from domain.kernel import errors, events
from domain.kernel.money import Money
from domain.kernel.ports import Clock, IdempotencyRecord
from domain.kernel.streams import StoredEvent
from domain.orders import FulfillmentStatus, Order, OrderStatus
from domain.payments import LAPSE_STATUSES
from domain.returns import Return
from domain.returns.status import ReturnStatus
from domain.sourcing import Decision
from domain.sourcing import policy as policies
from domain.sourcing.policy import ANY_CHANNEL, BUILT_IN, SourcingPolicy
from domain.sourcing.ports import RecordedDecision, SourcingSnapshot
from domain.sourcing.shipping import Downtime, zone

__all__ = ["ConstraintViolation", "FakeCatalogRepository", "FakeIdempotencyRepository",
           "FakeInventoryRepository", "FakeOrderRepository", "FakeReturnRepository",
           "FakeSourcingRepository", "MemoryOutbox", "MemoryReader", "MemoryStore",
           "MemoryUnitOfWork", "OutboxEntry"]

log = logging.getLogger(__name__)
# Told (stream -> last sequence written) once a transaction with events has committed.
CommitHook = Callable[[dict[str, int]], None]
CENTS = Decimal(100)


class ConstraintViolation(Exception):
    """What a constraint of the SQL schema refuses (IntegrityError there)."""


class OutboxEntry(NamedTuple):
    """One stream's copy of a committed event, numbered in that stream from 1."""

    stream: str
    sequence: int
    event: events.Event


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def _pause() -> None:
    """Give other tasks a turn, as a round trip to a database would."""
    await asyncio.sleep(0)


# --- round trips as the SQL store makes them --------------------------------------------------

def _cents(amount: Decimal) -> Decimal:
    """An amount as stored in minor units and read back (persistence.mapping)."""
    return (Decimal(int(amount * CENTS)) / CENTS).quantize(Decimal("0.01"))


def _money(amount: Decimal, currency: str) -> Money:
    return Money(_cents(amount), currency)


def _promise_reference(option_id: str | None) -> str | None:
    """What an order keeps of its promise option id (persistence.mapping.promise_reference)."""
    if option_id is None:
        return None
    return "sha256:" + hashlib.sha256(option_id.encode()).hexdigest()[:40]


def _stored_sku(sku: Sku) -> Sku:
    return replace(sku, prices={c: _cents(a) for c, a in sorted(sku.prices.items())},
                   components=tuple(sorted(sku.components, key=lambda c: (c.sku, c.quantity))))


def _copy_sku(sku: Sku) -> Sku:
    return replace(sku, prices=dict(sku.prices),
                   components=tuple(KitComponent(c.sku, c.quantity) for c in sku.components))


def _stored_location(loc: Location) -> Location:
    assert loc.address.point is not None  # as persistence.mapping.location_values
    if len(set(loc.channels)) != len(loc.channels):
        raise ConstraintViolation(f"location {loc.code} lists a channel twice")
    return replace(loc, channels=tuple(sorted(loc.channels)),
                   cutoff_time=time(loc.cutoff_time.hour, loc.cutoff_time.minute),
                   cost_per_shipment=_cents(loc.cost_per_shipment),
                   cost_per_kg=_cents(loc.cost_per_kg))


def _copy_level(level: InventoryLevel) -> InventoryLevel:
    return InventoryLevel(level.sku, level.location, level.on_hand, level.reserved,
                          level.safety_stock)


def _check_level(level: InventoryLevel) -> None:
    """The CHECK constraints of inventory_levels."""
    if level.reserved < 0 or level.safety_stock < 0:
        raise ConstraintViolation(f"{level.sku} at {level.location}: negative level {level}")
    if level.on_hand - level.reserved - level.safety_stock < 0:
        raise ConstraintViolation(f"{level.sku} at {level.location}: oversold {level}")


def _check_incoming(receipt: Incoming) -> None:
    if not 0 <= receipt.allocated <= receipt.quantity:
        raise ConstraintViolation(f"receipt {receipt.id}: {receipt.allocated} of "
                                  f"{receipt.quantity} allocated")


def _json_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An event payload as the outbox keeps it (JSON, as persistence.uow writes it)."""
    kept = json.loads(json.dumps(payload, separators=(",", ":"), default=str))
    return kept if isinstance(kept, dict) else {}


@dataclass(frozen=True, slots=True)
class _StoredOrder:
    """An order as committed (a private copy nobody else holds), and when each of its
    fulfillments was created (they are read back in (created, location, id) order)."""

    order: Order
    created: Mapping[str, datetime]


@dataclass(frozen=True, slots=True)
class _Decided:
    id: str
    kind: str
    decision: Decision


# --- the tables -------------------------------------------------------------------------------

@dataclass(slots=True)
class _Tables:
    """Everything a transaction can change. A transaction works on a `fork` (new containers,
    the same values): values are never changed in place, only replaced."""

    channels: dict[str, Channel]
    skus: dict[str, Sku]
    locations: dict[str, Location]
    levels: dict[LevelKey, InventoryLevel]
    incoming: dict[str, Incoming]
    orders: dict[str, _StoredOrder]
    order_by_number: dict[str, str]
    order_by_fulfillment: dict[str, str]
    order_by_line: dict[str, str]
    order_counter: int
    idempotency: dict[str, IdempotencyRecord]
    policies: dict[str, tuple[SourcingPolicy, ...]]  # per channel, oldest version first
    decisions: dict[str, tuple[_Decided, ...]]  # per order id, oldest first
    load: dict[tuple[str, str], int]  # (location, local day) -> fulfillments assigned
    downtime: dict[str, Downtime]
    returns: dict[str, Return]
    return_by_number: dict[str, str]
    documents: dict[str, Issued] = field(default_factory=dict)  # by source
    counters: dict[str, int] = field(default_factory=dict)  # by series

    @classmethod
    def seeded(cls, channels: Iterable[Channel]) -> _Tables:
        """The reference data the migrations seed: the channels of SPEC §1."""
        return cls(channels={c.code: c for c in channels}, skus={}, locations={}, levels={},
                   incoming={}, orders={}, order_by_number={}, order_by_fulfillment={},
                   order_by_line={}, order_counter=0, idempotency={}, policies={}, decisions={},
                   load={}, downtime={}, returns={}, return_by_number={})

    def fork(self) -> _Tables:
        return _Tables(
            dict(self.channels), dict(self.skus), dict(self.locations), dict(self.levels),
            dict(self.incoming), dict(self.orders), dict(self.order_by_number),
            dict(self.order_by_fulfillment), dict(self.order_by_line), self.order_counter,
            dict(self.idempotency), dict(self.policies), dict(self.decisions), dict(self.load),
            dict(self.downtime), dict(self.returns), dict(self.return_by_number),
            dict(self.documents), dict(self.counters))

    # --- shared by repositories and readers ---------------------------------------------------
    def require_sku(self, code: str) -> None:
        if code not in self.skus:
            raise ConstraintViolation(f"no SKU {code!r}")

    def require_location(self, code: str) -> None:
        if code not in self.locations:
            raise ConstraintViolation(f"no location {code!r}")

    def require_order(self, order_id: str) -> None:
        if order_id not in self.orders:
            raise ConstraintViolation(f"no order {order_id!r}")

    def skus_of(self, codes: Iterable[str]) -> dict[str, Sku]:
        return {c: _copy_sku(self.skus[c]) for c in sorted(set(codes)) if c in self.skus}

    def locations_of(self, codes: Iterable[str] | None) -> dict[str, Location]:
        wanted = self.locations if codes is None else set(codes)
        return {c: self.locations[c] for c in sorted(wanted) if c in self.locations}

    def order(self, order_id: str | None) -> Order | None:
        stored = self.orders.get(order_id or "")
        return None if stored is None else copy.deepcopy(stored.order)

    def orders_sorted(self, ids: Iterable[str]) -> list[Order]:
        return [o for i in sorted(set(ids)) if (o := self.order(i)) is not None]

    def returns_of(self, order_id: str) -> list[Return]:
        stored = self.orders.get(order_id)
        if stored is None:
            return []
        found = [r for r in self.returns.values() if r.order_id == order_id]
        found.sort(key=lambda r: (r.requested_at, r.number))
        out = []
        for r in found:
            ret = copy.deepcopy(r)
            ret.order_number = stored.order.number
            ret.customer_email = stored.order.customer.email
            out.append(ret)
        return out

    def current_policy(self, channel: str) -> SourcingPolicy | None:
        versions = self.policies.get(channel)
        return versions[-1] if versions else None

    def downtime_at(self, codes: Iterable[str], now: datetime | None
                    ) -> dict[str, list[Downtime]]:
        wanted = set(codes)
        windows = sorted((w for w in self.downtime.values() if w.location in wanted
                          and (now is None or w.ends_at > now)), key=lambda w: w.starts_at)
        out: dict[str, list[Downtime]] = {}
        for w in windows:
            out.setdefault(w.location, []).append(w)
        return out


# --- the store --------------------------------------------------------------------------------

class MemoryStore:
    """The committed state, the outbox and the write lock; `unit_of_work()` opens a write
    transaction, `reader` reads what is committed, `outbox_reader` reads the outbox."""

    def __init__(self, clock: Clock | None = None, *,
                 channels: Iterable[Channel] = DEFAULT_CHANNELS,
                 on_commit: CommitHook | None = None) -> None:
        self.clock: Clock = clock or _SystemClock()
        self.on_commit = on_commit
        self._tables = _Tables.seeded(channels)
        self._ledger: list[LedgerEntry] = []
        self._outbox: list[OutboxEntry] = []
        self._streams: dict[str, list[OutboxEntry]] = {}
        self._lock = asyncio.Lock()
        self._writer: asyncio.Task[Any] | None = None
        self.reader = MemoryReader(self)
        self.outbox_reader = MemoryOutbox(self)

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A write transaction (a `domain.ports.UnitOfWorkFactory`)."""
        return MemoryUnitOfWork(self, self.clock, on_commit=self.on_commit)

    # --- for tests to look at (copies of what is committed) -----------------------------------
    @property
    def outbox(self) -> list[OutboxEntry]:
        """Every committed event, once per stream, in commit order."""
        return list(self._outbox)

    @property
    def ledger(self) -> list[LedgerEntry]:
        return list(self._ledger)

    @property
    def levels(self) -> dict[LevelKey, InventoryLevel]:
        return {k: _copy_level(v) for k, v in sorted(self._tables.levels.items())}

    @property
    def incoming(self) -> dict[str, Incoming]:
        return dict(self._tables.incoming)

    @property
    def orders(self) -> dict[str, Order]:
        """Every order by number."""
        t = self._tables
        return {n: o for n, i in sorted(t.order_by_number.items())
                if (o := t.order(i)) is not None}

    @property
    def documents(self) -> list[Issued]:
        """Every invoice and credit note issued, by number (they are frozen: no copies)."""
        return sorted(self._tables.documents.values(), key=lambda d: d.number)

    # --- what a commit does -------------------------------------------------------------------
    async def _begin(self) -> _Tables:
        task = asyncio.current_task()
        if task is not None and self._writer is task:
            raise RuntimeError("this task already holds the write transaction: a second one "
                               "would wait for itself")
        await self._lock.acquire()
        self._writer = task
        return self._tables.fork()

    def _end(self) -> None:
        self._writer = None
        self._lock.release()

    def _commit(self, tables: _Tables, ledger: list[LedgerEntry],
                new: list[events.Event]) -> dict[str, int]:
        kept_events = [events.Event(e.type, e.at, e.streams, _json_payload(e.payload))
                       for e in new]  # before anything changes: a payload may not serialise
        self._tables = tables
        self._ledger.extend(ledger)
        heads: dict[str, int] = {}
        for kept in kept_events:
            for stream in kept.streams:
                entries = self._streams.setdefault(stream, [])
                entry = OutboxEntry(stream, len(entries) + 1, kept)
                entries.append(entry)
                self._outbox.append(entry)
                heads[stream] = entry.sequence
        return heads


# --- the repositories -------------------------------------------------------------------------

class _Repository:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _t(self) -> _Tables:
        return self._uow._live()

    @property
    def _now(self) -> datetime:
        return self._uow.now


class FakeCatalogRepository(_Repository):
    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]:
        await _pause()
        return self._t.skus_of(codes)

    async def locations(self, codes: Iterable[str]) -> dict[str, Location]:
        await _pause()
        return self._t.locations_of(codes)

    async def save_skus(self, skus: list[Sku]) -> None:
        await _pause()
        t = self._t
        saved = {s.sku: _stored_sku(s) for s in skus}
        for s in saved.values():
            for part in s.components:
                if part.sku not in saved and part.sku not in t.skus:
                    raise ConstraintViolation(f"kit {s.sku}: no component {part.sku!r}")
        t.skus.update(saved)

    async def save_locations(self, locations: list[Location]) -> None:
        await _pause()
        self._t.locations.update({loc.code: _stored_location(loc) for loc in locations})

    async def channels(self) -> list[Channel]:
        await _pause()
        return [c for _, c in sorted(self._t.channels.items())]

    async def save_channel(self, channel: Channel) -> None:
        await _pause()
        if channel.code not in self._t.channels:
            raise ConstraintViolation(f"no channel {channel.code}")
        self._t.channels[channel.code] = channel


class FakeInventoryRepository(_Repository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow)
        self.ledger: list[LedgerEntry] = []  # appended on commit

    async def levels_for_update(self, keys: list[LevelKey]) -> dict[LevelKey, InventoryLevel]:
        await _pause()
        t = self._t
        out = {}
        for key in sorted(set(keys)):
            level = t.levels.get(key)
            if level is None:
                t.require_sku(key[0])
                t.require_location(key[1])
                level = t.levels[key] = InventoryLevel(*key)
            out[key] = _copy_level(level)
        return out

    async def save_levels(self, levels: list[InventoryLevel]) -> None:
        """onHand and safety stock of levels that exist (reserved is only ever moved)."""
        await _pause()
        levels_now = self._t.levels
        written: dict[LevelKey, InventoryLevel] = {}
        for lv in levels:
            key = (lv.sku, lv.location)
            had = written.get(key) or levels_now.get(key)
            if had is None:
                continue
            new = InventoryLevel(lv.sku, lv.location, lv.on_hand, had.reserved, lv.safety_stock)
            _check_level(new)
            written[key] = new
        levels_now.update(written)

    async def reserve(self, wants: list[Want]) -> list[InventoryLevel] | None:
        """The reservation guard: every line checked and written with no await between."""
        await _pause()
        levels = self._t.levels
        written: dict[LevelKey, InventoryLevel] = {}
        out = []
        for sku, location, units in sorted(wants):
            key = (sku, location)
            level = written.get(key) or levels.get(key)
            if level is None or level.on_hand - level.reserved - level.safety_stock < units:
                return None
            new = InventoryLevel(sku, location, level.on_hand, level.reserved + units,
                                 level.safety_stock)
            _check_level(new)
            written[key] = new
            out.append(_copy_level(new))
        levels.update(written)
        return out

    async def move(self, changes: list[Change]) -> list[InventoryLevel] | None:
        await _pause()
        t = self._t
        written: dict[LevelKey, InventoryLevel] = {}
        for sku, location, on_hand, _ in changes:  # stock arriving creates its level
            if on_hand > 0 and (sku, location) not in t.levels:
                t.require_sku(sku)
                t.require_location(location)
                written[(sku, location)] = InventoryLevel(sku, location)
        out = []
        for sku, location, d_on, d_res in sorted(changes):
            key = (sku, location)
            level = written.get(key) or t.levels.get(key)
            if level is None:
                return None
            on_hand, reserved = level.on_hand + d_on, level.reserved + d_res
            if on_hand < 0 or reserved < 0 or on_hand - reserved - level.safety_stock < 0:
                return None
            new = InventoryLevel(sku, location, on_hand, reserved, level.safety_stock)
            written[key] = new
            out.append(_copy_level(new))
        t.levels.update(written)
        return out

    async def release(self, wants: list[Want]) -> list[InventoryLevel] | None:
        return await self.move([(sku, location, 0, -units) for sku, location, units in wants])

    async def append_ledger(self, entries: list[LedgerEntry]) -> None:
        await _pause()
        self._uow._live()
        self.ledger.extend(entries)

    async def add_incoming(self, incoming: Incoming) -> None:
        await _pause()
        t = self._t
        if incoming.id in t.incoming:
            raise ConstraintViolation(f"receipt {incoming.id} exists")
        t.require_sku(incoming.sku)
        t.require_location(incoming.location)
        receipt = replace(incoming, received_at=None, received_quantity=None)
        _check_incoming(receipt)
        t.incoming[incoming.id] = receipt

    async def allocate_incoming(self, incoming_id: str, units: int) -> bool:
        await _pause()
        t = self._t
        receipt = t.incoming.get(incoming_id)
        if (receipt is None or receipt.received_at is not None
                or receipt.quantity - receipt.allocated < units):
            return False
        new = replace(receipt, allocated=receipt.allocated + units)
        _check_incoming(new)
        t.incoming[incoming_id] = new
        return True

    async def incoming(self, incoming_id: str) -> Incoming | None:
        await _pause()
        return self._t.incoming.get(incoming_id)

    async def receive_incoming(self, incoming_id: str, quantity: int) -> bool:
        await _pause()
        t = self._t
        receipt = t.incoming.get(incoming_id)
        if receipt is None or receipt.received_at is not None:
            return False
        t.incoming[incoming_id] = replace(receipt, received_at=self._now,
                                          received_quantity=quantity)
        return True

    async def release_incoming(self, incoming_id: str, units: int) -> bool:
        """Give back promised units of an open receipt; a received one promises nothing any
        more (True); False when the receipt does not hold them."""
        await _pause()
        t = self._t
        receipt = t.incoming.get(incoming_id)
        if receipt is None:
            return False
        if receipt.received_at is not None:
            return True
        if receipt.allocated < units:
            return False
        new = replace(receipt, allocated=receipt.allocated - units)
        _check_incoming(new)
        t.incoming[incoming_id] = new
        return True


class FakeOrderRepository(_Repository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow)
        self._loaded: set[str] = set()

    async def next_number(self) -> str:
        await _pause()
        t = self._t
        t.order_counter += 1
        return f"PR-{t.order_counter:06d}"

    async def add(self, order: Order) -> None:
        await _pause()
        t = self._t
        if order.id in t.orders or order.number in t.order_by_number:
            raise ConstraintViolation(f"order {order.id} / {order.number} exists")
        promise = _promise_reference(order.delivery.promise_option_id)
        p = order.payment
        taken = {(o.order.payment.provider, o.order.payment.reference)
                 for o in t.orders.values() if o.order.payment is not None}
        if p is not None and (p.provider, p.reference) in taken:
            # as the unique constraint uq_payments_reference, and mapped as persistence does
            raise errors.PaymentAlreadyUsed(
                f"payment {p.reference} of {p.provider} already pays for another order",
                field=["payment", "reference"])
        self._write(order, {f.id: order.placed_at for f in order.fulfillments}, promise, None)

    async def get(self, *, number: str | None = None,
                  fulfillment_id: str | None = None) -> Order | None:
        await _pause()
        t = self._t
        order_id = (t.order_by_number.get(number) if number is not None
                    else t.order_by_fulfillment.get(fulfillment_id or ""))
        found = t.order(order_id)
        if found is not None:
            self._loaded.add(found.id)
        return found

    async def get_many(self, ids: list[str]) -> list[Order]:
        await _pause()
        found = self._t.orders_sorted(ids)
        self._loaded.update(o.id for o in found)
        return found

    async def save(self, order: Order) -> None:
        await _pause()
        if order.id not in self._loaded:
            raise KeyError(order.id)  # as SqlOrderRepository: save what this transaction got
        stored = self._t.orders[order.id]
        created = {f.id: stored.created.get(f.id, self._now) for f in order.fulfillments}
        self._write(order, created, stored.order.delivery.promise_option_id, stored)

    def _write(self, order: Order, created: dict[str, datetime], promise: str | None,
               before: _StoredOrder | None) -> None:
        t = self._t
        kept = copy.deepcopy(order)
        kept.events = []
        currency = kept.currency
        for line in kept.lines:
            line.unit_price = _money(line.unit_price.amount, currency)
        kept.subtotal, kept.shipping, kept.tax, kept.total = (
            _money(m.amount, currency) for m in (kept.subtotal, kept.shipping, kept.tax,
                                                 kept.total))
        kept.delivery = replace(kept.delivery, promise_option_id=promise)
        old_work = set() if before is None else set(before.created)
        old_lines = set() if before is None else {ln.id for ln in before.order.lines}
        for f in kept.fulfillments:
            if f.id not in old_work:
                if f.id in t.order_by_fulfillment:
                    raise ConstraintViolation(f"fulfillment {f.id} exists")
                t.require_location(f.location)
            scans = {(s.status, s.at) for s in f.tracking}
            if len(scans) != len(f.tracking):
                raise ConstraintViolation(f"fulfillment {f.id}: the same scan twice")
            f.tracking.sort(key=lambda s: s.at)
        for line in kept.lines:
            if line.id not in old_lines and line.id in t.order_by_line:
                raise ConstraintViolation(f"order line {line.id} exists")
        kept.fulfillments.sort(key=lambda f: (created[f.id], f.location, f.id))
        t.orders[kept.id] = _StoredOrder(kept, created)
        t.order_by_number[kept.number] = kept.id
        t.order_by_fulfillment.update((f.id, kept.id) for f in kept.fulfillments)
        t.order_by_line.update((ln.id, kept.id) for ln in kept.lines)

    async def waiting_backorders(self, sku: str, location: str, *, units: int
                                 ) -> list[tuple[str, str]]:
        await _pause()
        t = self._t
        candidates = []
        for stored in t.orders.values():
            o = stored.order
            for position, line in enumerate(o.lines):
                receipt = t.incoming.get(line.incoming_id or "")
                if (line.backordered > 0 and receipt is not None and receipt.sku == sku
                        and receipt.location == location):
                    candidates.append(((o.placed_at, len(o.number), o.number, position),
                                       o.id, line.id, line.backordered))
        candidates.sort(key=lambda c: c[0])
        waiting, total = [], 0
        for _, order_id, line_id, backordered in candidates:
            if total >= units:
                break
            waiting.append((order_id, line_id))
            total += backordered
        return waiting


class FakeIdempotencyRepository(_Repository):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        await _pause()
        keys = self._t.idempotency
        taken = keys.get(record.key)
        if taken is not None:
            return taken
        keys[record.key] = IdempotencyRecord(record.key, record.fingerprint, record.order_id)
        return None


class FakeSourcingRepository(_Repository):
    async def save_policy(self, policy: SourcingPolicy) -> SourcingPolicy:
        await _pause()
        t = self._t
        versions = t.policies.get(policy.channel, ())
        version = versions[-1].version + 1 if versions else 1
        body = json.loads(json.dumps(policies.to_dict(policy), sort_keys=True))
        stored = policies.from_dict(body, channel=policy.channel, version=version,
                                    created_at=policy.created_at or self._now,
                                    created_by=policy.created_by or "system")
        t.policies[policy.channel] = (*versions, stored)
        return policies.from_dict(body, channel=policy.channel, version=version,
                                  created_at=policy.created_at, created_by=policy.created_by)

    async def save_decision(self, *, order_id: str, kind: str, decision: Decision) -> str:
        await _pause()
        t = self._t
        t.require_order(order_id)
        decided = _Decided(str(uuid.uuid4()), kind, copy.deepcopy(decision))
        t.decisions[order_id] = (*t.decisions.get(order_id, ()), decided)
        return decided.id

    async def claim_capacity(self, location: str, day: str, capacity: int) -> bool:
        await _pause()
        if capacity < 1:
            return False
        t = self._t
        t.require_location(location)
        assigned = t.load.get((location, day))
        if assigned is not None and assigned >= capacity:
            return False
        t.load[(location, day)] = (assigned or 0) + 1
        return True

    async def add_downtime(self, window: Downtime, *, actor: str) -> None:
        await _pause()
        t = self._t
        if window.id in t.downtime:
            raise ConstraintViolation(f"downtime {window.id} exists")
        t.require_location(window.location)
        t.downtime[window.id] = window


class FakeReturnRepository(_Repository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow)
        self._loaded: set[str] = set()

    async def for_order(self, order_id: str) -> list[Return]:
        await _pause()
        found = self._t.returns_of(order_id)
        self._loaded.update(r.id for r in found)
        return found

    async def order_number_of(self, return_number: str) -> str | None:
        await _pause()
        t = self._t
        ret = t.returns.get(t.return_by_number.get(return_number, ""))
        stored = None if ret is None else t.orders.get(ret.order_id)
        return None if stored is None else stored.order.number

    async def add(self, ret: Return) -> None:
        await _pause()
        t = self._t
        if ret.id in t.returns or ret.number in t.return_by_number:
            raise ConstraintViolation(f"return {ret.id} / {ret.number} exists")
        t.require_order(ret.order_id)
        t.require_location(ret.receiving_location)
        for line in ret.lines:
            if t.order_by_line.get(line.order_line_id) is None:
                raise ConstraintViolation(f"no order line {line.order_line_id!r}")
        self._write(ret)
        self._loaded.add(ret.id)

    async def save(self, ret: Return) -> None:
        await _pause()
        if ret.id not in self._loaded:
            raise KeyError(ret.id)  # as SqlReturnRepository: save what this transaction read
        self._write(ret)

    def _write(self, ret: Return) -> None:
        t = self._t
        kept = copy.deepcopy(ret)
        currency = kept.refund_total.currency
        for line in kept.lines:
            line.refund = _money(line.refund.amount, currency)
        kept.fee = _money(kept.fee.amount, currency)
        kept.shipping_refund = _money(kept.shipping_refund.amount, currency)
        kept.refund_total = _money(kept.refund_total.amount, currency)
        kept.refunds = sorted((replace(f, amount=_money(f.amount.amount, f.amount.currency))
                               for f in kept.refunds), key=lambda f: (f.at, f.id))
        t.returns[kept.id] = kept
        t.return_by_number[kept.number] = kept.id


# --- the unit of work -------------------------------------------------------------------------

class FakeDocumentStore(_Repository):
    """Invoices and credit notes; a counter per series, as the SQL store keeps."""

    async def for_order(self, order_id: str) -> list[Issued]:
        return sorted((d for d in self._t.documents.values() if d.order_id == order_id),
                      key=lambda d: (d.document.issued_at, d.number))

    async def issue(self, draft: Draft) -> Issued:
        t = self._t
        if draft.source in t.documents:
            return t.documents[draft.source]
        key = draft.series.key
        t.counters[key] = t.counters.get(key, 0) + 1
        issued = Issued(id=str(uuid.uuid4()), kind=draft.kind, source=draft.source,
                        order_id=draft.order_id, document=draft.numbered(t.counters[key]),
                        fulfillment_ids=draft.fulfillment_ids,
                        order_line_ids=draft.order_line_ids)
        t.documents[draft.source] = issued
        return issued


class MemoryUnitOfWork:
    """`async with uow:` … `await uow.commit()`; leaving without commit keeps nothing."""

    def __init__(self, store: MemoryStore, clock: Clock, *,
                 on_commit: CommitHook | None = None) -> None:
        self.store, self.clock, self.on_commit = store, clock, on_commit
        self.now = clock.now()
        self._tables: _Tables | None = None
        self._entered = False
        self._events: list[events.Event] = []
        self._catalog = FakeCatalogRepository(self)
        self._inventory = FakeInventoryRepository(self)
        self._orders = FakeOrderRepository(self)
        self._idempotency = FakeIdempotencyRepository(self)
        self._sourcing = FakeSourcingRepository(self)
        self._returns = FakeReturnRepository(self)
        self._documents = FakeDocumentStore(self)
        self.committed = False

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("a unit of work is entered once")
        self._tables = await self.store._begin()
        self._entered = True
        self.now = self.clock.now()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._entered:
            self._tables = None  # what was not committed is dropped
            self._entered = False
            self.store._end()

    def _live(self) -> _Tables:
        if self._tables is None:
            raise RuntimeError("outside the transaction: use `async with`, and nothing after "
                               "commit")
        return self._tables

    @property
    def catalog(self) -> FakeCatalogRepository:
        self._live()
        return self._catalog

    @property
    def documents(self) -> FakeDocumentStore:
        self._live()
        return self._documents

    @property
    def inventory(self) -> FakeInventoryRepository:
        self._live()
        return self._inventory

    @property
    def orders(self) -> FakeOrderRepository:
        self._live()
        return self._orders

    @property
    def idempotency(self) -> FakeIdempotencyRepository:
        self._live()
        return self._idempotency

    @property
    def sourcing(self) -> FakeSourcingRepository:
        self._live()
        return self._sourcing

    @property
    def returns(self) -> FakeReturnRepository:
        self._live()
        return self._returns

    def emit(self, *new: events.Event) -> None:
        self._events.extend(new)

    async def commit(self) -> None:
        tables = self._live()
        await _pause()
        heads = self.store._commit(tables, self._inventory.ledger, self._events)
        self._tables = None
        self.committed = True
        if heads and self.on_commit is not None:
            try:
                self.on_commit(heads)
            except Exception:  # noqa: BLE001 - committed is committed (as SqlUnitOfWork)
                log.exception("commit hook failed for %s", sorted(heads))


# --- the reads --------------------------------------------------------------------------------

class MemoryReader:
    """The committed state, read without a lock; every object returned is a copy."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def _tables(self) -> _Tables:
        await _pause()
        return self._store._tables

    # --- for placing orders -------------------------------------------------------------------
    async def sourcing_snapshot(self, *, channel: str, skus: list[str],
                                now: datetime | None = None,
                                idempotency_key: str | None = None) -> SourcingSnapshot:
        t = await self._tables()
        if idempotency_key is not None:
            record = t.idempotency.get(idempotency_key)
            if record is not None:
                return SourcingSnapshot(channel=None, skus={}, locations={}, levels={},
                                        incoming={}, idempotency=record)
        parts = [c.sku for code in set(skus) if (kit := t.skus.get(code)) is not None
                 for c in kit.components]
        catalog = t.skus_of([*skus, *parts])
        locations = {code: loc for code, loc in sorted(t.locations.items())
                     if channel in loc.channels}
        stocked = {code for code, sku in catalog.items() if not sku.is_kit}
        levels = {key: _copy_level(lv) for key, lv in sorted(t.levels.items())
                  if key[0] in stocked and key[1] in locations}
        incoming: dict[str, list[Incoming]] = {}
        for r in sorted(t.incoming.values(), key=lambda r: (r.expected_at, r.id)):
            if r.sku in stocked and r.received_at is None and r.quantity > r.allocated:
                incoming.setdefault(r.sku, []).append(r)
        policy = t.current_policy(channel) or t.current_policy(ANY_CHANNEL) or BUILT_IN
        load: dict[str, int] = {}
        if now is not None:
            for code, loc in locations.items():
                day = now.astimezone(zone(loc.time_zone)).date().isoformat()
                if loc.daily_capacity is not None and (code, day) in t.load:
                    load[code] = t.load[(code, day)]
        return SourcingSnapshot(
            channel=t.channels.get(channel), skus=catalog, locations=locations, levels=levels,
            incoming=incoming, policy=policy, downtime=t.downtime_at(locations, now),
            load=load)

    async def idempotency(self, key: str) -> IdempotencyRecord | None:
        return (await self._tables()).idempotency.get(key)

    # --- catalog ------------------------------------------------------------------------------
    async def channels(self) -> list[Channel]:
        return [c for _, c in sorted((await self._tables()).channels.items())]

    async def channel(self, code: str) -> Channel | None:
        return (await self._tables()).channels.get(code)

    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]:
        return (await self._tables()).skus_of(codes)

    async def locations(self, codes: Iterable[str] | None = None) -> dict[str, Location]:
        return (await self._tables()).locations_of(codes)

    # --- inventory ----------------------------------------------------------------------------
    async def levels(self, keys: list[tuple[str, str]]) -> list[InventoryLevel]:
        levels = (await self._tables()).levels
        return [_copy_level(levels[k]) for k in sorted(set(keys)) if k in levels]

    # --- orders -------------------------------------------------------------------------------
    async def order_by_id(self, order_id: str) -> Order | None:
        return (await self._tables()).order(order_id)

    async def order_by_number(self, number: str) -> Order | None:
        t = await self._tables()
        return t.order(t.order_by_number.get(number))

    async def order_for_guest(self, number: str, email: str) -> Order | None:
        found = await self.order_by_number(number)
        return found if found is not None and found.customer.email == email else None

    async def order_by_fulfillment(self, fulfillment_id: str) -> Order | None:
        t = await self._tables()
        return t.order(t.order_by_fulfillment.get(fulfillment_id))

    async def orders_by_ids(self, ids: Iterable[str]) -> dict[str, Order]:
        return {o.id: o for o in (await self._tables()).orders_sorted(ids)}

    async def orders_by_number(self, numbers: Iterable[str]) -> dict[str, Order]:
        t = await self._tables()
        return {o.number: o for o in t.orders_sorted(
            t.order_by_number[n] for n in set(numbers) if n in t.order_by_number)}

    async def orders_by_fulfillment(self, fulfillment_ids: Iterable[str]) -> dict[str, Order]:
        t = await self._tables()
        wanted = set(fulfillment_ids)
        found = t.orders_sorted(t.order_by_fulfillment[f] for f in wanted
                                if f in t.order_by_fulfillment)
        return {f.id: o for o in found for f in o.fulfillments if f.id in wanted}

    async def fulfillments_at(self, location: str,
                              statuses: tuple[FulfillmentStatus, ...]) -> list[str]:
        """Ids of a location's fulfillments in these statuses, oldest first."""
        t = await self._tables()
        found = [(stored.created[f.id], f.id) for stored in t.orders.values()
                 for f in stored.order.fulfillments
                 if f.location == location and f.status in statuses]
        return [i for _, i in sorted(found)]

    async def unacknowledged_work(self, created_before: Mapping[str, datetime], *,
                                  limit: int) -> list[OfferedWork]:
        """ASSIGNED work made before its location's time, its order neither on hold nor
        released since then; oldest first."""
        t = await self._tables()
        found = []
        for stored in t.orders.values():
            o = stored.order
            if o.hold_reason is not None:
                continue
            for f in o.fulfillments:
                before = created_before.get(f.location)
                if (before is None or f.status is not FulfillmentStatus.ASSIGNED
                        or not stored.created[f.id] < before
                        or any(e.type == "ORDER_RELEASED" and e.at >= before
                               for e in o.timeline)):
                    continue
                found.append(OfferedWork(f.id, o.id, f.location, stored.created[f.id]))
        found.sort(key=lambda w: (w.created_at, w.fulfillment_id))
        return found[:max(limit, 0)]

    # --- sourcing -----------------------------------------------------------------------------
    async def downtime(self, location: str, *, now: datetime) -> list[Downtime]:
        return (await self._tables()).downtime_at([location], now).get(location, [])

    async def sourcing_policies(self, *, channel: str | None,
                                history: bool) -> list[SourcingPolicy]:
        t = await self._tables()
        channels = sorted(t.policies) if channel is None else [channel]
        out: list[SourcingPolicy] = []
        for code in channels:
            versions = t.policies.get(code, ())
            out.extend(reversed(versions) if history else versions[-1:])
        return out

    async def sourcing_decisions(self, number: str) -> list[RecordedDecision]:
        t = await self._tables()
        order_id = t.order_by_number.get(number)
        decided = t.decisions.get(order_id or "", ())
        return [RecordedDecision(d.id, number, d.kind, copy.deepcopy(d.decision))
                for d in reversed(decided)]

    # --- payments -----------------------------------------------------------------------------
    async def lapsed_authorizations(self, *, now: datetime, limit: int) -> list[str]:
        """Orders with work to hand over whose authorisation expired, not flagged, not held;
        the earliest expiry first."""
        t = await self._tables()
        found = []
        for stored in t.orders.values():
            o, p = stored.order, stored.order.payment
            if (p is None or p.expires_at is None or p.expires_at > now
                    or p.flagged_at is not None or o.hold_reason is not None
                    or o.status not in LAPSE_STATUSES):
                continue
            found.append((p.expires_at, o.id))
        return [i for _, i in sorted(found)[:max(limit, 0)]]

    # --- returns ------------------------------------------------------------------------------
    async def returns_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Return]]:
        t = await self._tables()
        return {i: found for i in sorted(set(order_ids)) if (found := t.returns_of(i))}

    async def completable_orders(self, delivered_before: Mapping[str, datetime], *,
                                 open_returns: Collection[ReturnStatus], limit: int
                                 ) -> list[str]:
        """DELIVERED orders whose last delivery is older than their channel's time, with no
        open return; the oldest last delivery first."""
        t = await self._tables()
        busy = {r.order_id for r in t.returns.values() if r.status in open_returns}
        found = []
        for stored in t.orders.values():
            o = stored.order
            before = delivered_before.get(o.channel)
            arrived = [f.delivered_at or o.placed_at for f in o.fulfillments
                       if f.status is FulfillmentStatus.DELIVERED]
            if (before is None or o.status is not OrderStatus.DELIVERED or not arrived
                    or o.id in busy or not max(arrived) < before):
                continue
            found.append((max(arrived), o.id))
        return [order_id for _, order_id in sorted(found)[:max(limit, 0)]]

    async def return_by_number(self, number: str) -> Return | None:
        t = await self._tables()
        ret = t.returns.get(t.return_by_number.get(number, ""))
        if ret is None:
            return None
        return next((r for r in t.returns_of(ret.order_id) if r.number == number), None)


class MemoryOutbox:
    """The read side of the outbox, as `persistence.outbox.SqlOutbox` (nothing is pruned)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    @staticmethod
    def _stored(entry: OutboxEntry) -> StoredEvent:
        e = entry.event
        return StoredEvent(entry.stream, entry.sequence, e.type, e.at, copy.deepcopy(e.payload))

    async def read(self, stream: str, *, after: int, upto: int | None = None,
                   limit: int) -> list[StoredEvent]:
        """Events of `stream` with after < sequence (≤ upto), in sequence order."""
        await _pause()
        entries = self._store._streams.get(stream, [])
        last = len(entries) if upto is None else min(upto, len(entries))
        return [self._stored(e) for e in entries[max(after, 0):last][:max(limit, 0)]]

    async def read_many(self, heads: Mapping[str, int], *, limit: int) -> list[StoredEvent]:
        """Events after each stream's head, ordered by (stream, sequence), at most `limit`."""
        out: list[StoredEvent] = []
        for stream, head in sorted(heads.items()):
            out.extend(await self.read(stream, after=head, limit=limit - len(out)))
        return out

    async def heads(self, streams: Iterable[str]) -> dict[str, int]:
        """The last committed sequence of each stream that has events."""
        await _pause()
        found = self._store._streams
        return {s: len(found[s]) for s in sorted(set(streams)) if found.get(s)}

    async def bounds(self, stream: str) -> tuple[int | None, int]:
        """(oldest sequence kept or None, last committed sequence or 0)."""
        head = (await self.heads([stream])).get(stream, 0)
        return (1 if head else None), head


def _conforms(store: MemoryStore, clock: Clock) -> None:
    """Never called: mypy checks that the fakes serve every port the SQL store serves."""
    uow: domain.ports.UnitOfWork = MemoryUnitOfWork(store, clock)
    reader: domain.ports.Reader = MemoryReader(store)
    factory: domain.ports.UnitOfWorkFactory = store.unit_of_work
    del uow, reader, factory
