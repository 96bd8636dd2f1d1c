"""A delivered order comes back through the API: refund with a label, exchange at a store,
partial quantities over several returns, the refund cap and the window's last moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.documents import carriers, s10
from tests.api.lifecycle import ledger, order, rows, step
from tests.api.returns import delivered_order, op, request, seed
from tests.api.test_place_order import STOCK_READER
from tests.documents import reading
from tests.invariants import violations

pytestmark = pytest.mark.anyio

SHIRT, MUG = "TSHIRT-BLU-M", "MUG-NAME"


def _by_sku(eligibility: dict) -> dict[str, dict]:
    return {x["sku"]: x for x in eligibility["lines"]}


async def _available(api, sku: str) -> dict[str, tuple[int, int]]:
    rows_ = (await api.data('query($s: [String!]!) { availability(skus: $s, channel: "web") '
                            '{ locations { location { code } onHand reserved } } }',
                            {"s": [sku]}, token=STOCK_READER))["availability"][0]["locations"]
    return {x["location"]["code"]: (x["onHand"], x["reserved"]) for x in rows_}


async def test_refund_exchange_partial_quantities_cap_and_window_through_the_api(
        api, tokens, db_url, clock):
    await seed(api, tokens)
    ada, agent = tokens["ada"], tokens["agent"]
    number = await delivered_order(api, tokens, "ret-flow-0001",
                                   [{"sku": SHIRT, "quantity": 3}, {"sku": MUG, "quantity": 1}],
                                   token=ada)
    clock.current = datetime(2030, 1, 5, 10, 0, tzinfo=UTC)

    # the customer, a guest with the email and an agent get the same answer
    asked = await op(api, "ReturnEligibility", {"orderNumber": number}, token=ada)
    assert asked == await op(api, "ReturnEligibility", {"orderNumber": number}, token=agent)
    assert asked == await op(api, "ReturnEligibility",
                             {"orderNumber": number, "email": "ADA@example.com"})
    assert await op(api, "ReturnEligibility", {"orderNumber": number}, token=tokens["bob"]) \
        is None
    assert await op(api, "ReturnEligibility",
                    {"orderNumber": number, "email": "bob@example.com"}) is None
    shirt, mug = _by_sku(asked)[SHIRT], _by_sku(asked)[MUG]
    # delivered on 3 January in Rome: 30 days, to the end of 2 February, in Rome time
    assert (shirt["delivered"], shirt["returnable"], shirt["returnableUntil"],
            shirt["reason"]) == (3, 3, "2030-02-03T00:00:00+01:00", None)
    assert (mug["returnable"], mug["reason"]) == (0, "NOT_RETURNABLE")
    assert asked["returnShippingPaidBy"] == "CUSTOMER"
    assert asked["returnShippingFee"] == {"amount": "4.90", "currency": "EUR"}

    refused = await op(api, "RequestReturn", request(number, [
        {"sku": MUG, "quantity": 1, "reason": "CHANGED_MIND"}]), token=ada)
    assert refused["return"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("NOT_RETURNABLE", ["lines", "0"])]
    too_many = await op(api, "RequestReturn", request(number, [
        {"lineId": shirt["lineId"], "quantity": 4, "reason": "TOO_SMALL"}]), token=ada)
    assert [e["code"] for e in too_many["userErrors"]] == ["QUANTITY_EXCEEDS_RETURNABLE"]

    # 1. one shirt back for a refund, shipped with a label: approved at once (under 150.00)
    first = await op(api, "RequestReturn", request(number, [
        {"lineId": shirt["lineId"], "quantity": 1, "reason": "TOO_SMALL"}]), token=ada)
    assert first["userErrors"] == []
    r1 = first["return"]
    assert (r1["number"], r1["status"], r1["autoApproved"]) == (f"{number}-R1", "APPROVED",
                                                                True)
    assert r1["receivingLocation"] == {"code": "WH-MIL"}  # ship back goes to the warehouse
    # 19.90 paid for the shirt (free shipping, VAT included) less the 4.90 label
    assert r1["refundAmount"] == {"amount": "15.00", "currency": "EUR"}
    assert r1["lines"][0]["refund"] == {"amount": "19.90", "currency": "EUR"}
    label = r1["label"]
    assert label["carrier"] == "BRT" and label["trackingNumber"].startswith("RT")
    # the demo carrier's S10 number, the same whenever this return's number asks for it
    assert s10.is_valid(label["trackingNumber"])
    assert label["trackingNumber"] == carriers.DemoCarrier("BRT").issue_tracking_number(
        r1["number"], returning=True)
    assert r1["dropOff"] is None
    assert first["order"] == {"number": number, "status": "DELIVERED"}
    await _label_only_for_its_customer(api, tokens, label, clock)

    assert (await op(api, "MarkReturnInTransit", {"input": {"returnNumber": r1["number"]}},
                     token=tokens["integration"]))["return"]["status"] == "IN_TRANSIT"
    before = (await _available(api, SHIRT))["WH-MIL"]
    elsewhere = await op(api, "ReceiveReturn", {"input": {"returnNumber": r1["number"], "lines": [
        {"sku": SHIRT, "condition": "RESTOCK"}]}}, token=tokens["store_roma"])
    # another store is answered as if the return did not exist
    assert [e["code"] for e in elsewhere["userErrors"]] == ["NOT_FOUND"]
    received = await op(api, "ReceiveReturn", {"input": {"returnNumber": r1["number"], "lines": [
        {"lineId": r1["lines"][0]["id"], "condition": "RESTOCK"}]}}, token=tokens["store_mil"])
    assert received["userErrors"] == []
    assert received["return"]["status"] == "RECEIVED"
    assert received["return"]["lines"][0]["restocked"] == 1
    assert received["order"] == {"number": number, "status": "PARTIALLY_RETURNED"}
    assert (await _available(api, SHIRT))["WH-MIL"] == (before[0] + 1, before[1])
    assert (await ledger(db_url, SHIRT, "WH-MIL"))[-1] == (1, 0, "RETURN_RESTOCK",
                                                           r1["number"])
    not_yours = await op(api, "RefundReturn", {"input": {"returnNumber": r1["number"]}},
                         token=ada)
    assert [e["code"] for e in not_yours["userErrors"]] == ["FORBIDDEN"]
    refunded = await op(api, "RefundReturn", {"input": {"returnNumber": r1["number"]}},
                        token=agent)
    assert refunded["userErrors"] == []
    [paid] = refunded["return"]["refunds"]
    assert paid["amount"] == {"amount": "15.00", "currency": "EUR"}
    assert paid["provider"] == "recording" and paid["reference"].startswith("RF-")
    assert paid["at"] == "2030-01-05T10:00:00+00:00"
    assert refunded["return"]["status"] == "REFUNDED"
    [recorded] = api.app.state.deps.payments.refunds
    assert (recorded.order_number, str(recorded.amount.amount), recorded.receipt.reference) == (
        number, "15.00", paid["reference"])
    again = await op(api, "RefundReturn", {"input": {"returnNumber": r1["number"]}}, token=agent)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]

    # 2. one shirt exchanged for size L, dropped at the nearest store
    stock_before = await _available(api, "TSHIRT-BLU-L")
    uneven = await op(api, "RequestReturn", request(number, [
        {"sku": SHIRT, "quantity": 1, "reason": "TOO_SMALL", "exchangeSku": "TSHIRT-RED-M"}],
        resolution="EXCHANGE", method="DROP_AT_STORE"), token=ada)
    assert [(e["code"], e["field"]) for e in uneven["userErrors"]] == [
        ("EXCHANGE_NOT_EVEN", ["lines", "0", "exchangeSku"])]
    second = await op(api, "RequestReturn", request(number, [
        {"sku": SHIRT, "quantity": 1, "reason": "TOO_SMALL", "exchangeSku": "TSHIRT-BLU-L"}],
        resolution="EXCHANGE", method="DROP_AT_STORE"), token=ada)
    assert second["userErrors"] == []
    r2 = second["return"]
    assert r2["status"] == "APPROVED" and r2["refundAmount"]["amount"] == "0.00"
    assert r2["dropOff"]["location"] == {"code": "ST-ROMA"} and len(r2["dropOff"]["code"]) == 8
    assert r2["label"] is None
    replacement = await order(api, r2["replacementOrderNumber"], agent)
    assert replacement["status"] == "ON_HOLD" and replacement["tags"] == ["REPLACEMENT"]
    assert replacement["lines"] == [{"sku": "TSHIRT-BLU-L", "quantity": 1,
                                     "status": "ALLOCATED", "backordered": 0, "cancelled": 0}]
    # reserved at once, at no charge
    after = await _available(api, "TSHIRT-BLU-L")
    assert after["WH-MIL"] == (stock_before["WH-MIL"][0], stock_before["WH-MIL"][1] + 1)
    total = await api.data('query($n: String!) { order(number: $n) { total { amount } } }',
                           {"n": r2["replacementOrderNumber"]}, token=agent)
    assert total["order"]["total"]["amount"] == "0.00"
    [held] = replacement["fulfillments"]
    blocked = await step(api, "acceptFulfillment", held["id"], tokens["store_mil"])
    assert [e["code"] for e in blocked["userErrors"]] == ["INVALID_TRANSITION"]

    shelf = (await _available(api, SHIRT))["ST-ROMA"]
    swapped = await op(api, "ReceiveReturn", {"input": {"returnNumber": r2["number"], "lines": [
        {"sku": SHIRT, "condition": "WRITE_OFF"}]}}, token=tokens["store_roma"])
    assert swapped["userErrors"] == []
    assert swapped["return"]["status"] == "EXCHANGED"
    assert swapped["return"]["lines"][0]["writtenOff"] == 1
    assert (await _available(api, SHIRT))["ST-ROMA"] == shelf  # written off: no stock
    assert (await order(api, r2["replacementOrderNumber"], agent))["status"] == "ALLOCATED"
    accepted = await step(api, "acceptFulfillment", held["id"], tokens["store_mil"])
    assert accepted["userErrors"] == []

    # 3. the third shirt, at the last moment of the window: then the cap
    clock.current = datetime(2030, 2, 2, 22, 59, 59, tzinfo=UTC)
    last = _by_sku(await op(api, "ReturnEligibility", {"orderNumber": number}, token=ada))
    assert (last[SHIRT]["returnable"], last[SHIRT]["inReturns"]) == (1, 2)
    third = await op(api, "RequestReturn", request(number, [
        {"sku": SHIRT, "quantity": 1, "reason": "DAMAGED"}]), token=agent)
    assert third["userErrors"] == []
    r3 = third["return"]
    assert r3["refundAmount"]["amount"] == "15.00"
    clock.current = datetime(2030, 2, 2, 23, 0, tzinfo=UTC)
    closed = await op(api, "RequestReturn", request(number, [
        {"sku": SHIRT, "quantity": 1, "reason": "DAMAGED"}]), token=ada)
    assert [e["code"] for e in closed["userErrors"]] == ["RETURN_WINDOW_CLOSED"]
    received = await op(api, "ReceiveReturn", {"input": {"returnNumber": r3["number"], "lines": [
        {"sku": SHIRT, "condition": "RESTOCK"}]}}, token=tokens["store_mil"])
    assert received["order"]["status"] == "PARTIALLY_RETURNED"  # the mug stays
    over = await op(api, "RefundReturn", {"input": {"returnNumber": r3["number"],
                                                    "amount": "56.71"}}, token=agent)
    assert [(e["code"], e["field"]) for e in over["userErrors"]] == [
        ("REFUND_EXCEEDS_PAID", ["amount"])]
    capped = await op(api, "RefundReturn", {"input": {"returnNumber": r3["number"],
                                                      "amount": "56.70"}}, token=agent)
    assert capped["userErrors"] == []  # 15.00 + 56.70 = 71.70, all the order paid

    listed = await op(api, "OrderReturns", {"number": number}, token=ada)
    assert [(r["number"], r["status"], r["requestedBy"]) for r in listed["returns"]] == [
        (r1["number"], "REFUNDED", None), (r2["number"], "EXCHANGED", None),
        (r3["number"], "REFUNDED", None)]
    staff = await op(api, "OrderReturns", {"number": number}, token=agent)
    assert [r["requestedBy"] for r in staff["returns"]] == [
        "customer:ada@example.com", "customer:ada@example.com", "agent:agent@example.com"]
    tracked = await op(api, "TrackOrderReturns", {"number": number, "email": "ada@example.com"})
    assert [r["status"] for r in tracked["returns"]] == ["REFUNDED", "EXCHANGED", "REFUNDED"]
    stream = [t for (t,) in await rows(db_url, "SELECT type FROM outbox WHERE stream = :s "
                                               "ORDER BY sequence", s=f"order:{number}")]
    assert [t for t in stream if t.startswith(("RETURN_", "REPLACEMENT_"))] == [
        "RETURN_REQUESTED", "RETURN_APPROVED", "RETURN_IN_TRANSIT", "RETURN_RECEIVED",
        "RETURN_REFUNDED", "RETURN_REQUESTED", "RETURN_APPROVED", "REPLACEMENT_RESERVED",
        "RETURN_RECEIVED", "RETURN_EXCHANGED", "RETURN_REQUESTED", "RETURN_APPROVED",
        "RETURN_RECEIVED", "RETURN_REFUNDED"]
    assert await violations(db_url) == []


async def _label_only_for_its_customer(api, tokens, label: dict, clock) -> None:
    url = urlsplit(label["url"])
    path = f"{url.path}?{url.query}"
    got = await api.client.get(path)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/pdf"
    body = got.content
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    page = reading.reader(body).pages[0]
    assert (round(float(page.mediabox.width) / reading.MM),
            round(float(page.mediabox.height) / reading.MM)) == (100, 150)
    text = " ".join(reading.text(body).split())
    assert label["trackingNumber"] in text and "RETURN" in text and "BRT" in text
    assert reading.decode_barcode(body) == label["trackingNumber"]
    mine = await api.client.get(path, headers={"authorization": f"Bearer {tokens['ada']}"})
    assert mine.status_code == 200
    for headers, target in (
            ({"authorization": f"Bearer {tokens['bob']}"}, path),
            ({}, path.replace("signature=", "signature=x")),
            ({}, path.replace("-R1/", "-R9/")),
            ({}, _other_expiry(path))):
        refused = await api.client.get(target, headers=headers)
        assert refused.status_code in (403, 404), target
        assert b"%PDF" not in refused.content
    saved = clock.current
    clock.current = datetime.fromisoformat(label["expiresAt"]) + timedelta(seconds=1)
    expired = await api.client.get(path)
    assert expired.status_code == 403 and b"%PDF" not in expired.content
    clock.current = saved


def _other_expiry(path: str) -> str:
    base, query = path.split("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params["expires"] = str(int(params["expires"]) + 3600)
    return f"{base}?expires={params['expires']}&signature={params['signature']}"
