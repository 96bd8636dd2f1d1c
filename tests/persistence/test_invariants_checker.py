"""The invariant checker itself finds what it claims to find (a checker that cannot fail would
make every test that trusts it worthless)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from persistence.db import Database
from tests.api.lifecycle import fulfillment_ids, place, step
from tests.conftest import seed_contract_network
from tests.invariants import violations

pytestmark = pytest.mark.anyio


async def _tamper(db_url: str, sql: str) -> None:
    db = Database(db_url)
    try:
        async with db.writer.begin() as conn:
            await conn.execute(sa.text(sql))
    finally:
        await db.dispose()


@pytest.fixture
async def shipped(api, tokens, db_url):
    await seed_contract_network(api, tokens)
    number = (await place(api, "checker-00001"))["number"]
    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        await step(api, name, fid, tokens["store_roma"])
    await step(api, "shipFulfillment", fid, tokens["store_roma"], carrier="BRT",
               trackingNumber="T")
    assert await violations(db_url) == []
    return number


async def test_a_parcel_back_on_the_shelf_without_its_stock_is_found(shipped, db_url):
    await _tamper(db_url, "UPDATE fulfillments SET status = 'PACKED'")

    found = await violations(db_url)

    assert "reserved 0 at ('TSHIRT-BLU-M', 'ST-ROMA') but open fulfillments hold 2" in found
    assert ("0 units left ('TSHIRT-BLU-M', 'ST-ROMA') in parcels but the ledger took 2 off "
            "onHand") in found
    assert f"{shipped} is SHIPPED but its units say IN_FULFILLMENT" in found


async def test_a_sale_taking_only_onhand_and_a_wrong_status_are_found(shipped, db_url):
    await _tamper(db_url, "UPDATE inventory_ledger SET reserved_delta = 0 "
                          "WHERE reason = 'SHIPPED'")
    await _tamper(db_url, "UPDATE order_lines SET status = 'DELIVERED'")

    found = await violations(db_url)

    assert ("a sale that did not take onHand and reserved down together: "
            "('TSHIRT-BLU-M', 'ST-ROMA', 'SHIPPED')") in found
    assert f"{shipped} TSHIRT-BLU-M: line DELIVERED but its units say SHIPPED" in found


async def test_a_receipt_promising_more_than_waits_is_found(api, tokens, db_url):
    await seed_contract_network(api, tokens)
    await api.data("""mutation { expectIncoming(input: {sku: "LAMP-ARCO", location: "WH-MIL",
        quantity: 3, expectedAt: "2030-02-01T09:00:00+01:00"}) { userErrors { code } } }""",
                   token=tokens["integration"])
    await _tamper(db_url, "UPDATE incoming SET allocated = 2")

    found = await violations(db_url)

    assert len(found) == 1 and found[0].startswith("receipt promises 2 units but lines wait "
                                                   "for 0")


async def test_money_taken_beyond_the_hold_given_back_beyond_it_or_twice_is_found(
        api, tokens, db_url):
    from tests.payments.support import TWO_PARCELS, consumer, drain, hand_over, paid_order, seed

    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "checker-paid-1", reference="pi-checker",
                              lines=TWO_PARCELS)
    await hand_over(api, tokens, number, "ST-ROMA")
    assert await drain(payments) > 0
    assert await violations(db_url) == []  # one parcel's share captured, within the hold

    await _tamper(db_url, "UPDATE payments SET authorized_minor = 1")
    await _tamper(db_url, "INSERT INTO payment_transactions (id, order_id, position, kind, "
                          "status, amount_minor, key, at, fulfillment_id, final, attempts) "
                          "SELECT 'tampered', order_id, 99, 'CAPTURE', 'PENDING', 1, 'again', "
                          "at, fulfillment_id, false, 0 FROM payment_transactions "
                          "WHERE kind = 'CAPTURE'")
    await _tamper(db_url, "INSERT INTO payment_transactions (id, order_id, position, kind, "
                          "status, amount_minor, key, at, final, attempts) "
                          "SELECT 'refund', order_id, 100, 'REFUND', 'SUCCEEDED', 1000000, "
                          "'refund', at, false, 0 FROM payment_transactions "
                          "WHERE id = 'tampered'")

    found = await violations(db_url)

    [over] = [f for f in found if "authorized" in f]
    assert over.startswith(f"{number} claims captures of ") and over.endswith(" against 1 "
                                                                               "authorized")
    [back] = [f for f in found if "refunded" in f]
    assert back.startswith(f"{number} refunded 1000000 of ")
    [twice] = [f for f in found if "captures" in f and f.startswith("fulfillment ")]
    assert twice.endswith(" has 2 captures")
