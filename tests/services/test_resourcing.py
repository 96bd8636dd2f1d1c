"""Re-sourcing a fulfillment its location will not do, at the service level, on both engines:
one transaction releases the old reservation and reserves the next best plan, with ledger rows,
events and an explained decision; stock is conserved whatever happens.

`rejectFulfillment` calls this use case (see tests/api/test_reject_resourcing.py end to end).
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from domain.access import Principal, Role
from domain.kernel import errors
from domain.orders import FulfillmentStatus, LineStatus, OrderStatus
from domain.sourcing import Reason
from persistence.db import Database
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio

ROMA_STORE = Principal(Role.STORE, "roma@example.com", locations=frozenset({"ST-ROMA"}))
MILAN_WH = Principal(Role.STORE, "mil@example.com", locations=frozenset({"WH-MIL"}))


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    return api


async def place(api, key: str, lines: list[tuple[str, int]]) -> str:
    result = await api.data(PLACE, {"input": order_input(key, lines=[
        {"sku": s, "quantity": n} for s, n in lines])})
    assert result["placeOrder"]["userErrors"] == []
    return result["placeOrder"]["order"]["number"]


async def work_at(api, number: str, location: str) -> str:
    order = await api.app.state.deps.reader.order_by_number(number)
    return next(f.id for f in order.fulfillments if f.location == location
                and f.status is FulfillmentStatus.ASSIGNED)


async def resource(api, fulfillment_id: str, principal: Principal, reason="ITEM_NOT_FOUND"):
    return await api.app.state.deps.app.fulfillment.reject(fulfillment_id, reason=reason,
                                                           principal=principal)


async def stock(db_url: str) -> dict[tuple[str, str], tuple[int, int]]:
    db = Database(db_url)
    try:
        async with db.reader.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT sku, location, on_hand, reserved FROM inventory_levels"))).all()
    finally:
        await db.dispose()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


async def outbox_types(db_url: str, stream: str) -> list[str]:
    db = Database(db_url)
    try:
        async with db.reader.connect() as conn:
            return list((await conn.execute(sa.text(
                "SELECT type FROM outbox WHERE stream = :s ORDER BY sequence"), {"s": stream}))
                .scalars().all())
    finally:
        await db.dispose()


async def test_rejected_fulfillment_is_resourced_to_next_best_location(network, db_url):
    number = await place(network, "resource-001", [("TSHIRT-BLU-M", 2)])
    rejected = await work_at(network, number, "ST-ROMA")
    before = await stock(db_url)

    done = await resource(network, rejected, ROMA_STORE)

    assert done.rejected.status is FulfillmentStatus.REJECTED
    assert [(f.location, [(x.sku, x.quantity) for x in f.lines]) for f in done.created] == [
        ("WH-MIL", [("TSHIRT-BLU-M", 2)])]
    after = await stock(db_url)
    assert after[("TSHIRT-BLU-M", "ST-ROMA")] == (6, 0)
    assert after[("TSHIRT-BLU-M", "WH-MIL")] == (120, 2)
    # conserved: nothing appeared or vanished, the reservation only moved
    assert sum(on for on, _ in after.values()) == sum(on for on, _ in before.values())
    assert sum(r for _, r in after.values()) == sum(r for _, r in before.values())
    assert await violations(db_url) == []
    order = await network.app.state.deps.reader.order_by_number(number)
    assert sorted((f.location, f.status) for f in order.fulfillments) == [
        ("ST-ROMA", FulfillmentStatus.REJECTED), ("WH-MIL", FulfillmentStatus.ASSIGNED)]
    assert [t.type for t in order.timeline][-2:] == ["FULFILLMENT_REJECTED",
                                                      "ORDER_RESOURCED"]
    assert await outbox_types(db_url, f"order:{number}") == [
        "ORDER_PLACED", "FULFILLMENT_REJECTED", "ORDER_RESOURCED"]
    assert await outbox_types(db_url, "location:WH-MIL") == ["FULFILLMENT_CREATED"]
    latest, placement = await network.app.state.deps.reader.sourcing_decisions(number)
    assert (latest.kind, placement.kind) == ("RESOURCING", "PLACEMENT")
    verdicts = {v.location: v.reasons for v in latest.decision.candidates}
    assert verdicts == {"WH-MIL": (), "ST-ROMA": (Reason.EXCLUDED,)}


async def test_with_no_other_stock_the_units_are_released_and_an_agent_decides(network,
                                                                                db_url):
    number = await place(network, "resource-002", [("LAMP-ARCO", 1)])
    rejected = await work_at(network, number, "WH-MIL")

    done = await resource(network, rejected, MILAN_WH, reason="DAMAGED")

    assert done.created == []
    assert done.order.status is OrderStatus.ON_HOLD
    assert done.order.hold_reason == ("WH-MIL rejected: DAMAGED; no other location can supply "
                                      "1 × LAMP-ARCO")
    assert [(ln.status, ln.backordered) for ln in done.order.lines] == [
        (LineStatus.UNALLOCATED, 0)]
    assert (await stock(db_url))[("LAMP-ARCO", "WH-MIL")] == (1, 0)
    assert await violations(db_url) == []
    stored = await network.app.state.deps.reader.order_by_number(number)
    assert (stored.status, stored.hold_reason) == (OrderStatus.ON_HOLD, done.order.hold_reason)
    assert [t.type for t in stored.timeline][-2:] == ["FULFILLMENT_REJECTED", "ORDER_HELD"]


async def test_a_location_that_rejected_the_work_is_never_asked_again(network, db_url):
    number = await place(network, "resource-003", [("TSHIRT-BLU-M", 1)])
    await resource(network, await work_at(network, number, "ST-ROMA"), ROMA_STORE)

    done = await resource(network, await work_at(network, number, "WH-MIL"), MILAN_WH)

    # the Rome store still has stock, but it already said no to this order
    assert done.created == []
    assert done.order.status is OrderStatus.ON_HOLD
    assert done.order.lines[0].status is LineStatus.UNALLOCATED
    assert await violations(db_url) == []


async def test_a_kit_is_resourced_whole(network, tokens, db_url):
    await network.data("""mutation { upsertSkus(input: {skus: [{sku: "TEE-PAIR",
        name: "Two tees", productGroup: "apparel", components: [{sku: "TSHIRT-BLU-M",
        quantity: 2}], prices: [{amount: "35.00", currency: "EUR"}]}]}) { userErrors { code }
        } }""", token=tokens["admin"])
    number = await place(network, "resource-004", [("TEE-PAIR", 2)])

    done = await resource(network, await work_at(network, number, "ST-ROMA"), ROMA_STORE)

    assert [(f.location, [(x.sku, x.quantity) for x in f.lines]) for f in done.created] == [
        ("WH-MIL", [("TSHIRT-BLU-M", 4)])]
    assert done.decision.shipments[0].lines == ((0, "TEE-PAIR", 2),)
    assert await violations(db_url) == []


async def test_only_assigned_or_accepted_work_can_be_resourced(network, db_url):
    number = await place(network, "resource-005", [("TSHIRT-BLU-M", 1)])
    rejected = await work_at(network, number, "ST-ROMA")
    await resource(network, rejected, ROMA_STORE)
    before = await stock(db_url)

    with pytest.raises(errors.IllegalTransition) as refused:
        await resource(network, rejected, ROMA_STORE)

    assert refused.value.current == "REJECTED"
    assert refused.value.allowed == ()
    assert refused.value.code == "INVALID_TRANSITION"
    assert await stock(db_url) == before


async def test_a_store_associate_cannot_reject_another_location_s_work(network, db_url):
    number = await place(network, "resource-006", [("TSHIRT-BLU-M", 1)])
    before = await stock(db_url)

    with pytest.raises(errors.Forbidden):
        await resource(network, await work_at(network, number, "ST-ROMA"), MILAN_WH)
    with pytest.raises(errors.Forbidden):
        await resource(network, await work_at(network, number, "ST-ROMA"),
                       Principal(Role.CUSTOMER, "ada", "ada@example.com"))

    assert await stock(db_url) == before


async def test_an_unknown_fulfillment_is_not_found(network):
    with pytest.raises(errors.NotFound):
        await resource(network, "00000000-0000-0000-0000-000000000000",
                       Principal(Role.AGENT, "agent"))


async def test_two_concurrent_rejections_of_one_fulfillment_move_it_once(network, db_url):
    number = await place(network, "resource-007", [("TSHIRT-BLU-M", 2)])
    rejected = await work_at(network, number, "ST-ROMA")

    outcomes = await asyncio.gather(*(resource(network, rejected, ROMA_STORE)
                                      for _ in range(4)), return_exceptions=True)

    done = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, errors.IllegalTransition)]
    assert (len(done), len(refused)) == (1, 3), outcomes
    assert (await stock(db_url))[("TSHIRT-BLU-M", "WH-MIL")] == (120, 2)
    assert await violations(db_url) == []


async def test_two_locations_rejecting_one_order_at_once_are_queued_not_lost(network, db_url):
    # given 119 T-shirts: 6 from the Rome store, 113 from Milan
    number = await place(network, "resource-008", [("TSHIRT-BLU-M", 119)])
    rome, milan = (await work_at(network, number, "ST-ROMA"),
                   await work_at(network, number, "WH-MIL"))

    await asyncio.gather(resource(network, rome, ROMA_STORE),
                         resource(network, milan, MILAN_WH))

    order = await network.app.state.deps.reader.order_by_number(number)
    open_units = sum(fl.quantity for f in order.fulfillments
                     if f.status is FulfillmentStatus.ASSIGNED for fl in f.lines)
    # whatever found no new home waits, unallocated, on the held order
    unallocated = 119 - open_units - order.lines[0].backordered
    assert unallocated == 0 or order.status is OrderStatus.ON_HOLD
    decisions = await network.app.state.deps.reader.sourcing_decisions(number)
    assert [d.kind for d in decisions] == ["RESOURCING", "RESOURCING", "PLACEMENT"]
    assert await violations(db_url) == []
