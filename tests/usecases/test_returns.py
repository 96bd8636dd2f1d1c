"""Returns: what may come back and when, what comes back on hand, money given back once, and
an exchange's replacement reserved like any order."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.application import Application
from domain.documents import s10
from domain.documents.carriers import DemoCarrier
from domain.kernel import errors
from domain.kernel.money import Money
from domain.orders import LineStatus, Order, OrderStatus, OrderTag
from domain.returns.payments import RecordingPayments
from domain.returns.ports import PaymentReceipt
from domain.returns.services import ReturnView
from domain.returns.status import ReturnStatus
from domain.sourcing.ports import SourcingSnapshot
from tests.usecases.shop import (
    BOB,
    INTEGRATION,
    ST_EUR,
    TEE,
    TEE_L,
    WH_MIL,
    RacingReader,
    associate,
    deliver,
    held,
    order_of,
    oversold,
    racing,
    return_of,
    state,
)

pytestmark = pytest.mark.anyio
AFTER_DELIVERY = datetime(2030, 1, 5, 10, 0, tzinfo=UTC)
MILAN = associate(WH_MIL)


@pytest.fixture
async def delivered(shop_app, clock, ada) -> Order:
    """Two tees Ada received on 3 January; it is now the 5th."""
    placed = await shop_app.checkout.place_order(order_of("back-0001", (TEE, 2)), principal=ada)
    order = await deliver(shop_app, placed.number)
    assert order.status is OrderStatus.DELIVERED
    clock.current = AFTER_DELIVERY
    return order


async def returned_for_refund(app: Application, number: str, ada) -> ReturnView:
    """One tee sent back with a label and received at the warehouse, restocked."""
    asked = await app.returns.request(return_of(number, (TEE, 1)), principal=ada)
    await app.returns.mark_in_transit(asked.ret.number, principal=INTEGRATION)
    return await app.returns.receive(asked.ret.number, {asked.ret.lines[0].id: (1, 0)},
                                     principal=MILAN)


async def test_a_restocked_return_is_back_on_hand_and_refunded(shop_app, store, payments,
                                                               delivered, ada, agent):
    asked = await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)
    ret = asked.ret
    # under 150.00: approved without an agent; a shipped-back parcel goes to the warehouse
    assert (ret.status, ret.auto_approved, ret.receiving_location) == (
        ReturnStatus.APPROVED, True, WH_MIL)
    assert ret.refund_total == Money(Decimal("15.00"), "EUR")  # 19.90 less the 4.90 label
    await shop_app.returns.mark_in_transit(ret.number, principal=INTEGRATION)
    before = held(store.levels)[(TEE, WH_MIL)]

    received = await shop_app.returns.receive(ret.number, {ret.lines[0].id: (1, 0)},
                                              principal=MILAN)

    assert received.ret.status is ReturnStatus.RECEIVED
    assert received.order.status is OrderStatus.PARTIALLY_RETURNED
    assert held(store.levels)[(TEE, WH_MIL)] == (before[0] + 1, before[1])
    last = store.ledger[-1]
    assert (last.sku, last.location, last.on_hand_delta, last.reserved_delta, last.reason,
            last.reference) == (TEE, WH_MIL, 1, 0, "RETURN_RESTOCK", ret.number)

    refunded = await shop_app.returns.refund(ret.number, amount=None, principal=agent)

    assert refunded.ret.status is ReturnStatus.REFUNDED
    [paid] = refunded.ret.refunds
    [recorded] = payments.refunds
    assert (recorded.order_number, recorded.amount, recorded.receipt.reference) == (
        delivered.number, Money(Decimal("15.00"), "EUR"), paid.reference)
    stored = await store.reader.return_by_number(ret.number)
    assert stored is not None and stored.status is ReturnStatus.REFUNDED


async def test_a_written_off_unit_does_not_come_back_on_hand(shop_app, store, delivered, ada):
    asked = await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)
    levels, ledger = store.levels, store.ledger

    received = await shop_app.returns.receive(asked.ret.number, {asked.ret.lines[0].id: (0, 1)},
                                              principal=MILAN)

    assert (received.ret.lines[0].restocked, received.ret.lines[0].written_off) == (0, 1)
    assert received.order.lines[0].returned == 1
    assert store.levels == levels
    assert store.ledger == ledger  # no stock moved: nothing to write


async def test_a_refund_asked_twice_is_paid_once(shop_app, payments, delivered, ada, agent):
    ret = (await returned_for_refund(shop_app, delivered.number, ada)).ret
    await shop_app.returns.refund(ret.number, amount=None, principal=agent)

    with pytest.raises(errors.IllegalTransition):
        await shop_app.returns.refund(ret.number, amount=None, principal=agent)

    assert len(payments.refunds) == 1


async def test_two_refunds_racing_pay_once(shop_app, store, payments, delivered, ada, agent):
    ret = (await returned_for_refund(shop_app, delivered.number, ada)).ret

    outcomes = await asyncio.gather(*(
        shop_app.returns.refund(ret.number, amount=None, principal=agent) for _ in range(2)),
        return_exceptions=True)

    assert all(isinstance(o, ReturnView | errors.IllegalTransition) for o in outcomes), outcomes
    assert len(payments.refunds) == 1
    stored = await store.reader.return_by_number(ret.number)
    assert stored is not None and stored.status is ReturnStatus.REFUNDED
    assert [r.reference for r in stored.refunds] == [payments.refunds[0].receipt.reference]


@dataclasses.dataclass
class DroppedLine:
    """A provider that pays, but whose first answer never arrives."""

    inner: RecordingPayments
    keys: list[str] = dataclasses.field(default_factory=list)

    async def refund(self, *, order_number: str, amount: Money, idempotency_key: str,
                     store_credit: bool) -> PaymentReceipt:
        self.keys.append(idempotency_key)
        receipt = await self.inner.refund(order_number=order_number, amount=amount,
                                          idempotency_key=idempotency_key,
                                          store_credit=store_credit)
        if len(self.keys) == 1:
            raise ConnectionError("the provider's answer was lost")
        return receipt


async def test_a_refund_whose_answer_was_lost_is_resumed_not_paid_again(shop_app, store,
                                                                       payments, delivered,
                                                                       ada, agent):
    ret = (await returned_for_refund(shop_app, delivered.number, ada)).ret
    flaky = DroppedLine(payments)
    app = Application(dataclasses.replace(shop_app.ports, payments=flaky))

    with pytest.raises(ConnectionError):
        await app.returns.refund(ret.number, amount=None, principal=agent)
    pending = await store.reader.return_by_number(ret.number)
    assert pending is not None and pending.pending_refund is not None

    done = await app.returns.refund(ret.number, amount=None, principal=agent)

    assert done.ret.status is ReturnStatus.REFUNDED
    assert flaky.keys[0] == flaky.keys[1]  # asked again under the same key
    assert len(payments.refunds) == 1


async def test_a_return_after_the_window_is_refused(shop_app, store, clock, delivered, ada):
    # delivered on 3 January in Rome: 30 days, to the end of 2 February, Rome time
    clock.current = datetime(2030, 2, 2, 23, 0, tzinfo=UTC)
    before = state(store)

    with pytest.raises(errors.ReturnWindowClosed):
        await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)

    assert state(store) == before
    assert await store.reader.returns_by_order([delivered.id]) == {}
    clock.current -= timedelta(seconds=1)  # the window's last second
    asked = await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)
    assert asked.ret.status is ReturnStatus.APPROVED


async def test_no_more_comes_back_than_was_delivered(shop_app, store, delivered, ada):
    with pytest.raises(errors.QuantityExceedsReturnable):
        await shop_app.returns.request(return_of(delivered.number, (TEE, 3)), principal=ada)
    await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)
    before = state(store)

    with pytest.raises(errors.QuantityExceedsReturnable):  # one of two is in a return already
        await shop_app.returns.request(return_of(delivered.number, (TEE, 2)), principal=ada)

    assert state(store) == before
    assert len((await store.reader.returns_by_order([delivered.id]))[delivered.id]) == 1


async def test_an_order_not_yet_delivered_cannot_come_back(shop_app, store, ada):
    placed = await shop_app.checkout.place_order(order_of("back-0002", (TEE, 1)), principal=ada)

    with pytest.raises(errors.OrderNotDelivered):
        await shop_app.returns.request(return_of(placed.number, (TEE, 1)), principal=ada)
    with pytest.raises(errors.NotFound):  # nor is it anyone else's to return
        await shop_app.returns.request(return_of(placed.number, (TEE, 1)), principal=BOB)


# --- exchanges ----------------------------------------------------------------------------------

async def test_an_exchange_reserves_its_replacement_until_the_return_arrives(shop_app, store,
                                                                           delivered, ada):
    asked = await shop_app.returns.request(
        return_of(delivered.number, (TEE, 1), exchange_for=TEE_L), principal=ada)

    replacement = asked.replacement
    assert replacement is not None
    assert asked.ret.replacement_order_id == replacement.id
    assert asked.ret.refund_total == Money(Decimal("0.00"), "EUR")
    assert (replacement.status, replacement.tags, replacement.total.amount) == (
        OrderStatus.ON_HOLD, frozenset({OrderTag.REPLACEMENT}), Decimal("0.00"))
    assert [(ln.sku, ln.quantity, ln.status) for ln in replacement.lines] == [
        (TEE_L, 1, LineStatus.ALLOCATED)]
    assert [f.location for f in replacement.fulfillments] == [ST_EUR]
    assert held(store.levels)[(TEE_L, ST_EUR)] == (1, 1)
    assert [(e.reason, e.reference) for e in store.ledger[-1:]] == [
        ("ORDER_RESERVED", replacement.number)]

    received = await shop_app.returns.receive(asked.ret.number, {asked.ret.lines[0].id: (1, 0)},
                                              principal=MILAN)

    assert received.ret.status is ReturnStatus.EXCHANGED
    released = store.orders[replacement.number]
    assert (released.status, released.hold_reason) == (OrderStatus.ALLOCATED, None)


async def test_an_exchange_that_loses_its_race_reserves_elsewhere(shop_app, store, delivered,
                                                                  ada):
    rival: list[Order] = []

    async def bob_collects_the_last_l_at_st_eur(snapshot: SourcingSnapshot) -> SourcingSnapshot:
        if not rival:
            rival.append(await shop_app.checkout.place_order(
                order_of("rival-0004", (TEE_L, 1), email="bob@example.com", pickup=ST_EUR),
                principal=BOB))
        return snapshot

    reader = RacingReader(store.reader, bob_collects_the_last_l_at_st_eur)

    asked = await racing(shop_app, reader).returns.request(
        return_of(delivered.number, (TEE, 1), exchange_for=TEE_L), principal=ada)

    assert reader.snapshots == 2
    assert asked.replacement is not None
    assert [f.location for f in asked.replacement.fulfillments] == [WH_MIL]
    levels = held(store.levels)
    assert (levels[(TEE_L, ST_EUR)], levels[(TEE_L, WH_MIL)]) == ((1, 1), (4, 1))
    assert oversold(store) == []
    # the lost run left nothing behind: one return, one replacement
    assert [r.number for r in (await store.reader.returns_by_order([delivered.id]))[
        delivered.id]] == [asked.ret.number]
    assert sorted(store.orders) == sorted([delivered.number, rival[0].number,
                                           asked.replacement.number])


async def test_rejecting_an_exchange_frees_its_replacement_stock(shop_app, store, delivered,
                                                                ada, agent):
    asked = await shop_app.returns.request(
        return_of(delivered.number, (TEE, 1), exchange_for=TEE_L), principal=ada)
    assert asked.replacement is not None

    rejected = await shop_app.returns.reject(asked.ret.number, reason="NOT_OURS",
                                             principal=agent)

    assert rejected.ret.status is ReturnStatus.REJECTED
    assert store.orders[asked.replacement.number].status is OrderStatus.CANCELLED
    assert held(store.levels)[(TEE_L, ST_EUR)] == (1, 0)
    # a rejected return takes nothing: both tees may still come back
    again = await shop_app.returns.request(return_of(delivered.number, (TEE, 2)), principal=ada)
    assert again.ret.number.endswith("-R2")


async def test_a_store_receives_returns_only_at_its_own_location(shop_app, store, delivered,
                                                                 ada, roma):
    asked = await shop_app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)
    before = state(store)

    # another location's return is not found, as one that does not exist
    with pytest.raises(errors.NotFound) as refused:
        await shop_app.returns.receive(asked.ret.number, {asked.ret.lines[0].id: (1, 0)},
                                       principal=roma)
    assert refused.value.message == f"no return {asked.ret.number}"

    assert state(store) == before
    stored = await store.reader.return_by_number(asked.ret.number)
    assert stored is not None and stored.status is ReturnStatus.APPROVED


@dataclasses.dataclass
class NumberedCarrier:
    """A carrier adapter as a real one would sit behind the port: it records who asked."""

    code: str
    asked: list[tuple[str, int, bool]] = dataclasses.field(default_factory=list)

    def issue_tracking_number(self, reference: str, *, parcel: int = 1,
                              returning: bool = False) -> str:
        self.asked.append((reference, parcel, returning))
        return f"{self.code}-{reference}-{parcel}"

    def is_valid_tracking_number(self, number: str) -> bool:
        return number.startswith(f"{self.code}-")


@dataclasses.dataclass
class OneCarrier:
    carrier_: NumberedCarrier
    codes: list[str] = dataclasses.field(default_factory=list)

    def carrier(self, code: str) -> NumberedCarrier:
        self.codes.append(code)
        return self.carrier_


async def test_a_parcel_sent_back_gets_its_tracking_number_from_the_policys_carrier(
        shop_app, delivered, ada):
    carriers = OneCarrier(NumberedCarrier("XYZ"))
    app = Application(dataclasses.replace(shop_app.ports, carriers=carriers))

    asked = await app.returns.request(return_of(delivered.number, (TEE, 1)), principal=ada)

    assert carriers.codes == ["BRT"]  # the web channel's return policy ships with BRT
    assert carriers.carrier_.asked == [(asked.ret.number, 1, True)]
    assert (asked.ret.carrier, asked.ret.tracking_number) == (
        "BRT", f"XYZ-{asked.ret.number}-1")


async def test_the_demo_carrier_numbers_returns_with_valid_s10_identifiers(shop_app,
                                                                          delivered, ada):
    asked = await shop_app.returns.request(return_of(delivered.number, (TEE, 1)),
                                           principal=ada)

    number = asked.ret.tracking_number
    assert number is not None and s10.is_valid(number) and number.startswith("RT")
    assert number == DemoCarrier("BRT").issue_tracking_number(asked.ret.number,
                                                              returning=True)
