"""Payments through the API with the built-in `test` provider, on both engines: authorised at
checkout, captured parcel by parcel by the `payments` consumer, voided when nothing ships,
refunded when goods come back — to the cent, each movement once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from strawberry import relay

from tests.api.lifecycle import desk, place, rows
from tests.api.returns import op, request
from tests.conftest import Api
from tests.invariants import violations
from tests.payments.support import (
    TWO_PARCELS,
    consumer,
    drain,
    hand_over,
    paid_order,
    payment_of,
    provider,
    run,
    seed,
)

pytestmark = pytest.mark.anyio
PLACE_PAID = "PlaceOrderPaid"
ZURICH = {"method": "SHIP", "serviceLevel": "STANDARD", "address": {
    "line1": "Bahnhofstrasse 1", "city": "Zürich", "postalCode": "8001", "country": "CH",
    "latitude": 47.37, "longitude": 8.54}}


def amount(money: dict) -> Decimal:
    return Decimal(money["amount"])


async def test_a_two_parcel_order_is_captured_parcel_by_parcel_to_the_cent(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "pay-two-0001", reference="pi_two", lines=TWO_PARCELS)
    paid = await payment_of(api, number, tokens["agent"])
    # 12.00 + 24.90 + 4.90 shipping, VAT included (IT)
    assert (paid["status"], amount(paid["authorized"]), paid["reference"]) == (
        "AUTHORIZED", Decimal("41.80"), "pi_two")

    roma = await hand_over(api, tokens, number, "ST-ROMA")
    assert await drain(payments) >= 1
    paid = await payment_of(api, number, tokens["agent"])
    # the first parcel: the mug with its tax, and the shipping
    assert (paid["status"], amount(paid["captured"])) == ("PARTIALLY_CAPTURED",
                                                          Decimal("16.90"))

    milano = await hand_over(api, tokens, number, "WH-MIL")
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["captured"])) == ("CAPTURED", Decimal("41.80"))
    captures = [t for t in paid["transactions"] if t["kind"] == "CAPTURE"]
    assert [(amount(t["amount"]), t["status"]) for t in captures] == [
        (Decimal("16.90"), "SUCCEEDED"), (Decimal("24.90"), "SUCCEEDED")]
    # each capture names its parcel as the rest of the API does (`Fulfillment.id`)
    assert [t["fulfillmentId"] for t in captures] == [roma, milano]
    moved = [c for c in provider(api).moved.values() if c.kind == "capture"]
    assert [(c.amount.amount if c.amount else None, c.final) for c in moved] == [
        (Decimal("16.90"), False), (Decimal("24.90"), True)]
    assert [c.key for c in moved] == [
        f"capture:{relay.GlobalID.from_id(fid).node_id}" for fid in (roma, milano)]
    assert await drain(payments) == 0  # nothing more is due
    assert await violations(db_url) == []


async def _to_zurich(api: Api, tokens: dict[str, str], key: str, *, reference: str,
                     amount: str | None = None) -> str:
    """The two parcels to Zürich, VAT added to the prices: 2.6 % on the mug (reduced), 8.1 %
    on the T-shirt and on the shipping (the goods' highest rate): 41.80 + 0.31 + 2.41 = 44.52."""
    reduced = await api.data("""mutation { upsertSkus(input: {skus: [{sku: "MUG-NAME",
        name: "Mug with your name", productGroup: "personalised", weightGrams: 300,
        taxClass: REDUCED, prices: [{amount: "12.00", currency: "EUR"}]}]}) {
        userErrors { code } } }""", token=tokens["admin"])
    assert reduced["upsertSkus"]["userErrors"] == []
    return str((await place(api, key, token=tokens["ada"], lines=TWO_PARCELS, delivery=ZURICH,
                            payment={"provider": "test", "reference": reference,
                                     "amount": amount}))["number"])


async def test_where_tax_is_added_each_parcel_is_captured_with_its_own_lines_tax(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await _to_zurich(api, tokens, "pay-chf-00001", reference="pi_zurich")
    assert (await payment_of(api, number, tokens["agent"]))["authorized"]["amount"] == "44.52"
    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    # the mug at 2.6 % and the shipping at 8.1 %: 12.312 + 5.2969 = 17.61 (not the order's
    # blended 6.5 % on both, 18.00)
    assert (paid["status"], amount(paid["captured"])) == ("PARTIALLY_CAPTURED",
                                                          Decimal("17.61"))
    await hand_over(api, tokens, number, "WH-MIL")
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    # the rest: 24.90 at 8.1 % is 26.9169; the cent its rounding leaves goes with the last
    assert (paid["status"], amount(paid["captured"])) == ("CAPTURED", Decimal("44.52"))
    assert [amount(t["amount"]) for t in paid["transactions"] if t["kind"] == "CAPTURE"] == [
        Decimal("17.61"), Decimal("26.91")]
    docs = await api.data("""query($n: String!) { order(number: $n) { documents { kind
        total { amount } } } }""", {"n": number}, token=tokens["agent"])
    assert [d["total"]["amount"] for d in docs["order"]["documents"]
            if d["kind"] == "INVOICE"] == ["17.61", "26.91"]
    # and each invoice states its lines at their own rates: the mug 12.31 at 2.6 %, the
    # shipping 5.30 at 8.1 % (not the capture spread over their pre-tax values, 12.50 + 5.11)
    [(order_id,)] = await rows(db_url, "SELECT id FROM orders WHERE number = :n", n=number)
    issued = (await api.app.state.deps.reader.documents_by_order([order_id]))[order_id]
    assert sorted([(ln.sku, ln.total, ln.vat_rate) for ln in i.document.lines]
                  for i in issued) == [
        [("MUG-NAME", Decimal("12.31"), Decimal("0.026")),
         ("SHIPPING", Decimal("5.30"), Decimal("0.081"))],
        [("TSHIRT-RED-M", Decimal("26.91"), Decimal("0.081"))]]
    assert await violations(db_url) == []


async def test_where_tax_is_added_a_returned_line_gets_back_what_it_was_charged(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    """The T-shirt comes back from Zürich: 24.90 with its 8.1 %, 26.92 (not the order's
    blended 6.5 %, 26.52); the mug's parcel keeps its own."""
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await _to_zurich(api, tokens, "pay-chf-00004", reference="pi_zurich_ret")
    for location in ("ST-ROMA", "WH-MIL"):
        await hand_over(api, tokens, number, location, deliver=True)
    await drain(payments)
    asked = await op(api, "RequestReturn", request(number, [
        {"sku": "TSHIRT-RED-M", "quantity": 1, "reason": "TOO_SMALL"}]), token=tokens["ada"])
    assert asked["userErrors"] == [], asked
    assert [ln["refund"]["amount"] for ln in asked["return"]["lines"]] == ["26.92"]
    assert await violations(db_url) == []


async def test_where_tax_is_added_what_is_left_after_a_cancelled_line_is_charged_as_placed(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    """The mug and the shipping left: 16.90 and each rate's tax rounded once, 0.31 + 0.40,
    17.61, what the mug's parcel costs whether the T-shirt is cancelled before or after (not
    44.52 less the T-shirt's 26.92, 17.60)."""
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await _to_zurich(api, tokens, "pay-chf-00002", reference="pi_zurich_cut")
    cut = await desk(api, "cancelOrder", tokens["agent"], number=number, reason="OUT_OF_STOCK",
                     skus=["TSHIRT-RED-M"])
    assert cut["userErrors"] == []
    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["captured"])) == ("CAPTURED", Decimal("17.61"))
    assert await violations(db_url) == []


async def test_the_last_parcel_takes_what_is_left_while_an_earlier_capture_is_refused(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    """The mug's capture (17.61) is refused, the T-shirt's parcel goes: it takes what is left
    of the total, 26.91 (its own share rounds to 26.92), and once the mug's goes through the
    captures add up to the total to the cent; the rest of the 50.00 held is released."""
    await seed(api, tokens)
    payments = consumer(api, retries=1)
    await payments.take_in()
    number = await _to_zurich(api, tokens, "pay-chf-00003", reference="pi_capturefail_chf",
                              amount="50.00")
    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)  # refused, then parked
    provider(api).heal("pi_capturefail_chf")
    await hand_over(api, tokens, number, "WH-MIL")
    await drain(payments)  # the T-shirt's parcel, then the mug's again
    paid = await payment_of(api, number, tokens["agent"])
    captures = sorted(amount(t["amount"]) for t in paid["transactions"]
                      if t["kind"] == "CAPTURE" and t["status"] == "SUCCEEDED")
    assert (paid["status"], captures, amount(paid["captured"])) == (
        "CAPTURED", [Decimal("17.61"), Decimal("26.91")], Decimal("44.52"))
    assert amount(paid["voided"]) == Decimal("5.48")
    assert await violations(db_url) == []


async def test_cancelling_before_shipment_voids_the_authorisation(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "pay-void-0001", reference="pi_void", lines=TWO_PARCELS)
    cancelled = await desk(api, "cancelOrder", tokens["agent"], number=number,
                           reason="CUSTOMER_REQUEST")
    assert cancelled["userErrors"] == []
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["voided"]), amount(paid["captured"])) == (
        "VOIDED", Decimal("41.80"), Decimal("0.00"))
    assert [c.key for c in provider(api).moved.values()] == [f"void:{await _id(api, number)}"]
    assert await violations(db_url) == []


async def test_a_cancelled_line_is_not_captured_and_the_rest_is_released_with_the_last_parcel(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "pay-line-0001", reference="pi_line", lines=TWO_PARCELS)
    cut = await desk(api, "cancelOrder", tokens["agent"], number=number, reason="OUT_OF_STOCK",
                     skus=["MUG-NAME"])
    assert cut["userErrors"] == []
    await hand_over(api, tokens, number, "WH-MIL")
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    # the T-shirt and the shipping; the mug's 12.00 of the authorisation is released
    assert (paid["status"], amount(paid["captured"])) == ("CAPTURED", Decimal("29.80"))
    [capture] = [c for c in provider(api).moved.values() if c.kind == "capture"]
    assert capture.final and capture.amount is not None
    assert capture.amount.amount == Decimal("29.80")


async def test_a_returned_unit_is_refunded_through_the_provider_never_beyond_the_capture(
        api: Api, tokens: dict[str, str], clock, db_url: str) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "pay-ret-00001", reference="pi_ret",
                              lines=[{"sku": "TSHIRT-RED-M", "quantity": 2}],
                              token=tokens["ada"])
    await hand_over(api, tokens, number, "WH-MIL", deliver=True)
    await drain(payments)
    assert (await payment_of(api, number, tokens["agent"]))["status"] == "CAPTURED"

    ret = await _returned(api, tokens, number, "TSHIRT-RED-M")
    too_much = await op(api, "RefundReturn", {"input": {"returnNumber": ret,
                                                        "amount": "100.00"}},
                        token=tokens["agent"])
    assert [e["code"] for e in too_much["userErrors"]] == ["REFUND_EXCEEDS_PAID"]
    refunded = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                        token=tokens["agent"])
    assert refunded["userErrors"] == [], refunded
    paid = await payment_of(api, number, tokens["agent"])
    assert paid["status"] == "PARTIALLY_REFUNDED"
    assert Decimal("0") < amount(paid["refunded"]) <= amount(paid["captured"])
    [back] = [c for c in provider(api).moved.values() if c.kind == "refund"]
    assert back.amount is not None and back.amount.amount == amount(paid["refunded"])
    assert back.reference == "pi_ret" and back.key is not None and back.key.startswith(
        "refund:")
    assert await violations(db_url) == []


async def test_refunds_never_pass_what_was_captured_less_what_was_refunded(
        api: Api, tokens: dict[str, str], db_url: str) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    # two T-shirts from Milano and a mug from Roma: 49.80 + 12.00 (shipped free) = 61.80
    number = await paid_order(api, "pay-cap-00001", reference="pi_cap", lines=[
        {"sku": "TSHIRT-RED-M", "quantity": 2}, {"sku": "MUG-NAME", "quantity": 1}],
        token=tokens["ada"])
    await hand_over(api, tokens, number, "WH-MIL", deliver=True)
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["captured"])) == ("PARTIALLY_CAPTURED",
                                                          Decimal("49.80"))

    async def refund(ret: str, money: str) -> list[str]:
        done = await op(api, "RefundReturn", {"input": {"returnNumber": ret, "amount": money}},
                        token=tokens["agent"])
        return [e["code"] for e in done["userErrors"]]

    first = await _returned(api, tokens, number, "TSHIRT-RED-M")
    assert await refund(first, "40.00") == []
    second = await _returned(api, tokens, number, "TSHIRT-RED-M")
    # 60.00 in all is less than the order costs (61.80), but more than was taken (49.80)
    assert await refund(second, "20.00") == ["REFUND_EXCEEDS_PAID"]
    assert await refund(second, "9.81") == ["REFUND_EXCEEDS_PAID"]
    assert await refund(second, "9.80") == []
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["refunded"]), amount(paid["captured"])) == (
        "REFUNDED", Decimal("49.80"), Decimal("49.80"))
    back = [c for c in provider(api).moved.values() if c.kind == "refund"]
    assert [(c.reference, c.amount.amount if c.amount else None) for c in back] == [
        ("pi_cap", Decimal("40.00")), ("pi_cap", Decimal("9.80"))]

    # the mug leaves later: taken, and not refunded
    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["refunded"]), amount(paid["captured"])) == (
        "PARTIALLY_REFUNDED", Decimal("49.80"), Decimal("61.80"))
    assert await violations(db_url) == []


async def test_cash_on_delivery_is_captured_when_delivered_and_not_refunded_before(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "pay-cod-00001", reference="COD-0001", provider_name="offline",
                              lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1}],
                              token=tokens["ada"])
    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)
    assert (await payment_of(api, number, tokens["agent"]))["status"] == "AUTHORIZED"

    await _deliver(api, tokens, number)
    ret = await _returned(api, tokens, number, "TSHIRT-BLU-M")
    # delivered, but the courier's cash is not recorded yet: nothing to give back
    early = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                     token=tokens["agent"])
    assert [e["code"] for e in early["userErrors"]] == ["NOTHING_CAPTURED"]
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["captured"])) == ("CAPTURED", Decimal("24.80"))
    late = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                    token=tokens["agent"])
    assert late["userErrors"] == []
    assert provider(api).moved == {}  # no provider was asked for cash


async def test_paying_at_the_counter_is_captured_when_the_pickup_is_confirmed(
        api: Api, tokens: dict[str, str]) -> None:
    from tests.api.lifecycle import fulfillment_ids, step

    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = (await place(api, "pay-ctr-00001", token=tokens["ada"],
                          lines=[{"sku": "MUG-NAME", "quantity": 1}],
                          delivery={"method": "PICKUP", "pickupLocation": "ST-ROMA"},
                          payment={"provider": "offline", "reference": "COUNTER-1"}))["number"]
    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment",
                 "markReadyForPickup"):
        assert (await step(api, name, fid, tokens["store_roma"]))["userErrors"] == [], name
    await drain(payments)
    # on the counter shelf, not collected: nothing is taken yet
    paid = await payment_of(api, number, tokens["agent"])
    assert (paid["status"], amount(paid["captured"])) == ("AUTHORIZED", Decimal("0.00"))

    collected = await step(api, "confirmPickup", fid, tokens["store_roma"])
    assert collected["userErrors"] == [], collected
    await drain(payments)
    paid = await payment_of(api, number, tokens["agent"])
    # the mug, 12.00 VAT included; no shipping charge for a pickup
    assert (paid["status"], amount(paid["captured"])) == ("CAPTURED", Decimal("12.00"))
    assert [(t["kind"], amount(t["amount"]), t["fulfillmentId"]) for t in paid["transactions"]
            if t["kind"] == "CAPTURE"] == [("CAPTURE", Decimal("12.00"), fid)]
    assert provider(api).calls == []  # no provider was asked for cash


async def _deliver(api: Api, tokens: dict[str, str], number: str) -> str:
    from tests.api.lifecycle import fulfillment_ids, step

    fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    at = api.app.state.deps.clock.now().isoformat()
    done = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                      status="DELIVERED", at=at)
    assert done["userErrors"] == [], done
    return fid


async def _returned(api: Api, tokens: dict[str, str], number: str, sku: str) -> str:
    """One unit of `sku` asked back by the customer and received at the Roma store."""
    asked = await op(api, "RequestReturn", request(number, [
        {"sku": sku, "quantity": 1, "reason": "TOO_SMALL"}], method="DROP_AT_STORE"),
        token=tokens["ada"])
    assert asked["userErrors"] == [], asked
    ret = str(asked["return"]["number"])
    received = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret, "lines": [
        {"sku": sku, "condition": "RESTOCK"}]}}, token=tokens["store_roma"])
    assert received["userErrors"] == [], received
    return ret


async def _id(api: Api, number: str) -> str:
    order = await api.app.state.deps.reader.order_by_number(number)
    return str(order.id)


async def test_refusals_at_checkout_change_nothing(api: Api, tokens: dict[str, str],
                                                   db_url: str) -> None:
    from tests.api.test_authorization_matrix import fingerprint

    await seed(api, tokens)
    lines = [{"sku": "MUG-NAME", "quantity": 1}]

    async def refused(key: str, payment: dict | None, **kw: object) -> list[str]:
        from tests.api.test_place_order import PLACE, order_input

        before = await fingerprint(api.app.state.db)
        result = await api.data(PLACE, {"input": order_input(key, lines=lines, payment=payment,
                                                              **kw)})
        assert result["placeOrder"]["order"] is None
        # no row of any table: no order, no stock held, no idempotency key taken, no event
        assert await fingerprint(api.app.state.db) == before
        return [e["code"] for e in result["placeOrder"]["userErrors"]]

    assert await refused("pay-no-000001", {"provider": "test",
                                           "reference": "pi_decline_1"}) == ["PAYMENT_DECLINED"]
    assert await refused("pay-no-000002", {"provider": "test", "reference": "pi_low",
                                           "amount": "1.00"}) == ["PAYMENT_AMOUNT_TOO_LOW"]
    assert await refused("pay-no-000003", {"provider": "nope",
                                           "reference": "x"}) == ["INVALID_INPUT"]
    provider(api).down = True
    assert await refused("pay-no-000004", {"provider": "test", "reference": "pi_down"}) == [
        "PAYMENT_PROVIDER_UNAVAILABLE"]
    provider(api).down = False
    await paid_order(api, "pay-no-000005", reference="pi_once", lines=lines)
    assert await refused("pay-no-000006", {"provider": "test",
                                           "reference": "pi_once"}) == ["PAYMENT_ALREADY_USED"]
    # the same key again is the same order, not a second use of the payment
    again = await place(api, "pay-no-000005", lines=lines,
                        payment={"provider": "test", "reference": "pi_once"})
    assert again["number"]

    changed = await api.data("""mutation { updateChannel(input: {code: "web",
        paymentRequired: true}) { channel { code paymentRequired } userErrors { code } } }""",
                             token=tokens["admin"])
    assert changed["updateChannel"]["channel"] == {"code": "web", "paymentRequired": True}
    assert await refused("pay-no-000007", None) == ["PAYMENT_REQUIRED"]
    cod = await paid_order(api, "pay-no-000008", reference="COD-8", provider_name="offline",
                           lines=lines)
    assert (await payment_of(api, cod, tokens["agent"]))["provider"] == "offline"
    # a refused key is still free: the customer pays with another card, under the same key
    other = await paid_order(api, "pay-no-000001", reference="pi_other_card", lines=lines)
    assert (await payment_of(api, other, tokens["agent"]))["reference"] == "pi_other_card"
    orders = await api.data("""{ orders(first: 50) { edges { node { number } } } }""",
                            token=tokens["agent"])
    assert len(orders["orders"]["edges"]) == 3  # pi_once, COD-8 and pi_other_card
    assert await violations(db_url) == []


def test_the_snapshot_equals_the_shared_document() -> None:
    import json

    from tests.payments.support import DOCUMENTS, EXAMPLES, HERE

    shared = HERE.parent.parent.parent / "shared" / "contract-next"
    if not shared.is_dir():
        pytest.skip("../shared/contract-next is not beside this checkout")
    assert (HERE / "payments.graphql").read_text() == (shared / "payments.graphql").read_text()
    theirs = json.loads((shared / "examples.json").read_text())
    assert EXAMPLES == {k: theirs[k] for k in EXAMPLES} and set(EXAMPLES) == set(DOCUMENTS)


async def test_the_contract_payment_documents_run_unchanged(api: Api,
                                                            tokens: dict[str, str]) -> None:
    from tests.payments.support import EXAMPLES

    await seed(api, tokens)
    placed = await run(api, PLACE_PAID, EXAMPLES[PLACE_PAID], tokens["admin"])
    assert placed["userErrors"] == [], placed
    order = placed["order"]
    assert (order["payment"]["status"], order["payment"]["provider"]) == ("AUTHORIZED", "test")
    assert order["payment"]["authorized"] == order["total"]
    number = order["number"]
    assert number == EXAMPLES["OrderPayment"]["number"]
    seen = await run(api, "OrderPayment", EXAMPLES["OrderPayment"], tokens["agent"])
    assert seen["payment"]["reference"] == "pi_test_0001"
    problems = await run(api, "CustomerProblems", EXAMPLES["CustomerProblems"], tokens["agent"])
    assert problems["openProblems"] == []
    retried = await run(api, "RetryPaymentCapture", EXAMPLES["RetryPaymentCapture"],
                        tokens["agent"])
    # nothing has shipped: there is nothing to capture yet
    assert [e["code"] for e in retried["userErrors"]] == ["INVALID_INPUT"]
